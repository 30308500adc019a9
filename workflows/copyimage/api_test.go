package copyimage

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"

	"github.com/imscopy/imscopy/activities"
	"github.com/imscopy/imscopy/internal/testkit"
)

// snakeInput is validInput as docs/api.md spells it.
const snakeInput = `{"region": "cn-north-4", "source_image_id": "` + sourceID + `", "name": "golden-copy", "cmk_id": "` + kmsKey + `"}`

// legacyInput is validInput as a worker of the version before the JSON keys recorded it.
const legacyInput = `{"Region":"cn-north-4","SourceImageID":"` + sourceID + `","Name":"golden-copy","Description":"",` +
	`"CMKID":"` + kmsKey + `","EnterpriseProjectID":"","KeepFailedImages":false}`

// The copy started from JSON, as Python, TypeScript or the CLI start it, runs as the Go caller's
// copy does: cmk_id reaches IMS (an encrypted copy) and the key is checked on the result.
func TestJSONInputIsTheGoCallersInput(t *testing.T) {
	for name, js := range map[string]string{"documented keys": snakeInput, "legacy Go names": legacyInput} {
		t.Run(name, func(t *testing.T) {
			env := newEnv(t)
			env.OnActivity(a.SubmitCopy, mock.Anything, activities.SubmitCopyInput{Region: "cn-north-4", Request: validInput().CopyRequest()}).
				Return(submitted(), nil).Once()
			env.OnActivity(a.PollJob, mock.Anything, pollInput()).Return(pollDone(), nil).Once()
			env.OnActivity(a.VerifyImage, mock.Anything, verifyInput()).Return(nil).Once()
			forbid(env, a.CleanupCopy)

			env.ExecuteWorkflow(WorkflowName, testkit.JSONPayload(js))

			require.NoError(t, env.GetWorkflowError())
			var res map[string]any
			require.NoError(t, env.GetWorkflowResult(&res))
			assert.Equal(t, imageID, res["image_id"])
			assert.Equal(t, jobID, res["job_id"])
			assert.Equal(t, false, res["adopted"])
			assert.NotContains(t, res, "adopted_from", "only an adopted image says where it came from")
		})
	}
}

// Input that another language got wrong fails as InvalidInput naming what is wrong, before any
// activity: never a silently dropped key, never the SDK's decoding error.
func TestJSONInputThatIsWrongFailsAsInvalidInput(t *testing.T) {
	nilPayload := converter.NewRawValue(&commonpb.Payload{
		Metadata: map[string][]byte{converter.MetadataEncoding: []byte(converter.MetadataEncodingNil)}})
	bytesPayload := converter.NewRawValue(&commonpb.Payload{
		Metadata: map[string][]byte{converter.MetadataEncoding: []byte(converter.MetadataEncodingBinary)}, Data: []byte("x")})
	misspelt := func(key string) converter.RawValue {
		return testkit.JSONPayload(strings.Replace(snakeInput, `"cmk_id"`, `"`+key+`"`, 1))
	}
	for name, c := range map[string]struct {
		payload converter.RawValue
		says    []string
	}{
		"cmkid":              {misspelt("cmkid"), []string{`unknown key "cmkid"`, `did you mean "cmk_id"?`}},
		"cmk-id":             {misspelt("cmk-id"), []string{`unknown key "cmk-id"`, `did you mean "cmk_id"?`}},
		"kms_key":            {misspelt("kms_key"), []string{`unknown key "kms_key"`}},
		"camelCase":          {misspelt("cmkId"), []string{`unknown key "cmkId"`, `did you mean "cmk_id"?`}},
		"given twice":        {testkit.JSONPayload(`{"cmk_id":"k","CMKID":"k"}`), []string{`"cmk_id" and under its legacy name "CMKID"`}},
		"a list":             {testkit.JSONPayload(`[` + snakeInput + `]`), []string{"must be an object, not a JSON array"}},
		"a string":           {testkit.JSONPayload(`"` + sourceID + `"`), []string{"must be an object, not a JSON string"}},
		"a number for a key": {testkit.JSONPayload(`{"region": 4}`), []string{"region must be a string, not a JSON number"}},
		"a string for bool":  {testkit.JSONPayload(`{"keep_failed_images": "yes"}`), []string{"keep_failed_images must be true or false"}},
		"null":               {testkit.JSONPayload(`null`), []string{"the input is null"}},
		"no input":           {nilPayload, []string{"input is missing"}},
		"binary":             {bytesPayload, []string{`encoded as "binary/plain"`}},
		"empty object":       {testkit.JSONPayload(`{}`), []string{"region"}},
	} {
		t.Run(name, func(t *testing.T) {
			env := newEnv(t)
			forbid(env, a.SubmitCopy, a.PollJob, a.VerifyImage, a.CleanupCopy)
			starts := countStarts(env)

			env.ExecuteWorkflow(WorkflowName, c.payload)

			app := testkit.AppError(t, env.GetWorkflowError())
			assert.Equal(t, activities.ErrInvalidInput, app.Type())
			assert.True(t, app.NonRetryable())
			for _, s := range c.says {
				assert.Contains(t, app.Error(), s)
			}
			assert.Empty(t, starts.n, "no activity may run for bad input")
			v, err := env.QueryWorkflow(ProgressQuery)
			require.NoError(t, err)
			var p map[string]any
			require.NoError(t, v.Get(&p))
			assert.Equal(t, PhaseFailed, p["phase"])
			assert.Contains(t, p["last_error"], c.says[0])
		})
	}
}

// The documented keys of every type a client reads, in the order docs/api.md lists them. A key
// renamed here breaks every client outside Go: change docs/api.md, and think twice.
func TestJSONKeysAreTheDocumentedOnes(t *testing.T) {
	keys := func(v any) []string {
		data, err := json.Marshal(v)
		require.NoError(t, err)
		var m map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(data, &m))
		var out []string
		for k := range m {
			out = append(out, k)
		}
		return out
	}
	full := Input{Region: "r", SourceImageID: "s", Name: "n", Description: "d", CMKID: "k", EnterpriseProjectID: "e",
		KeepFailedImages: true, TargetRegion: "t", AgencyName: "a"}
	assert.ElementsMatch(t, []string{"region", "source_image_id", "name", "description", "cmk_id", "enterprise_project_id",
		"keep_failed_images", "target_region", "agency_name"}, keys(full))
	assert.ElementsMatch(t, []string{"region", "source_image_id", "name"}, keys(Input{}), "optional keys are left out when empty")
	assert.ElementsMatch(t, []string{"image_id", "job_id", "adopted", "adopted_from", "image_created_at", "phases"},
		keys(Result{AdoptedFrom: AdoptedFromThisCopy, ImageCreatedAt: "2026-11-26T06:00:00Z"}))
	assert.ElementsMatch(t, []string{"phase", "seconds"}, keys(PhaseTime{}))
	assert.ElementsMatch(t, []string{"phase", "percent", "job_id", "image_id", "polls", "last_error", "started_at",
		"phase_started_at"}, keys(Progress{}))
}

func TestPhaseTimeIsInSeconds(t *testing.T) {
	data, err := json.Marshal(PhaseTime{Phase: PhasePolling, Duration: 1500 * time.Millisecond})
	require.NoError(t, err)
	assert.JSONEq(t, `{"phase":"polling","seconds":1.5}`, string(data))
	var p PhaseTime
	require.NoError(t, json.Unmarshal(data, &p))
	assert.Equal(t, PhaseTime{Phase: PhasePolling, Duration: 1500 * time.Millisecond}, p)
}

// A result or progress written by a worker of the version before the JSON keys (a promotion
// reads the result of a copy finished before a deploy) reads the same.
func TestLegacyResultAndProgressRead(t *testing.T) {
	var res Result
	require.NoError(t, json.Unmarshal([]byte(`{"ImageID":"i","JobID":"j","Adopted":false,`+
		`"Phases":[{"Phase":"validating","Duration":0},{"Phase":"polling","Duration":300000000000}]}`), &res))
	assert.Equal(t, Result{ImageID: "i", JobID: "j",
		Phases: []PhaseTime{{Phase: PhaseValidating}, {Phase: PhasePolling, Duration: 5 * time.Minute}}}, res)

	at := time.Date(2026, 11, 26, 6, 0, 0, 0, time.UTC)
	var p Progress
	require.NoError(t, json.Unmarshal([]byte(`{"Phase":"polling","Percent":0,"JobID":"j","ImageID":"","Polls":0,`+
		`"LastError":"","StartedAt":"2026-11-26T06:00:00Z","PhaseStartedAt":"2026-11-26T06:00:30Z"}`), &p))
	assert.Equal(t, Progress{Phase: PhasePolling, JobID: "j", StartedAt: at, PhaseStartedAt: at.Add(30 * time.Second)}, p)
}

// An adopted image's result says so, which copy made it and when; its job_id is empty (IMS cannot
// find a job from its image).
func TestAdoptedResultSaysWhereItCameFrom(t *testing.T) {
	for name, c := range map[string]struct {
		sub  activities.SubmitCopyResult
		from string
	}{
		"this copy's lost answer": {activities.SubmitCopyResult{ImageID: imageID, Adopted: true, AdoptedStatus: "saving",
			AdoptedFrom: activities.AdoptedFromThisCopy, AdoptedCreatedAt: "2026-11-26T06:00:05Z"}, AdoptedFromThisCopy},
		"an earlier copy": {activities.SubmitCopyResult{ImageID: imageID, Adopted: true, AdoptedStatus: "active",
			AdoptedFrom: activities.AdoptedFromEarlierCopy, AdoptedCreatedAt: "2026-11-25T06:00:05Z"}, AdoptedFromEarlierCopy},
		"an older worker's adoption": {activities.SubmitCopyResult{ImageID: imageID, Adopted: true, AdoptedStatus: "active"},
			AdoptedFromUnknown},
	} {
		t.Run(name, func(t *testing.T) {
			env := newEnv(t)
			env.OnActivity(a.SubmitCopy, mock.Anything, mock.Anything).Return(c.sub, nil).Once()
			env.OnActivity(a.PollJob, mock.Anything, mock.Anything).
				Return(activities.PollJobResult{ImageID: imageID, Status: "active", Polls: 1}, nil).Once()
			env.OnActivity(a.VerifyImage, mock.Anything, mock.Anything).Return(nil).Once()

			env.ExecuteWorkflow(WorkflowName, testkit.JSONPayload(snakeInput))

			require.NoError(t, env.GetWorkflowError())
			var res map[string]any
			require.NoError(t, env.GetWorkflowResult(&res))
			assert.Equal(t, true, res["adopted"])
			assert.Equal(t, "", res["job_id"], "job_id is present and empty")
			assert.Equal(t, c.from, res["adopted_from"])
			if c.sub.AdoptedCreatedAt != "" {
				assert.Equal(t, c.sub.AdoptedCreatedAt, res["image_created_at"])
			}
		})
	}
}

// FuzzDecodeInput: any bytes give an Input or an error, never a panic; an error says what is
// wrong, and an Input holds every non-empty value its JSON gave (no key silently dropped), and
// reads back the same from its own JSON.
func FuzzDecodeInput(f *testing.F) {
	for _, seed := range []string{snakeInput, legacyInput, `{"cmkid":"k"}`, `{"cmk-id":"k"}`, `[]`, `null`, ``, `{`,
		`{"region":4}`, `{"keep_failed_images":"yes"}`, `{"cmk_id":"k","CMKID":"l"}`, `{"target_region":"cn-east-3","agency_name":"a"}`,
		`{} {}`, `{"Region":"r","region":"s"}`, `{"REGION":"r"}`, `"x"`, `{"name":null}`, `{"description":"\u00e9"}`} {
		f.Add([]byte(seed))
	}
	known := jsonKeys(reflect.TypeFor[Input]())
	f.Fuzz(func(t *testing.T, data []byte) {
		in, err := DecodeInput(data)
		if err != nil {
			msg := err.Error()
			require.True(t, strings.HasPrefix(msg, "the copy's input") || strings.HasPrefix(msg, "the input is null"), msg)
			require.Greater(t, len(msg), len("the copy's input: "), "an error says what is wrong")
			assert.Equal(t, Input{}, in)
			return
		}
		var given map[string]any
		require.NoError(t, json.Unmarshal(data, &given), "a decoded input is one JSON object")
		for key, v := range given {
			field, ok := known[strings.ToLower(key)]
			if !ok {
				field, ok = known[strings.ToLower(legacyKey(key))]
			}
			require.True(t, ok, "key %q was taken but is no field", key)
			if v == nil || v == "" || v == false {
				continue
			}
			assert.False(t, reflect.ValueOf(in).FieldByName(field).IsZero(), "key %q's value %v was dropped", key, v)
		}
		data2, err := json.Marshal(in)
		require.NoError(t, err)
		again, err := DecodeInput(data2)
		require.NoError(t, err)
		assert.Equal(t, in, again)
	})
}

// jsonKeys maps each JSON key of t, lowered, to its Go field name.
func jsonKeys(t reflect.Type) map[string]string {
	keys := map[string]string{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		keys[strings.ToLower(name)] = f.Name
	}
	return keys
}

// legacyKey is the JSON key of the field whose Go name is goName exactly, or goName.
func legacyKey(goName string) string {
	if f, ok := reflect.TypeFor[Input]().FieldByName(goName); ok {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		return name
	}
	return goName
}
