package activities

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"

	"github.com/imscopy/imscopy/internal/testkit"
)

// failingPoll stands for an activity that heartbeats each of beats, then fails with err.
func failingPoll(beats []PollHeartbeat, err error) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		for _, b := range beats {
			activity.RecordHeartbeat(ctx, b)
		}
		return err
	}
}

// runIntercepted runs fn as an activity named name on a worker with PollEndInterceptor and
// returns the CopyFailure its error carries.
func runIntercepted(t *testing.T, name string, fn func(context.Context) error) CopyFailure {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{PollEndInterceptor()}})
	env.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
	_, err := env.ExecuteActivity(name)
	app := testkit.AppError(t, err)
	assert.Equal(t, ErrCopyFailed, app.Type(), "the type is kept")
	assert.True(t, app.NonRetryable(), "the retry advice is kept")
	assert.Contains(t, app.Message(), "IMG.0046", "the message is kept")
	var f CopyFailure
	require.NoError(t, app.Details(&f))
	return f
}

// A PollJob whose job failed carries the percent of its last heartbeat in its CopyFailure: the
// server drops the heartbeat with the activity, and the workflow keeps only what the failure says.
func TestPollEndCarriesTheLastHeartbeatsPercent(t *testing.T) {
	failed := copyFailed(CopyFailure{JobID: "job", ImageID: "img", ErrorCode: "IMG.0046", FailReason: "disk"})
	beats := []PollHeartbeat{{Status: "RUNNING", Percent: 0.12}, {Status: "RUNNING", Percent: 0.4}}

	f := runIntercepted(t, NamePollJob, failingPoll(beats, failed))
	assert.Equal(t, CopyFailure{JobID: "job", ImageID: "img", ErrorCode: "IMG.0046", FailReason: "disk", Percent: 0.4}, f)

	// Without a heartbeat nothing is known: the failure stays as it was.
	f = runIntercepted(t, NamePollJob, failingPoll(nil, failed))
	assert.Zero(t, f.Percent)
	// Other activities are left alone.
	f = runIntercepted(t, NameCleanupCopy, failingPoll(beats, failed))
	assert.Zero(t, f.Percent)
}

// A cancelled PollJob ends with its last heartbeat as the cancellation's detail, which Temporal
// hands the workflow: it keeps how far the job got.
func TestPollEndGivesACancellationTheLastHeartbeat(t *testing.T) {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{PollEndInterceptor()}})
	last := PollHeartbeat{Status: "RUNNING", Percent: 0.37, Polls: 4}
	env.RegisterActivityWithOptions(func(ctx context.Context) error {
		activity.RecordHeartbeat(ctx, PollHeartbeat{Status: "RUNNING", Percent: 0.2})
		activity.RecordHeartbeat(ctx, last)
		return context.Canceled
	}, activity.RegisterOptions{Name: NamePollJob})
	_, err := env.ExecuteActivity(NamePollJob)
	var canceled *temporal.CanceledError
	require.ErrorAs(t, err, &canceled)
	var got PollHeartbeat
	require.NoError(t, canceled.Details(&got))
	assert.Equal(t, last.Percent, got.Percent)
	assert.Equal(t, last.Polls, got.Polls)
}
