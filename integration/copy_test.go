package integration

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/imscopy/imscopy/activities"
	"github.com/imscopy/imscopy/imsapi/imsemu"
	"github.com/imscopy/imscopy/workflows"
)

// A worker dies by kill -9 while PollJob waits; a new worker finishes the copy. Exactly one image
// exists and IMS received exactly one copy request: the crash cost nothing but time.
func TestWorkerKilledMidPoll(t *testing.T) {
	t.Parallel()
	r := newRig(t, sharedTemporal(t), 15*time.Second, imsemu.Faults{})
	first := r.startWorker()
	c := r.client()
	in := r.input("itest-worker-killed")
	run := r.start(c, in)

	r.waitPollJob(c, run.GetID(), checkpointed)
	first.kill()
	r.startWorker()

	res, err := result(t, run)
	require.NoError(t, err)
	assert.Len(t, r.liveImages(in.Name), 1, "exactly one image of that name")
	assert.Len(t, r.allImages(in.Name), 1, "no second image was ever made")
	assert.Equal(t, res.ImageID, r.liveImages(in.Name)[0].ID)
	assert.Equal(t, 1, r.requests(imsemu.RouteCopyInRegion, -1), "the copy was POSTed once")
	r.assertNoSecrets(c, run.GetID())
}

// The dev-mode process hosts both the Temporal server and the worker; kill -9 takes both down.
// Started again on the same DATA_DIR, it finds the workflow in its SQLite file and completes it.
func TestDevModeProcessKilled(t *testing.T) {
	t.Parallel()
	addr := freeAddr(t)
	r := newRig(t, addr, 15*time.Second, imsemu.Faults{})
	devMode := []string{"TEMPORAL_ADDRESS=", "DEV_SERVER_ADDRESS=" + addr, "DATA_DIR=" + t.TempDir()}
	first := r.startWorker(devMode...)
	c := r.client()
	in := r.input("itest-devmode-killed")
	run := r.start(c, in)
	r.waitPollJob(c, run.GetID(), checkpointed)
	first.kill()

	r.startWorker(devMode...)
	c2 := r.client()
	res, err := result(t, c2.GetWorkflow(context.Background(), run.GetID(), ""))
	require.NoError(t, err)
	assert.Len(t, r.liveImages(in.Name), 1, "exactly one image of that name")
	assert.Len(t, r.allImages(in.Name), 1, "no second image was ever made")
	assert.Equal(t, res.ImageID, r.liveImages(in.Name)[0].ID)
	assert.Equal(t, 1, r.requests(imsemu.RouteCopyInRegion, -1), "the copy was POSTed once")
	r.assertNoSecrets(c2, run.GetID())
}

// IMS accepts the copy but the response is lost, and the new image shows in the list only after a
// delay (eventual consistency). SubmitCopy's retry must find and adopt it, not copy again.
func TestLostCopyResponse(t *testing.T) {
	t.Parallel()
	r := newRig(t, sharedTemporal(t), 5*time.Second, imsemu.Faults{
		Routes:          map[string]imsemu.RouteFault{imsemu.RouteCopyInRegion: {LostResponseRate: 1}},
		VisibilityDelay: 3 * time.Second,
	})
	r.startWorker()
	c := r.client()
	in := r.input("itest-lost-response")
	res, err := result(t, r.start(c, in))
	require.NoError(t, err)
	assert.True(t, res.Adopted, "the image of the lost response was adopted")
	assert.Len(t, r.allImages(in.Name), 1, "exactly one image, ever")
	assert.Equal(t, 1, r.requests(imsemu.RouteCopyInRegion, -1), "IMS saw one copy request")
	assert.Equal(t, "active", r.liveImages(in.Name)[0].Status)
}

// 20% of every IMS call fails with a 5xx and 10% is throttled: every copy still completes, once.
// Eight copies run at once, so that the faults surely hit (about 70 calls, 28% of them faulty).
func TestFaultsOnEveryRoute(t *testing.T) {
	t.Parallel()
	r := newRig(t, sharedTemporal(t), 5*time.Second, imsemu.Faults{
		Routes: map[string]imsemu.RouteFault{imsemu.RouteAll: {ErrorRate: 0.2, ErrorStatus: 503, ThrottleRate: 0.1}},
	})
	r.startWorker()
	c := r.client()
	var runs []client.WorkflowRun
	for i := range 8 {
		runs = append(runs, r.start(c, r.input(fmt.Sprintf("itest-faults-%d", i))))
	}
	for i, run := range runs {
		res, err := result(t, run)
		require.NoError(t, err)
		name := fmt.Sprintf("itest-faults-%d", i)
		assert.Len(t, r.allImages(name), 1, "exactly one image of %s, ever", name)
		assert.Equal(t, res.ImageID, r.liveImages(name)[0].ID)
	}
	t.Logf("requests by route and status: %+v", r.emu.Counts())
	assert.Positive(t, r.requests("", 503)+r.requests("", 429), "faults were injected")
	r.assertNoSecrets(c, runs[0].GetID())
}

// IMS fails the job: the workflow fails with IMS's code and reason, and the killed image is
// cleaned up.
func TestJobFailure(t *testing.T) {
	t.Parallel()
	r := newRig(t, sharedTemporal(t), 4*time.Second, imsemu.Faults{JobFailureRate: 1})
	r.startWorker()
	c := r.client()
	in := r.input("itest-job-fails")
	_, err := result(t, r.start(c, in))
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	assert.Equal(t, activities.ErrCopyFailed, appErr.Type())
	assert.Contains(t, err.Error(), "IMG.", "IMS's error code reaches the caller")
	assert.Empty(t, r.liveImages(in.Name), "the failed copy's image is cleaned up")
}

// Bad input never gets as far as IMS: the starter refuses it naming the field, starts nothing, and
// a workflow started directly with it fails at once, non-retryably, without calling IMS.
func TestBadInput(t *testing.T) {
	t.Parallel()
	r := newRig(t, sharedTemporal(t), 5*time.Second, imsemu.Faults{})
	c := r.client()
	starterEnv := []string{"TEMPORAL_ADDRESS=" + r.temporal, "TEMPORAL_TASK_QUEUE=" + r.taskQueue}

	cases := []struct {
		field string
		in    workflows.CopyInput
	}{
		{"name", func() workflows.CopyInput { in := r.input(" leading-space"); return in }()},
		{"name", func() workflows.CopyInput { in := r.input("bad/slash"); return in }()},
		{"description", func() workflows.CopyInput { in := r.input("ok-name"); in.Description = "<script>"; return in }()},
	}
	for _, tc := range cases {
		cmd := exec.Command(binaries(t)+"/starter", "copy", "--image", tc.in.SourceImageID, "--name", tc.in.Name,
			"--description", tc.in.Description, "--region", tc.in.Region)
		cmd.Env = append(cmd.Environ(), starterEnv...)
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		require.ErrorAs(t, err, &exit, "starter output: %s", out)
		assert.Equal(t, 2, exit.ExitCode(), "bad input exits 2; output: %s", out)
		assert.Contains(t, string(out), tc.field, "the message names the field")

		_, err = c.DescribeWorkflowExecution(context.Background(), workflows.CopyWorkflowID(tc.in), "")
		var notFound *serviceerror.NotFound
		assert.True(t, errors.As(err, &notFound), "no workflow was started for %q: %v", tc.in.Name, err)
	}

	// Straight to Temporal, past the starter's check: the workflow's own check refuses it.
	r.startWorker()
	run, err := c.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{TaskQueue: r.taskQueue},
		workflows.CopyImage, cases[0].in)
	require.NoError(t, err)
	_, err = result(t, run)
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	assert.Equal(t, activities.ErrInvalidInput, appErr.Type())
	assert.True(t, appErr.NonRetryable())
	assert.Contains(t, appErr.Error(), "name")

	assert.Zero(t, r.requests(imsemu.RouteCopyInRegion, -1), "IMS saw no copy request")
}
