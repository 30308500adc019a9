package activities

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/imscopy/imscopy/activities/activityapi"
	"github.com/imscopy/imscopy/imsapi"
)

// failureDetailJSON is an error's first detail as the server stores it and another language's
// client reads it: the JSON of the failure's application_failure_info.details.payloads[0].
func failureDetailJSON(t *testing.T, err error) string {
	t.Helper()
	f := temporal.GetDefaultFailureConverter().ErrorToFailure(err)
	payloads := f.GetApplicationFailureInfo().GetDetails().GetPayloads()
	require.NotEmpty(t, payloads, "the failure carries a detail: %v", f)
	return string(payloads[0].GetData())
}

// The failures' details are read by other languages' clients (docs/api.md, Failures): each is
// written with its documented snake_case keys.
func TestFailureDetailsHaveTheDocumentedKeys(t *testing.T) {
	at := time.Date(2026, 11, 26, 6, 0, 1, 0, time.UTC)
	ims := &imsapi.Error{Op: "CopyImageInRegion", Status: 403, Code: "IMG.0010", Message: "no right", RequestID: "req-1",
		Class: imsapi.ClassForbidden}
	for name, c := range map[string]struct {
		err  error
		want string
	}{
		"CopyFailed": {copyFailed(CopyFailure{JobID: "job", ImageID: "img", ErrorCode: "IMG.0001", FailReason: "disk"}),
			`{"job_id":"job","image_id":"img","error_code":"IMG.0001","fail_reason":"disk"}`},
		"CopyFailed, reason lost": {copyFailed(CopyFailure{ImageID: "img", ReasonLost: true}),
			`{"job_id":"","image_id":"img","error_code":"","fail_reason":"","reason_lost":true}`},
		"IMS*": {fromIMS(ims), `{"op":"CopyImageInRegion","status":403,"code":"IMG.0010","class":"forbidden","request_id":"req-1"}`},
		"SubmitCopy's": {submitFailed(fromIMS(ims), at),
			`{"op":"CopyImageInRegion","status":403,"code":"IMG.0010","class":"forbidden","request_id":"req-1","post_at":"2026-11-26T06:00:01Z"}`},
		"ShareFailed": {shareFailed("job", &CopyFailure{ErrorCode: "IMG.0002", FailReason: "quota"},
			[]imsapi.MemberResult{{ImageID: "img", ProjectID: "p", Status: "failed"}}),
			`{"job_id":"job","error_code":"IMG.0002","fail_reason":"quota","failed_pairs":[{"image_id":"img","project_id":"p","status":"failed"}]}`},
		"InvalidInput": {invalidInput(&imsapi.ValidationError{Field: "name", Rule: "is too long", Value: "x"}), ""},
	} {
		t.Run(name, func(t *testing.T) {
			if c.want == "" {
				// invalidInput carries no detail; the workflows' InvalidInput does (failures.InvalidInput).
				data, err := json.Marshal(imsapi.ValidationError{Field: "name", Rule: "is too long", Value: "x"})
				require.NoError(t, err)
				assert.JSONEq(t, `{"field":"name","rule":"is too long","value":"x"}`, string(data))
				return
			}
			assert.JSONEq(t, c.want, failureDetailJSON(t, c.err))
		})
	}
}

// Failures recorded before the keys existed carry the Go field names: they still read, so that
// histories replay (the workflow decides its clean-up from them) and a promotion reads an older
// copy's failure.
func TestFailureDetailsOfAnOlderWorkerAreRead(t *testing.T) {
	var cf CopyFailure
	require.NoError(t, json.Unmarshal([]byte(`{"JobID":"job","ImageID":"img","ErrorCode":"IMG.0001","FailReason":"disk","ReasonLost":true}`), &cf))
	assert.Equal(t, CopyFailure{JobID: "job", ImageID: "img", ErrorCode: "IMG.0001", FailReason: "disk", ReasonLost: true}, cf)

	wantIMS := IMSFailure{Op: "op", Status: 503, Code: "c", Class: "transient", RequestID: "req"}
	legacySubmit := `{"Op":"op","Status":503,"Code":"c","Class":"transient","RequestID":"req","PostAt":"2026-11-26T06:00:01Z"}`
	var sf SubmitFailure
	require.NoError(t, json.Unmarshal([]byte(legacySubmit), &sf))
	assert.Equal(t, SubmitFailure{IMSFailure: wantIMS, PostAt: time.Date(2026, 11, 26, 6, 0, 1, 0, time.UTC)}, sf)
	// A SubmitFailure reads as an IMSFailure, in either form.
	for _, js := range []string{legacySubmit, `{"op":"op","status":503,"code":"c","class":"transient","request_id":"req","post_at":"2026-11-26T06:00:01Z"}`} {
		var f IMSFailure
		require.NoError(t, json.Unmarshal([]byte(js), &f))
		assert.Equal(t, wantIMS, f, js)
	}

	var sh ShareFailure
	require.NoError(t, json.Unmarshal([]byte(`{"JobID":"job","ErrorCode":"e","FailReason":"r",
		"FailedPairs":[{"ImageID":"img","ProjectID":"p","Status":"failed"}]}`), &sh))
	assert.Equal(t, ShareFailure{JobID: "job", ErrorCode: "e", FailReason: "r",
		FailedPairs: []imsapi.MemberResult{{ImageID: "img", ProjectID: "p", Status: "failed"}}}, sh)

	var v imsapi.ValidationError
	require.NoError(t, json.Unmarshal([]byte(`{"Field":"name","Rule":"is too long","Value":"x"}`), &v))
	assert.Equal(t, imsapi.ValidationError{Field: "name", Rule: "is too long", Value: "x"}, v)

	// Both forms at once is ambiguous: refused rather than one picked.
	assert.Error(t, json.Unmarshal([]byte(`{"job_id":"a","JobID":"b"}`), &cf))
}

// Every form reads back what was written.
func TestFailureDetailsRoundTrip(t *testing.T) {
	sf := SubmitFailure{IMSFailure: IMSFailure{Op: "op", Status: 1, Code: "c", Class: "k", RequestID: "r"},
		PostAt: time.Date(2026, 11, 26, 6, 0, 1, 0, time.UTC)}
	data, err := json.Marshal(sf)
	require.NoError(t, err)
	var back SubmitFailure
	require.NoError(t, json.Unmarshal(data, &back))
	assert.Equal(t, sf, back)
	got, ok := activityapi.SubmitFailureOf(submitFailed(fromIMS(&imsapi.Error{Op: "op", Status: 503, Class: imsapi.ClassTransient}), sf.PostAt))
	require.True(t, ok)
	assert.Equal(t, sf.PostAt, got.PostAt, "the workflow reads when a POST may have gone out")
}
