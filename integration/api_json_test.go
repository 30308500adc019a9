package integration

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/imscopy/imscopy/activities"
	"github.com/imscopy/imscopy/imsapi/imsemu"
	"github.com/imscopy/imscopy/internal/testkit"
	"github.com/imscopy/imscopy/workflows/copyimage"
)

// startJSON starts CopyImage by its name with a raw JSON input, on the rig's task queue.
func (r *rig) startJSON(c client.Client, id, js string) client.WorkflowRun {
	r.t.Helper()
	run, err := c.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{ID: id, TaskQueue: r.taskQueue},
		copyimage.WorkflowName, testkit.JSONPayload(js))
	require.NoError(r.t, err)
	return run
}

// keysOf decodes a JSON object into a map: what a client without imscopy's types sees.
func keysOf(t *testing.T, data []byte) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(data, &m), "%s", data)
	return m
}

// The workflow API as docs/api.md documents it, used as Python, TypeScript or the CLI use it:
// snake_case input (cmk_id honoured: the copy is encrypted), the progress query, PollJob's
// heartbeat and the result read by their documented keys; a misspelt key refused before any
// activity runs.
func TestWorkflowAPIFromRawJSON(t *testing.T) {
	r := newRig(t, sharedTemporal(t), 30*time.Second, imsemu.Faults{})
	r.startWorker()
	c := r.client()
	home := imsemu.DefaultRegions[0].Name
	const name = "itest-json-encrypted"
	id := "copy/" + home + "/" + imsemu.SeedImageID + "/" + name
	run := r.startJSON(c, id, `{"region": "`+home+`", "source_image_id": "`+imsemu.SeedImageID+`", "name": "`+name+`",
		"description": "from JSON", "cmk_id": "`+imsemu.SeedKMSKeyID+`"}`)

	// While the job copies, the live percent is in PollJob's heartbeat, by its documented keys.
	var beat map[string]any
	deadline := time.Now().Add(3 * time.Minute)
	for beat == nil && time.Now().Before(deadline) {
		desc, err := c.DescribeWorkflowExecution(context.Background(), id, "")
		require.NoError(t, err)
		for _, a := range desc.GetPendingActivities() {
			if p := a.GetHeartbeatDetails().GetPayloads(); a.GetActivityType().GetName() == activities.NamePollJob && len(p) > 0 {
				if m := keysOf(t, p[0].GetData()); m["polls"].(float64) > 0 {
					beat = m
				}
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	require.NotNil(t, beat, "PollJob never heartbeated after a status call")
	for _, key := range []string{"status", "percent", "image_id", "polls", "next_poll_at", "wait_seconds"} {
		assert.Contains(t, beat, key)
	}
	assert.GreaterOrEqual(t, beat["percent"], 0.0)
	assert.LessOrEqual(t, beat["percent"], 1.0, "percent is a fraction")
	_, err := time.Parse(time.RFC3339, beat["next_poll_at"].(string))
	assert.NoError(t, err, "times are RFC 3339")

	v, err := c.QueryWorkflow(context.Background(), id, "", copyimage.ProgressQuery)
	require.NoError(t, err)
	var raw json.RawMessage
	require.NoError(t, v.Get(&raw))
	progress := keysOf(t, raw)
	assert.Equal(t, copyimage.PhasePolling, progress["phase"])
	assert.NotEmpty(t, progress["job_id"])
	for _, key := range []string{"percent", "image_id", "polls", "last_error", "started_at", "phase_started_at"} {
		assert.Contains(t, progress, key)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	require.NoError(t, run.Get(ctx, &raw))
	res := keysOf(t, raw)
	assert.Equal(t, false, res["adopted"])
	assert.NotEmpty(t, res["job_id"])
	images := r.liveImages(name)
	require.Len(t, images, 1)
	assert.Equal(t, images[0].ID, res["image_id"])
	assert.Equal(t, imsemu.SeedKMSKeyID, images[0].CMKID, "cmk_id was honoured: the copy is encrypted")
	phases, ok := res["phases"].([]any)
	require.True(t, ok, "phases is a list: %v", res["phases"])
	require.NotEmpty(t, phases)
	for _, p := range phases {
		assert.Contains(t, p, "phase")
		assert.Contains(t, p, "seconds")
	}

	// The same copy with cmk_id misspelt must not become an unencrypted copy: it fails at once.
	const misspelt = "itest-json-misspelt"
	bad := r.startJSON(c, "copy/"+home+"/"+imsemu.SeedImageID+"/"+misspelt, `{"region": "`+home+`",
		"source_image_id": "`+imsemu.SeedImageID+`", "name": "`+misspelt+`", "cmkid": "`+imsemu.SeedKMSKeyID+`"}`)
	err = bad.Get(ctx, nil)
	app := testkit.AppError(t, err)
	assert.Equal(t, activities.ErrInvalidInput, app.Type())
	assert.Contains(t, app.Error(), `unknown key "cmkid" (did you mean "cmk_id"?)`)
	assert.Empty(t, activityRuns(historyEvents(t, c, bad)), "no activity ran")
	assert.Empty(t, r.allImages(misspelt), "nothing was copied")
}

// failureDetails is the first detail of a closed workflow's failure as another language's client
// reads it from the history: the raw JSON of application_failure_info.details.payloads[0].
func failureDetails(t *testing.T, c client.Client, run client.WorkflowRun) map[string]any {
	t.Helper()
	events := historyEvents(t, c, run)
	failed := events[len(events)-1].GetWorkflowExecutionFailedEventAttributes()
	require.NotNil(t, failed, "the workflow failed: %v", events[len(events)-1])
	payloads := failed.GetFailure().GetApplicationFailureInfo().GetDetails().GetPayloads()
	require.NotEmpty(t, payloads, "the failure carries a detail: %v", failed.GetFailure())
	return keysOf(t, payloads[0].GetData())
}

// A failure's details, as docs/api.md documents them, read from raw JSON as Python, TypeScript or
// the CLI read them: a job IMS fails (CopyFailed) and a broken rule (InvalidInput) name what went
// wrong under snake_case keys, never Go's field names.
func TestWorkflowAPIFailureDetailsFromRawJSON(t *testing.T) {
	r := newRig(t, sharedTemporal(t), 4*time.Second, imsemu.Faults{JobFailureRate: 1})
	r.startWorker()
	c := r.client()
	home := imsemu.DefaultRegions[0].Name
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	const name = "itest-json-job-fails"
	run := r.startJSON(c, "copy/"+home+"/"+imsemu.SeedImageID+"/"+name,
		`{"region": "`+home+`", "source_image_id": "`+imsemu.SeedImageID+`", "name": "`+name+`"}`)
	app := testkit.AppError(t, run.Get(ctx, nil))
	require.Equal(t, activities.ErrCopyFailed, app.Type())
	details := failureDetails(t, c, run)
	jobs := r.jobsNamed(name)
	require.Len(t, jobs, 1)
	assert.Equal(t, jobs[0].ID, details["job_id"])
	assert.Equal(t, jobs[0].ImageID, details["image_id"])
	assert.NotEmpty(t, details["error_code"])
	assert.NotEmpty(t, details["fail_reason"])
	for key := range details {
		assert.Regexp(t, `^[a-z_]+$`, key, "a documented snake_case key, not a Go field name")
	}

	const bad = "bad/slash"
	run = r.startJSON(c, "copy/"+home+"/"+imsemu.SeedImageID+"/bad-slash",
		`{"region": "`+home+`", "source_image_id": "`+imsemu.SeedImageID+`", "name": "`+bad+`"}`)
	require.ErrorAs(t, run.Get(ctx, nil), &app)
	require.Equal(t, activities.ErrInvalidInput, app.Type())
	details = failureDetails(t, c, run)
	assert.Equal(t, "name", details["field"])
	assert.Equal(t, bad, details["value"])
	assert.NotEmpty(t, details["rule"])
	assert.Len(t, details, 3, "field, rule and value: %v", details)
}
