package integration

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/imscopy/imscopy/activities"
	"github.com/imscopy/imscopy/imsapi/imsemu"
	"github.com/imscopy/imscopy/internal/testkit"
	"github.com/imscopy/imscopy/workflows/copyimage"
)

// A worker dies by kill -9 while PollJob waits; a new worker finishes the copy. The retry of
// PollJob resumes from the heartbeat the dead attempt left: its first heartbeat carries on the
// poll count and the wait's start instead of starting over, and so does its result.
func TestWorkerKilledMidPoll(t *testing.T) {
	t.Parallel()
	// A job that still copies when the worker dies, however busy the machine.
	r := newRig(t, sharedTemporal(t), 30*time.Second, imsemu.Faults{})
	// Heartbeats reach the server every POLL_HEARTBEAT (2 s), so the count read before the kill is recent.
	first := r.startWorker("WORKER_HEARTBEAT_THROTTLE_MAX=2s")
	c := r.client()
	in := r.input("itest-worker-killed")
	run := r.start(c, in)

	// Two polls made: what a retry that started over would lose.
	before := r.waitPollJob(c, run.GetID(), func(hb activities.PollHeartbeat) bool { return checkpointed(hb) && hb.Polls >= 2 })
	pending := pendingActivity(t, c, run.GetID(), activities.NamePollJob)
	require.NotNil(t, pending, "PollJob runs when the worker dies")
	require.Equal(t, int32(1), pending.GetAttempt())
	require.Equal(t, first.Pid(), pidOf(t, pending.GetLastWorkerIdentity()), "the worker killed runs PollJob")
	jobs := r.jobsNamed(in.Name)
	require.Len(t, jobs, 1)
	require.Contains(t, []string{"INIT", "RUNNING"}, jobs[0].Status, "the job still copies when the worker dies")
	first.Kill()

	// The retry starts once the server misses PollJob's heartbeat. Its first heartbeat is sent at
	// once; its first status call is held, so that the heartbeat can be read while the attempt runs.
	r.emu.SetFaults(imsemu.Faults{Routes: map[string]imsemu.RouteFault{imsemu.RouteShowJobProgress: {Latency: 10 * time.Second}}})
	second := r.startWorker()
	resumed := r.waitResumedPollJob(c, run.GetID())
	r.emu.SetFaults(imsemu.Faults{})
	assert.GreaterOrEqual(t, resumed.Polls, before.Polls, "the retry's first heartbeat carries on the count, not from 0")
	assert.True(t, resumed.WaitingSince.Equal(before.WaitingSince),
		"the retry carries on the wait that began before the kill (%v), not a new one (%v)", before.WaitingSince, resumed.WaitingSince)

	res, err := result(t, run)
	require.NoError(t, err)
	events := historyEvents(t, c, run)
	poll := activityRuns(events)[activities.NamePollJob]
	require.NotNil(t, poll)
	assert.Equal(t, int32(2), poll.attempt, "PollJob ended in its second attempt")
	assert.Equal(t, second.Pid(), pidOf(t, poll.identity), "the new worker finished PollJob")
	polled := pollJobResult(t, events)
	assert.Greater(t, polled.Polls, resumed.Polls, "the result counts the polls of both attempts")
	assert.Greater(t, polled.Polls, before.Polls)
	t.Logf("polls: %d before the kill, %d in the retry's first heartbeat, %d in the end", before.Polls, resumed.Polls, polled.Polls)

	assert.Len(t, r.liveImages(in.Name), 1, "exactly one image of that name")
	assert.Len(t, r.allImages(in.Name), 1, "no second image was ever made")
	assert.Equal(t, res.ImageID, r.liveImages(in.Name)[0].ID)
	// SubmitCopy ended before the kill; TestWorkerKilledMidSubmit kills a worker during it.
	assert.Equal(t, 1, r.requests(imsemu.RouteCopyInRegion, -1), "the copy was POSTed once")
	r.assertNoSecrets(c, run.GetID())
}

// waitResumedPollJob waits until a retry of the workflow's PollJob (attempt 2 or later) has sent a
// heartbeat of its own, and returns it. The bound only turns a hang into a failure.
func (r *rig) waitResumedPollJob(c client.Client, id string) activities.PollHeartbeat {
	r.t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		a := pendingActivity(r.t, c, id, activities.NamePollJob)
		if a != nil && a.GetAttempt() >= 2 && a.GetState() == enums.PENDING_ACTIVITY_STATE_STARTED &&
			a.GetLastHeartbeatTime() != nil && a.GetLastStartedTime() != nil &&
			!a.GetLastHeartbeatTime().AsTime().Before(a.GetLastStartedTime().AsTime()) {
			var hb activities.PollHeartbeat
			require.NoError(r.t, converter.GetDefaultDataConverter().FromPayloads(a.GetHeartbeatDetails(), &hb))
			return hb
		}
		time.Sleep(100 * time.Millisecond)
	}
	r.t.Fatalf("workflow %s: no retry of PollJob heartbeated", id)
	return activities.PollHeartbeat{}
}

// A worker dies by kill -9 during SubmitCopy, at the two moments that matter because IMS has no
// idempotency token, one per copy, both running on the worker killed: one copy's POST has been
// acted on by IMS but its answer has not reached the worker (a job exists that nobody knows of),
// the other's POST is in flight, waiting in the emulator's latency on the copy route (IMS never
// acts on it). SubmitCopy's retries on a new worker, once the attempts' start-to-close timeout
// (2 min) expires, make each copy exactly once: one adopts the image of the POST IMS acted on, the
// other POSTs again.
func TestWorkerKilledMidSubmit(t *testing.T) {
	t.Parallel()
	r := newRig(t, sharedTemporal(t), 5*time.Second, imsemu.Faults{})
	front := newCopyFront(t, r)
	first := r.startWorker(front.workerEnv(r))
	c := r.client()
	answered, inFlight := r.input("itest-killed-in-submit-answered"), r.input("itest-killed-in-submit-in-flight")
	front.holdAnswer(answered.Name)
	// The second POST waits at the front until the latency is on, so that the first is not delayed.
	release := front.holdRequest(t, inFlight.Name)
	answeredRun, inFlightRun := r.start(c, answered), r.start(c, inFlight)

	arrived := []string{waitFor(t, front.arrived, "a copy POST"), waitFor(t, front.arrived, "another copy POST")}
	require.ElementsMatch(t, []string{answered.Name, inFlight.Name}, arrived, "both copies POSTed")
	require.Equal(t, http.StatusOK, waitFor(t, front.held, "IMS's answer to the first copy's POST"))
	require.Len(t, r.jobsNamed(answered.Name), 1, "IMS acted on the first copy's POST")
	require.Empty(t, r.jobsNamed(inFlight.Name), "the second copy's POST has not reached IMS")
	for _, run := range []client.WorkflowRun{answeredRun, inFlightRun} {
		pending := pendingActivity(t, c, run.GetID(), activities.NameSubmitCopy)
		require.NotNil(t, pending, "%s: SubmitCopy runs when the worker dies", run.GetID())
		require.Equal(t, int32(1), pending.GetAttempt())
		require.Equal(t, first.Pid(), pidOf(t, pending.GetLastWorkerIdentity()), "the worker killed runs SubmitCopy")
	}
	r.emu.SetFaults(imsemu.Faults{Routes: map[string]imsemu.RouteFault{imsemu.RouteCopyInRegion: {Latency: 15 * time.Second}}})
	release()
	first.Kill()
	// 499: the emulator saw the client go while the second POST waited, and never acted on it.
	require.Eventually(t, func() bool { return r.requests(imsemu.RouteCopyInRegion, 499) == 1 },
		time.Minute, 50*time.Millisecond, "the kill cut off the POST in flight")
	require.Empty(t, r.jobsNamed(inFlight.Name))
	r.emu.SetFaults(imsemu.Faults{})

	second := r.startWorker(front.workerEnv(r))
	for _, tc := range []struct {
		in      copyimage.Input
		run     client.WorkflowRun
		adopted bool
	}{{answered, answeredRun, true}, {inFlight, inFlightRun, false}} {
		res, err := result(t, tc.run)
		require.NoError(t, err, tc.in.Name)
		submit := activityRuns(historyEvents(t, c, tc.run))[activities.NameSubmitCopy]
		require.NotNil(t, submit)
		assert.GreaterOrEqual(t, submit.attempt, int32(2), "%s: SubmitCopy was retried", tc.in.Name)
		assert.Equal(t, second.Pid(), pidOf(t, submit.identity), "%s: the new worker finished SubmitCopy", tc.in.Name)
		assert.Equal(t, tc.adopted, res.Adopted, "%s: the retry adopts the image of a POST IMS acted on, and only then", tc.in.Name)
		jobs := r.jobsNamed(tc.in.Name)
		require.Len(t, jobs, 1, "%s: exactly one copy POST took effect", tc.in.Name)
		assert.Equal(t, res.ImageID, jobs[0].ImageID)
		assert.Len(t, r.allImages(tc.in.Name), 1, "%s: no second image was ever made", tc.in.Name)
		require.Len(t, r.liveImages(tc.in.Name), 1)
		assert.Equal(t, res.ImageID, r.liveImages(tc.in.Name)[0].ID)
		assert.Equal(t, "active", r.liveImages(tc.in.Name)[0].Status)
	}
	// The first copy's POST, acted on; the second's, cut off; the second's retry. The first copy's
	// retry adopted its image without POSTing.
	assert.Equal(t, 2, r.answered(imsemu.DefaultRegions[0].Name, imsemu.RouteCopyInRegion), "IMS acted on one POST per copy")
	assert.Equal(t, 3, r.requests(imsemu.RouteCopyInRegion, -1), "three copy POSTs in all")
	r.assertNoSecrets(c, answeredRun.GetID())
}

// waitFor receives from ch; the bound only turns a hang into a failure.
func waitFor[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(3 * time.Minute):
		t.Fatalf("never saw %s", what)
	}
	var zero T
	return zero
}

// The dev-mode process hosts both the Temporal server and the worker; kill -9 takes both down.
// Started again on the same DATA_DIR, it finds the workflow in its SQLite file and completes it.
func TestDevModeProcessKilled(t *testing.T) {
	t.Parallel()
	addr := testkit.FreeAddr(t)
	r := newRig(t, addr, 15*time.Second, imsemu.Faults{})
	// No Web UI: its default port would be shared with every other dev-mode worker on the machine.
	devMode := []string{"TEMPORAL_ADDRESS=", "DEV_SERVER_ADDRESS=" + addr, "DATA_DIR=" + t.TempDir(), "DEV_UI_ADDRESS="}
	first := r.startWorker(devMode...)
	c := r.client()
	in := r.input("itest-devmode-killed")
	run := r.start(c, in)
	r.waitPollJob(c, run.GetID(), checkpointed)
	first.Kill()

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

// IMS fails the job: the workflow fails with IMS's code and reason, and CleanupCopy deletes the
// image the job killed. A killed image is not a deleted one: the emulator keeps every image, so
// the test reads the image's own status and the delete IMS answered.
func TestJobFailure(t *testing.T) {
	t.Parallel()
	r := newRig(t, sharedTemporal(t), 4*time.Second, imsemu.Faults{JobFailureRate: 1})
	r.startWorker()
	c := r.client()
	in := r.input("itest-job-fails")
	run := r.start(c, in)
	_, err := result(t, run)
	appErr := testkit.AppError(t, err)
	assert.Equal(t, activities.ErrCopyFailed, appErr.Type())
	assert.Contains(t, err.Error(), "IMG.", "IMS's error code reaches the caller")
	var failure activities.CopyFailure
	require.NoError(t, appErr.Details(&failure))

	images := r.allImages(in.Name)
	require.Len(t, images, 1, "the copy made one image")
	assert.Equal(t, failure.ImageID, images[0].ID, "the error names the failed copy's image")
	assert.Equal(t, "deleted", images[0].Status, "the failed copy's image is deleted, not left killed")
	assert.Positive(t, r.answered(imsemu.DefaultRegions[0].Name, imsemu.RouteGlanceDeleteImage), "IMS answered the delete")
	cleanup := activityRuns(historyEvents(t, c, run))[activities.NameCleanupCopy]
	require.NotNil(t, cleanup, "the workflow compensated")
	assert.True(t, cleanup.completed)
}

// The workflow's history has the same events however long the job takes: PollJob reports nothing
// while it waits (the job's progress is in its heartbeat). Two copies whose jobs last 3 s and
// 15 s, the longer one polled more often, end with histories of the same length.
func TestHistoryLengthIndependentOfJobDuration(t *testing.T) {
	t.Parallel()
	type copyRun struct {
		job    time.Duration
		polls  int
		events int
	}
	durations := []time.Duration{3 * time.Second, 15 * time.Second}
	got := make([]copyRun, len(durations))
	t.Run("copies", func(t *testing.T) {
		for i, d := range durations {
			t.Run(d.String(), func(t *testing.T) {
				t.Parallel()
				r := newRig(t, sharedTemporal(t), d, imsemu.Faults{})
				r.startWorker()
				c := r.client()
				in := r.input("itest-history-" + d.String())
				run := r.start(c, in)
				_, err := result(t, run)
				require.NoError(t, err)
				jobs := r.jobsNamed(in.Name)
				require.Len(t, jobs, 1)
				events := historyEvents(t, c, run)
				got[i] = copyRun{job: jobs[0].End.Sub(jobs[0].Begin), polls: pollJobResult(t, events).Polls, events: len(events)}
			})
		}
	})
	require.False(t, t.Failed())
	short, long := got[0], got[1]
	t.Logf("short copy %+v, long copy %+v", short, long)
	assert.GreaterOrEqual(t, long.job, 4*short.job, "the jobs' durations differ several times")
	assert.Greater(t, long.polls, short.polls, "the longer job was polled more")
	assert.Equal(t, short.events, long.events, "the histories have the same number of events")
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
		in    copyimage.Input
	}{
		{"name", func() copyimage.Input { in := r.input(" leading-space"); return in }()},
		{"name", func() copyimage.Input { in := r.input("bad/slash"); return in }()},
		{"description", func() copyimage.Input { in := r.input("ok-name"); in.Description = "<script>"; return in }()},
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

		_, err = c.DescribeWorkflowExecution(context.Background(), copyimage.WorkflowID(tc.in), "")
		var notFound *serviceerror.NotFound
		assert.True(t, errors.As(err, &notFound), "no workflow was started for %q: %v", tc.in.Name, err)
	}

	// Straight to Temporal, past the starter's check: the workflow's own check refuses it.
	r.startWorker()
	run, err := c.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{TaskQueue: r.taskQueue},
		copyimage.CopyImage, cases[0].in)
	require.NoError(t, err)
	_, err = result(t, run)
	appErr := testkit.AppError(t, err)
	assert.Equal(t, activities.ErrInvalidInput, appErr.Type())
	assert.True(t, appErr.NonRetryable())
	assert.Contains(t, appErr.Error(), "name")

	assert.Zero(t, r.requests(imsemu.RouteCopyInRegion, -1), "IMS saw no copy request")
}
