package activities

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"

	"github.com/imscopy/imscopy/imsapi/imsemu"
	"github.com/imscopy/imscopy/internal/testkit"
)

func pollResult(t *testing.T, v converter.EncodedValue, err error) PollJobResult {
	t.Helper()
	require.NoError(t, err)
	var res PollJobResult
	require.NoError(t, v.Get(&res))
	return res
}

func TestPollJobWaitsForSuccess(t *testing.T) {
	clock := newIMSClock()
	srv, a := startIMS(t, imsemu.Config{JobDuration: time.Minute, Now: clock.Now})
	jobID := submit(t, a, "golden-poll")
	// Each read of the job moves IMS's clock on by a quarter of the job, however long PollJob
	// waits: the job is queued, at 25, 50 and 75 %, then done.
	clock.step(srv, imsemu.RouteShowJobProgress, 15*time.Second)

	v, err := newActivityEnv(a).ExecuteActivity(a.PollJob, PollJobInput{Region: home, JobID: jobID})
	res := pollResult(t, v, err)

	images := liveImages(srv, "golden-poll")
	require.Len(t, images, 1)
	assert.Equal(t, images[0].ID, res.ImageID)
	assert.Equal(t, "SUCCESS", res.Status)
	assert.NotEmpty(t, res.EndTime)
	assert.NotEmpty(t, res.BeginTime, "the job's start, for the job-duration metric")
	assert.Equal(t, calls(srv, imsemu.RouteShowJobProgress, -1), res.Polls, "every call is counted")
	assert.Equal(t, 5, res.Polls, "it read the job until it was done, and no more")
}

// The heartbeat details are all users see of a copying job: the starter reads them from the
// pending activity, the workflow hears nothing until PollJob ends. A worker that stops mid-job
// sends its last details (the SDK flushes them), and they carry the job's percent, its image and
// the poll count.
func TestPollJobHeartbeatCarriesProgress(t *testing.T) {
	clock := newIMSClock()
	srv, a := startIMS(t, imsemu.Config{JobDuration: time.Minute, Now: clock.Now})
	jobID := submit(t, a, "golden-progress")
	// IMS's clock stands in the middle of the job: every read finds it copying, however long the
	// test takes.
	clock.Advance(30 * time.Second)

	stop := make(chan struct{})
	var mu sync.Mutex
	var last PollHeartbeat
	env := newActivityEnv(a)
	env.SetWorkerStopChannel(stop)
	env.SetOnActivityHeartbeatListener(func(_ *activity.Info, details converter.EncodedValues) {
		mu.Lock()
		defer mu.Unlock()
		assert.NoError(t, details.Get(&last)) // not require: this runs on the activity's goroutine
	})
	done := make(chan error, 1)
	go func() {
		_, err := env.ExecuteActivity(a.PollJob, PollJobInput{Region: home, JobID: jobID})
		done <- err
	}()

	// Two more polls: the first reads a percent above 0, and the second starts only after PollJob
	// put that read in its heartbeat. The bounds only turn a hang into a failure.
	job := srv.Jobs()[0]
	require.Equal(t, "RUNNING", job.Status)
	require.Positive(t, job.Percent)
	seen := calls(srv, imsemu.RouteShowJobProgress, -1)
	require.Eventually(t, func() bool { return calls(srv, imsemu.RouteShowJobProgress, -1) >= seen+2 },
		30*time.Second, 10*time.Millisecond, "PollJob stopped polling")
	close(stop)
	assert.Equal(t, ErrWorkerStopping, testkit.AppError(t, <-done).Type())

	var got PollHeartbeat
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		got = last
		return got.Percent > 0
	}, 10*time.Second, 10*time.Millisecond, "no heartbeat with the job's percent reached the server")
	job = srv.Jobs()[0]
	assert.Equal(t, "RUNNING", got.Status)
	assert.Less(t, got.Percent, 1.0)
	assert.LessOrEqual(t, got.Percent, job.Percent, "the percent is one IMS reported")
	assert.Equal(t, job.ImageID, got.ImageID, "the running job names its image")
	assert.GreaterOrEqual(t, got.Polls, seen+1)
	assert.LessOrEqual(t, got.Polls, calls(srv, imsemu.RouteShowJobProgress, -1))
	assert.False(t, got.NextPollAt.IsZero(), "when the next poll is due")
}

func TestPollJobResumesItsScheduleFromHeartbeat(t *testing.T) {
	srv, a := startIMS(t, imsemu.Config{JobDuration: 500 * time.Millisecond})
	jobID := submit(t, a, "golden-resume")

	// A previous attempt made 5 calls and planned the next one after the job's end. Starting the
	// schedule over would call at once (Initial), see the job running, and call again.
	env := newActivityEnv(a)
	env.SetHeartbeatDetails(PollHeartbeat{Status: "RUNNING", Percent: 0.4, Polls: 5, NextPollAt: time.Now().Add(time.Second)})
	v, err := env.ExecuteActivity(a.PollJob, PollJobInput{Region: home, JobID: jobID})
	res := pollResult(t, v, err)

	assert.Equal(t, 1, calls(srv, imsemu.RouteShowJobProgress, -1), "one call, at the planned time")
	assert.Equal(t, 6, res.Polls, "the count goes on from the heartbeat")
	assert.Equal(t, "SUCCESS", res.Status)
}

// A cancelled PollJob stops, and ends with its last heartbeat as the cancellation's detail, which
// Temporal hands the workflow: the server drops the heartbeat with the activity, so this is how a
// cancelled copy keeps the percent its job reached.
func TestPollJobStopsWhenCancelled(t *testing.T) {
	clock := newIMSClock()
	srv, a := startIMS(t, imsemu.Config{JobDuration: time.Minute, Now: clock.Now})
	jobID := submit(t, a, "golden-cancel")
	// IMS's clock stands in the middle of the job: every read finds it copying at the same percent.
	clock.Advance(30 * time.Second)

	// The SDK cancels an activity whose cancellation the server delivered with a CanceledError
	// cause; cancelling the worker's background context the same way plays the server's part.
	ctx, cancelWith := context.WithCancelCause(context.Background())
	cancel := func() { cancelWith(temporal.NewCanceledError()) }
	defer cancel()
	env := newActivityEnv(a)
	env.SetWorkerOptions(worker.Options{BackgroundActivityContext: ctx})
	done := make(chan error, 1)
	go func() {
		_, err := env.ExecuteActivity(a.PollJob, PollJobInput{Region: home, JobID: jobID})
		done <- err
	}()
	// Reads are made one after another, so once a second one was answered the first one's
	// percent is in PollJob's heartbeat. The bound only turns a hang into a failure.
	require.Eventually(t, func() bool { return calls(srv, imsemu.RouteShowJobProgress, -1) >= 2 },
		30*time.Second, 10*time.Millisecond, "PollJob stopped polling")
	cancel()
	var err error
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("PollJob did not return after its context was cancelled")
	}

	var canceled *temporal.CanceledError
	require.True(t, errors.As(err, &canceled), "want a cancellation, got %v", err)
	require.True(t, canceled.HasDetails(), "the cancellation carries the last heartbeat")
	var got PollHeartbeat
	require.NoError(t, canceled.Details(&got))
	job := srv.Jobs()[0]
	require.Equal(t, "RUNNING", job.Status)
	require.Positive(t, job.Percent)
	assert.Equal(t, "RUNNING", got.Status)
	assert.Equal(t, job.Percent, got.Percent, "how far the job got")
	assert.Equal(t, job.ImageID, got.ImageID)
	assert.GreaterOrEqual(t, got.Polls, 1)
	assert.LessOrEqual(t, got.Polls, calls(srv, imsemu.RouteShowJobProgress, -1))
	assert.False(t, got.NextPollAt.IsZero(), "the whole heartbeat, its schedule too")
}

// A stopping worker (a deploy, a Ctrl-C) gets PollJob's task back at once, with a retryable
// error and its schedule in the heartbeat details, instead of holding the stop for a long job.
func TestPollJobGivesBackItsTaskWhenTheWorkerStops(t *testing.T) {
	_, a := startIMS(t, imsemu.Config{JobDuration: time.Hour})
	jobID := submit(t, a, "golden-stop")

	stop := make(chan struct{})
	var once sync.Once
	var last PollHeartbeat
	env := newActivityEnv(a)
	env.SetWorkerStopChannel(stop)
	env.SetOnActivityHeartbeatListener(func(_ *activity.Info, details converter.EncodedValues) {
		_ = details.Get(&last)
		once.Do(func() { close(stop) })
	})
	_, err := env.ExecuteActivity(a.PollJob, PollJobInput{Region: home, JobID: jobID})
	app := testkit.AppError(t, err)
	assert.Equal(t, ErrWorkerStopping, app.Type())
	assert.False(t, app.NonRetryable(), "another attempt must resume the wait")
	assert.NotZero(t, last.NextPollAt, "the schedule to resume from was recorded")
}

func TestPollJobFailIsCopyFailed(t *testing.T) {
	srv, a := startIMS(t, imsemu.Config{JobDuration: 300 * time.Millisecond, Faults: imsemu.Faults{JobFailureRate: 1}})
	jobID := submit(t, a, "golden-fail")

	_, err := newActivityEnv(a).ExecuteActivity(a.PollJob, PollJobInput{Region: home, JobID: jobID})
	app := testkit.AppError(t, err)
	assert.Equal(t, ErrCopyFailed, app.Type())
	assert.True(t, app.NonRetryable())

	jobs := srv.Jobs()
	require.Len(t, jobs, 1)
	job := jobs[0]
	require.Equal(t, "FAIL", job.Status)
	assert.Contains(t, app.Message(), job.ErrorCode)
	assert.Contains(t, app.Message(), job.FailReason)
	require.Positive(t, job.Percent, "the emulator fails a job part-way")
	var f CopyFailure
	require.NoError(t, app.Details(&f))
	assert.Equal(t, CopyFailure{JobID: jobID, ImageID: job.ImageID, ErrorCode: job.ErrorCode, FailReason: job.FailReason,
		Percent: job.Percent}, f, "the failure carries how far the job got")
}

// A failed job's percent is the one in IMS's answer that the job failed, not an earlier read's:
// the job may have got further since. A resumed attempt whose heartbeat holds an earlier percent
// shows which one PollJob reports.
func TestPollJobFailCarriesThePercentOfTheFailingAnswer(t *testing.T) {
	clock := newIMSClock()
	srv, a := startIMS(t, imsemu.Config{JobDuration: time.Minute, Now: clock.Now, Faults: imsemu.Faults{JobFailureRate: 1}})
	jobID := submit(t, a, "golden-fail-percent")
	clock.Advance(time.Minute) // past the job's end: the first read finds it failed

	// A percent with three decimals, which IMS never reports, cannot be mistaken for the job's.
	earlier := PollHeartbeat{Status: "RUNNING", Percent: 0.015, Polls: 3, NextPollAt: time.Now()}
	env := newActivityEnv(a)
	env.SetHeartbeatDetails(earlier)
	_, err := env.ExecuteActivity(a.PollJob, PollJobInput{Region: home, JobID: jobID})
	app := testkit.AppError(t, err)
	require.Equal(t, ErrCopyFailed, app.Type())

	job := srv.Jobs()[0]
	require.Equal(t, "FAIL", job.Status)
	require.Positive(t, job.Percent)
	var f CopyFailure
	require.NoError(t, app.Details(&f))
	assert.Equal(t, job.Percent, f.Percent, "the failing answer's percent")
	assert.Equal(t, 1, calls(srv, imsemu.RouteShowJobProgress, -1), "one read, the failing one")
}

// When IMS's answer that the copy failed gives no percent (an adopted image that IMS killed has
// none), the failure keeps the last percent PollJob knew: a job does not go back.
func TestPollJobFailKeepsTheLastKnownPercentWhenTheAnswerHasNone(t *testing.T) {
	clock := newIMSClock()
	srv, a := startIMS(t, imsemu.Config{JobDuration: time.Minute, Now: clock.Now, Faults: imsemu.Faults{JobFailureRate: 1}})
	submit(t, a, "golden-killed-percent")
	clock.Advance(time.Minute) // past the job's end: its image is killed
	images := liveImages(srv, "golden-killed-percent")
	require.Len(t, images, 1)
	require.Equal(t, "killed", images[0].Status)

	known := PollHeartbeat{Status: "saving", Percent: 0.4, Polls: 2, NextPollAt: time.Now()}
	env := newActivityEnv(a)
	env.SetHeartbeatDetails(known)
	_, err := env.ExecuteActivity(a.PollJob, PollJobInput{Region: home, ImageID: images[0].ID})
	app := testkit.AppError(t, err)
	require.Equal(t, ErrCopyFailed, app.Type())
	var f CopyFailure
	require.NoError(t, app.Details(&f))
	assert.Equal(t, CopyFailure{ImageID: images[0].ID, ReasonLost: true, Percent: known.Percent}, f)
}

func TestPollJobRidesOutFailedReads(t *testing.T) {
	for name, fault := range map[string]imsemu.RouteFault{
		"503":           {ErrorRate: 0.5, ErrorStatus: 503},
		"429 throttled": {ErrorRate: 0.5, ErrorStatus: 429, ErrorCode: "APIGW.0308"},
	} {
		t.Run(name, func(t *testing.T) {
			clock := newIMSClock()
			srv, a := startIMS(t, imsemu.Config{JobDuration: time.Minute, Now: clock.Now})
			jobID := submit(t, a, "golden-faults")
			srv.SetFaults(imsemu.Faults{Routes: map[string]imsemu.RouteFault{imsemu.RouteShowJobProgress: fault}})
			// Each read, failed or not, moves IMS's clock on by a sixth of the job, so the job
			// is still running for the first six reads however long PollJob waits.
			clock.step(srv, imsemu.RouteShowJobProgress, 10*time.Second)

			v, err := newActivityEnv(a).ExecuteActivity(a.PollJob, PollJobInput{Region: home, JobID: jobID})
			res := pollResult(t, v, err)

			assert.Equal(t, "SUCCESS", res.Status)
			assert.Positive(t, calls(srv, imsemu.RouteShowJobProgress, fault.ErrorStatus), "faults were injected")
			assert.Equal(t, calls(srv, imsemu.RouteShowJobProgress, -1), res.Polls)
		})
	}
}

func TestPollJobWaitsForAnAdoptedImage(t *testing.T) {
	srv, a := startIMS(t, imsemu.Config{JobDuration: 500 * time.Millisecond})
	submit(t, a, "golden-adopted")
	imageID := liveImages(srv, "golden-adopted")[0].ID

	v, err := newActivityEnv(a).ExecuteActivity(a.PollJob, PollJobInput{Region: home, ImageID: imageID})
	res := pollResult(t, v, err)

	assert.Equal(t, imageID, res.ImageID)
	assert.Equal(t, "active", res.Status)
	assert.Zero(t, calls(srv, imsemu.RouteShowJobProgress, -1), "no job to ask about")
}
