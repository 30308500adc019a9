package integration

import (
	"context"
	"encoding/json"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/imscopy/imscopy/activities"
	"github.com/imscopy/imscopy/imsapi/imsemu"
	"github.com/imscopy/imscopy/workflows/copyimage"
)

// percentLine finds the percent of a plain progress line of the polling phase.
var percentLine = regexp.MustCompile(`(\d+)% polling`)

// The workflow hears nothing from PollJob until the job ends, so that its history does not grow
// with the job; users still see the job's percent, read by the starter from PollJob's heartbeat
// on the server. `starter copy --wait` and `starter status` (text and --json) of a running copy
// both show a percent the workflow itself does not know.
func TestStarterShowsTheJobsPercentFromTheHeartbeat(t *testing.T) {
	t.Parallel()
	// A job long enough that it is still copying when the checks end on a busy machine; the cancel
	// at the end stops the test without waiting for it.
	r := newRig(t, sharedTemporal(t), 5*time.Minute, imsemu.Faults{})
	// Heartbeats reach the server every POLL_HEARTBEAT (2 s) instead of every 10 s.
	r.startWorker("WORKER_HEARTBEAT_THROTTLE_MAX=2s")
	c := r.client()
	in := r.input("itest-status")
	env := []string{"TEMPORAL_ADDRESS=" + r.temporal, "TEMPORAL_TASK_QUEUE=" + r.taskQueue}

	// --keep-failed: the cancel that ends the test need not wait for the job to stop to delete its image.
	waiting := startProc(t, "starter", env, "copy", "--image", in.SourceImageID, "--name", in.Name,
		"--description", in.Description, "--cmk-id", in.CMKID, "--region", in.Region, "--keep-failed", "--wait")
	for {
		m := percentLine.FindStringSubmatch(waiting.waitLine("% polling"))
		require.NotNil(t, m)
		if pct, _ := strconv.Atoi(m[1]); pct > 0 {
			assert.Less(t, pct, 100)
			break
		}
	}

	id := copyimage.WorkflowID(in)
	hb := r.waitPollJob(c, id, func(hb activities.PollHeartbeat) bool { return hb.Status == "RUNNING" && hb.Percent > 0 })
	asked := r.waitProgress(c, id, func(p copyimage.Progress) bool { return p.Phase == copyimage.PhasePolling })
	assert.Zero(t, asked.Percent, "the workflow does not know the percent while the job copies")
	assert.Zero(t, asked.Polls)

	status := func(args ...string) string {
		cmd := exec.Command(binaries(t)+"/starter", append([]string{"status"}, args...)...)
		cmd.Env = append(cmd.Environ(), env...)
		out, err := cmd.Output()
		require.NoError(t, err, "starter status: %s", out)
		for _, secret := range []string{testAK, testSK} {
			require.NotContains(t, string(out), secret)
		}
		return string(out)
	}

	var got struct {
		Status  string
		Phase   string
		Percent float64
		JobID   string
		ImageID string
		Polls   int
		Poll    *struct {
			JobStatus   string
			NextPollAt  time.Time
			Attempt     int32
			LastFailure string
		}
	}
	asJSON := status("--json", id)
	t.Logf("status --json:\n%s", asJSON)
	require.NoError(t, json.Unmarshal([]byte(asJSON), &got))
	assert.Equal(t, "Running", got.Status)
	assert.Equal(t, copyimage.PhasePolling, got.Phase)
	assert.GreaterOrEqual(t, got.Percent, hb.Percent, "at least what the heartbeat said a moment before")
	assert.Less(t, got.Percent, 1.0)
	assert.GreaterOrEqual(t, got.Polls, hb.Polls)
	assert.Equal(t, asked.JobID, got.JobID)
	require.Len(t, r.liveImages(in.Name), 1)
	assert.Equal(t, r.liveImages(in.Name)[0].ID, got.ImageID, "the image the job names, before the workflow knows it")
	require.NotNil(t, got.Poll)
	assert.Equal(t, "RUNNING", got.Poll.JobStatus)
	assert.Equal(t, int32(1), got.Poll.Attempt)
	assert.Empty(t, got.Poll.LastFailure)
	assert.False(t, got.Poll.NextPollAt.IsZero())

	text := status(id)
	m := percentLine.FindStringSubmatch(text)
	require.NotNil(t, m, text)
	pct, _ := strconv.Atoi(m[1])
	assert.Positive(t, pct, text)
	assert.Contains(t, text, id+": Running")
	assert.Contains(t, text, "job "+got.JobID+" RUNNING")
	assert.Contains(t, text, "image "+got.ImageID)
	t.Logf("status:\n%s", text)

	// Cancelling ends the test early; the waiting starter reports it and exits 1.
	require.NoError(t, c.CancelWorkflow(context.Background(), id, ""))
	_, err := result(t, c.GetWorkflow(context.Background(), id, ""))
	assert.True(t, temporal.IsCanceledError(err), "want a cancellation, got %v", err)
	assert.Equal(t, 1, waiting.exitCode())
	assert.Contains(t, waiting.Output(), "copy failed (Canceled)")
	t.Logf("copy --wait:\n%s", waiting.Output())

	// After the cancel, status keeps the percent the job had reached, not 0 %.
	cmd := exec.Command(binaries(t)+"/starter", "status", "--json", id)
	cmd.Env = append(cmd.Environ(), env...)
	out, err := cmd.Output()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "status of a cancelled copy exits non-zero: %s", out)
	assert.Equal(t, 4, exit.ExitCode(), "status's exit code for a cancelled copy")
	var ended struct {
		Status  string
		Percent float64
	}
	require.NoError(t, json.Unmarshal(out, &ended), "%s", out)
	assert.Equal(t, "Canceled", ended.Status)
	assert.GreaterOrEqual(t, ended.Percent, got.Percent, "at least what status showed while the job copied")
	assert.Less(t, ended.Percent, 1.0)
}

// A copy whose job IMS fails keeps the percent the job reached: `copy --wait`, `status` and
// `status --json` after the end show it, not 0 %. The server drops PollJob's heartbeat when it
// ends; PollJob's failure carries the percent of IMS's answer that the job failed.
func TestStarterKeepsAFailedJobsPercent(t *testing.T) {
	t.Parallel()
	// Long enough that PollJob reads the job copying before IMS fails it part-way.
	r := newRig(t, sharedTemporal(t), 40*time.Second, imsemu.Faults{JobFailureRate: 1})
	r.startWorker("WORKER_HEARTBEAT_THROTTLE_MAX=2s")
	c := r.client()
	in := r.input("itest-failed-percent")
	env := []string{"TEMPORAL_ADDRESS=" + r.temporal, "TEMPORAL_TASK_QUEUE=" + r.taskQueue}
	waiting := startProc(t, "starter", env, "copy", "--image", in.SourceImageID, "--name", in.Name,
		"--description", in.Description, "--cmk-id", in.CMKID, "--region", in.Region, "--wait")
	waiting.waitLine("started copy workflow")

	id := copyimage.WorkflowID(in)
	seen := r.waitPollJob(c, id, func(hb activities.PollHeartbeat) bool { return hb.Status == "RUNNING" && hb.Percent > 0 })
	_, err := result(t, c.GetWorkflow(context.Background(), id, ""))
	var app *temporal.ApplicationError
	require.ErrorAs(t, err, &app)
	require.Equal(t, activities.ErrCopyFailed, app.Type())
	assert.Equal(t, 1, waiting.exitCode())
	jobs := r.jobsNamed(in.Name)
	require.Len(t, jobs, 1)
	failedAt := jobs[0].Percent
	t.Logf("the job failed at %.2f; PollJob's heartbeat said %.2f; copy --wait:\n%s", failedAt, seen.Percent, waiting.Output())

	status := func(args ...string) string {
		cmd := exec.Command(binaries(t)+"/starter", append([]string{"status"}, args...)...)
		cmd.Env = append(cmd.Environ(), env...)
		out, err := cmd.Output()
		var exit *exec.ExitError
		require.ErrorAs(t, err, &exit, "status of a failed copy exits non-zero: %s", out)
		assert.Equal(t, 3, exit.ExitCode(), "status's exit code for a failed copy")
		return string(out)
	}
	var got struct {
		Status  string
		Phase   string
		Percent float64
	}
	asJSON := status("--json", id)
	require.NoError(t, json.Unmarshal([]byte(asJSON), &got), asJSON)
	assert.Equal(t, "Failed", got.Status)
	assert.Equal(t, copyimage.PhaseFailed, got.Phase)
	assert.GreaterOrEqual(t, got.Percent, seen.Percent, "at least what the heartbeat said while the job copied")
	assert.Equal(t, failedAt, got.Percent, "the percent of IMS's answer that the job failed")

	pct := int(got.Percent*100 + 0.5)
	require.Positive(t, pct)
	text := status(id)
	assert.Contains(t, text, strconv.Itoa(pct)+"% failed", text)
	assert.Contains(t, waiting.Output(), "copy failed (CopyFailed) at "+strconv.Itoa(pct)+"%: ")
	assert.NotContains(t, waiting.Output(), "  0% failed", "the live line does not drop to 0")
}
