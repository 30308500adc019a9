package copyimage

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/imscopy/imscopy/activities"
	"github.com/imscopy/imscopy/internal/testkit"
	"github.com/imscopy/imscopy/workflows/failures"
	"github.com/imscopy/imscopy/workflows/permit"
)

const (
	sourceID = "465076de-dc36-4aec-80f5-ef9d8009428f"
	kmsKey   = "bd66288c-9081-460a-8227-4cbd0c814cb4"
	jobID    = "edc89b490d7d4392898e19b2deb34797"
	imageID  = "498cc67e-0f9b-4b4e-8f53-2a6f1c0e7d11"
)

var a *activities.Activities

func validInput() Input {
	return Input{Region: "cn-north-4", SourceImageID: sourceID, Name: "golden-copy", CMKID: kmsKey}
}

// workflowStart is when every test workflow starts, by the test environment's clock.
var workflowStart = time.Date(2026, 11, 26, 6, 0, 0, 0, time.UTC)

func newEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.SetStartTime(workflowStart)
	Register(env)
	permit.Register(env)
	env.RegisterActivity(&activities.Activities{})
	t.Cleanup(func() { env.AssertExpectations(t) })
	return env
}

// activityStarts counts the attempts of each activity type. A test asserts with it that an
// activity never ran: a mock's Never() only makes the call panic, which the test environment turns
// into an activity failure that it retries and the workflow may well survive.
type activityStarts struct {
	mu sync.Mutex
	n  map[string]int
}

func countStarts(env *testsuite.TestWorkflowEnvironment) *activityStarts {
	s := &activityStarts{n: map[string]int{}}
	env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.n[info.ActivityType.Name]++
	})
	return s
}

func (s *activityStarts) of(activityType string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n[activityType]
}

// forbid mocks activities that a test must not reach, so that reaching one runs no real activity
// (whose nil IMS client would panic) and shows in the start count.
func forbid(env *testsuite.TestWorkflowEnvironment, activityFns ...any) {
	for _, fn := range activityFns {
		env.OnActivity(fn, mock.Anything, mock.Anything).Never()
	}
}

func submitted() activities.SubmitCopyResult { return activities.SubmitCopyResult{JobID: jobID} }

func pollInput() activities.PollJobInput {
	return activities.PollJobInput{Region: "cn-north-4", JobID: jobID}
}

func pollDone() activities.PollJobResult {
	return activities.PollJobResult{ImageID: imageID, Status: "SUCCESS", EndTime: "2026-11-26T06:16:38.446Z", Polls: 6}
}

func verifyInput() activities.VerifyImageInput {
	return activities.VerifyImageInput{Region: "cn-north-4", ImageID: imageID, SourceImageID: sourceID, Name: "golden-copy", CMKID: kmsKey}
}

func TestCopySucceeds(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(a.SubmitCopy, mock.Anything, activities.SubmitCopyInput{Region: "cn-north-4", Request: validInput().CopyRequest()}).
		Return(submitted(), nil).Once()
	env.OnActivity(a.PollJob, mock.Anything, pollInput()).After(5*time.Minute).Return(pollDone(), nil).Once()
	env.OnActivity(a.VerifyImage, mock.Anything, verifyInput()).Return(nil).Once()
	forbid(env, a.CleanupCopy)
	starts := countStarts(env)

	env.ExecuteWorkflow(CopyImage, validInput())

	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	assert.Zero(t, starts.of(activities.NameCleanupCopy), "a copy that succeeded is not undone")
	var res Result
	require.NoError(t, env.GetWorkflowResult(&res))
	assert.Equal(t, imageID, res.ImageID)
	assert.Equal(t, jobID, res.JobID)
	assert.False(t, res.Adopted)
	durations := map[string]time.Duration{}
	for _, p := range res.Phases {
		durations[p.Phase] = p.Duration
	}
	assert.Equal(t, 5*time.Minute, durations[PhasePolling])
	assert.Contains(t, durations, PhaseSubmitting)
	assert.Contains(t, durations, PhaseVerifying)
}

func TestJobFailureCompensatesAndCarriesIMSReason(t *testing.T) {
	env := newEnv(t)
	failure := activities.CopyFailure{JobID: jobID, ImageID: imageID, ErrorCode: "IMG.0099", FailReason: "no access to the KMS key"}
	env.OnActivity(a.SubmitCopy, mock.Anything, mock.Anything).Return(submitted(), nil).Once()
	env.OnActivity(a.PollJob, mock.Anything, pollInput()).Return(activities.PollJobResult{},
		temporal.NewApplicationErrorWithOptions("IMS copy job failed: IMG.0099: no access to the KMS key", activities.ErrCopyFailed,
			temporal.ApplicationErrorOptions{NonRetryable: true, Details: []any{failure}})).Once()
	env.OnActivity(a.CleanupCopy, mock.Anything, activities.CleanupInput{Region: "cn-north-4", JobID: jobID, ImageID: imageID}).
		Return(nil).Once()
	forbid(env, a.VerifyImage)
	starts := countStarts(env)

	env.ExecuteWorkflow(CopyImage, validInput())

	require.True(t, env.IsWorkflowCompleted())
	assert.Zero(t, starts.of(activities.NameVerifyImage), "a failed job leaves nothing to verify")
	app := testkit.AppError(t, env.GetWorkflowError())
	assert.Equal(t, activities.ErrCopyFailed, app.Type())
	assert.True(t, app.NonRetryable())
	assert.Contains(t, app.Error(), "IMG.0099")
	assert.Contains(t, app.Error(), "no access to the KMS key")
	var got activities.CopyFailure
	require.NoError(t, app.Details(&got))
	assert.Equal(t, failure, got)
}

// A copy whose job failed keeps, in its progress, how far the job got: the server drops PollJob's
// heartbeat when it ends, so its failure is the last that says it.
func TestFailedJobKeepsItsPercentInTheProgress(t *testing.T) {
	env := newEnv(t)
	failure := activities.CopyFailure{JobID: jobID, ImageID: imageID, ErrorCode: "IMG.0099", FailReason: "disk", Percent: 0.4}
	env.OnActivity(a.SubmitCopy, mock.Anything, mock.Anything).Return(submitted(), nil).Once()
	env.OnActivity(a.PollJob, mock.Anything, pollInput()).Return(activities.PollJobResult{},
		temporal.NewApplicationErrorWithOptions("IMS copy job failed", activities.ErrCopyFailed,
			temporal.ApplicationErrorOptions{NonRetryable: true, Details: []any{failure}})).Once()
	env.OnActivity(a.CleanupCopy, mock.Anything, mock.Anything).Return(nil).Once()

	env.ExecuteWorkflow(CopyImage, validInput())

	require.True(t, env.IsWorkflowCompleted())
	testkit.AppError(t, env.GetWorkflowError())
	v, err := env.QueryWorkflow(ProgressQuery)
	require.NoError(t, err)
	var end Progress
	require.NoError(t, v.Get(&end))
	assert.Equal(t, PhaseFailed, end.Phase)
	assert.InDelta(t, 0.4, end.Percent, 1e-9, "the percent the job reached, not 0")
	var got activities.CopyFailure
	require.NoError(t, testkit.AppError(t, env.GetWorkflowError()).Details(&got))
	assert.InDelta(t, 0.4, got.Percent, 1e-9, "the copy's failure says it too")
}

// A PollJob that ran out of time (a job stuck for a day) leaves its last heartbeat in the timeout: the
// progress keeps its percent.
func TestTimedOutPollKeepsItsPercentInTheProgress(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(a.SubmitCopy, mock.Anything, mock.Anything).Return(submitted(), nil).Once()
	env.OnActivity(a.PollJob, mock.Anything, pollInput()).Return(activities.PollJobResult{},
		temporal.NewTimeoutError(enumspb.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE, nil, activities.PollHeartbeat{Status: "RUNNING", Percent: 0.63})).Once()
	env.OnActivity(a.CleanupCopy, mock.Anything, mock.Anything).Return(nil).Once()

	env.ExecuteWorkflow(CopyImage, validInput())

	require.True(t, env.IsWorkflowCompleted())
	require.Error(t, env.GetWorkflowError())
	v, err := env.QueryWorkflow(ProgressQuery)
	require.NoError(t, err)
	var end Progress
	require.NoError(t, v.Get(&end))
	assert.Equal(t, PhaseFailed, end.Phase)
	assert.InDelta(t, 0.63, end.Percent, 1e-9)
}

// A clean-up that fails leaves the image in IMS: the copy's failure names it as its cause, with
// what to do, so that every way of reading the end can say it.
func TestFailedCleanupNamesTheImageLeftBehind(t *testing.T) {
	env := newEnv(t)
	failure := activities.CopyFailure{JobID: jobID, ImageID: imageID, ErrorCode: "IMG.0099", FailReason: "no access to the KMS key"}
	env.OnActivity(a.SubmitCopy, mock.Anything, mock.Anything).Return(submitted(), nil).Once()
	env.OnActivity(a.PollJob, mock.Anything, pollInput()).Return(activities.PollJobResult{},
		temporal.NewApplicationErrorWithOptions("IMS copy job failed", activities.ErrCopyFailed,
			temporal.ApplicationErrorOptions{NonRetryable: true, Details: []any{failure}})).Once()
	env.OnActivity(a.CleanupCopy, mock.Anything, mock.Anything).
		Return(temporal.NewNonRetryableApplicationError("DeleteImage: IMS answered 403 IMG.0403", activities.ErrIMSForbidden, nil)).Once()

	env.ExecuteWorkflow(CopyImage, validInput())

	err := env.GetWorkflowError()
	app := testkit.AppError(t, err)
	assert.Equal(t, activities.ErrCopyFailed, app.Type(), "the copy's own failure stays its type")
	var got activities.CopyFailure
	require.NoError(t, app.Details(&got))
	assert.Equal(t, failure, got)
	left, ok := failures.LeftBehindOf(err)
	require.True(t, ok, "the failure names what it left: %v", err)
	assert.Equal(t, failures.LeftBehind{ImageID: imageID, Region: "cn-north-4", Name: "golden-copy", JobID: jobID,
		Since: workflowStart, CleanupError: "DeleteImage: IMS answered 403 IMG.0403"}, left)
	assert.Contains(t, left.Summary(), imageID)
	assert.Contains(t, left.Summary(), "by hand")
}

// A copy that succeeds in deleting its image leaves nothing to name.
func TestCleanedUpFailureNamesNothingLeft(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(a.SubmitCopy, mock.Anything, mock.Anything).Return(submitted(), nil).Once()
	env.OnActivity(a.PollJob, mock.Anything, mock.Anything).Return(activities.PollJobResult{},
		temporal.NewNonRetryableApplicationError("failed", activities.ErrCopyFailed, nil, activities.CopyFailure{ImageID: imageID})).Once()
	env.OnActivity(a.CleanupCopy, mock.Anything, mock.Anything).Return(nil).Once()

	env.ExecuteWorkflow(CopyImage, validInput())

	_, ok := failures.LeftBehindOf(env.GetWorkflowError())
	assert.False(t, ok)
}

// A cancelled copy whose clean-up fails says so in its cancellation's detail.
func TestCancelWithAFailedCleanupNamesTheImageLeftBehind(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(a.SubmitCopy, mock.Anything, mock.Anything).Return(submitted(), nil).Once()
	env.OnActivity(a.PollJob, mock.Anything, mock.Anything).After(time.Hour).Return(pollDone(), nil).Once()
	env.OnActivity(a.CleanupCopy, mock.Anything, mock.Anything).
		Return(temporal.NewNonRetryableApplicationError("GetJob: no response from IMS", activities.ErrIMSTransient, nil)).Once()
	env.RegisterDelayedCallback(env.CancelWorkflow, 10*time.Minute)

	env.ExecuteWorkflow(CopyImage, validInput())

	err := env.GetWorkflowError()
	require.True(t, temporal.IsCanceledError(err), "want a cancellation, got %v", err)
	left, ok := failures.LeftBehindOf(err)
	require.True(t, ok, "the cancellation names what it left: %v", err)
	assert.Equal(t, jobID, left.JobID)
	assert.Contains(t, left.Summary(), "the image of IMS job "+jobID)
}

func TestVerifyFailureCompensates(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(a.SubmitCopy, mock.Anything, mock.Anything).Return(submitted(), nil).Once()
	env.OnActivity(a.PollJob, mock.Anything, mock.Anything).Return(pollDone(), nil).Once()
	env.OnActivity(a.VerifyImage, mock.Anything, verifyInput()).Return(
		temporal.NewApplicationErrorWithOptions(`image is not the requested copy: min_disk is "20", want "40"`, activities.ErrVerifyFailed,
			temporal.ApplicationErrorOptions{NonRetryable: true, Details: []any{[]string{`min_disk is "20", want "40"`}}})).Once()
	env.OnActivity(a.CleanupCopy, mock.Anything, activities.CleanupInput{Region: "cn-north-4", JobID: jobID, ImageID: imageID}).
		Return(nil).Once()

	env.ExecuteWorkflow(CopyImage, validInput())

	app := testkit.AppError(t, env.GetWorkflowError())
	assert.Equal(t, activities.ErrVerifyFailed, app.Type())
	assert.Contains(t, app.Error(), "min_disk")
	var mismatches []string
	require.NoError(t, app.Details(&mismatches))
	assert.Len(t, mismatches, 1)
}

func TestKeepFailedImagesSkipsCompensation(t *testing.T) {
	env := newEnv(t)
	in := validInput()
	in.KeepFailedImages = true
	env.OnActivity(a.SubmitCopy, mock.Anything, mock.Anything).Return(submitted(), nil).Once()
	env.OnActivity(a.PollJob, mock.Anything, mock.Anything).Return(activities.PollJobResult{},
		temporal.NewApplicationErrorWithOptions("failed", activities.ErrCopyFailed, temporal.ApplicationErrorOptions{NonRetryable: true})).Once()
	forbid(env, a.VerifyImage, a.CleanupCopy)
	starts := countStarts(env)

	env.ExecuteWorkflow(CopyImage, in)

	assert.Equal(t, activities.ErrCopyFailed, testkit.AppError(t, env.GetWorkflowError()).Type())
	assert.Zero(t, starts.of(activities.NameCleanupCopy), "the user asked to keep the failed image")
	left, ok := failures.LeftBehindOf(env.GetWorkflowError())
	require.True(t, ok, "the failure says which image it kept")
	assert.True(t, left.Kept)
	assert.Equal(t, jobID, left.JobID)
}

func TestAdoptedActiveImageIsNeverDeleted(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(a.SubmitCopy, mock.Anything, mock.Anything).
		Return(activities.SubmitCopyResult{ImageID: imageID, Adopted: true, AdoptedStatus: "active"}, nil).Once()
	env.OnActivity(a.PollJob, mock.Anything, activities.PollJobInput{Region: "cn-north-4", ImageID: imageID}).
		Return(activities.PollJobResult{ImageID: imageID, Status: "active", Polls: 1}, nil).Once()
	env.OnActivity(a.VerifyImage, mock.Anything, mock.Anything).Return(
		temporal.NewApplicationErrorWithOptions("mismatch", activities.ErrVerifyFailed, temporal.ApplicationErrorOptions{NonRetryable: true})).Once()
	forbid(env, a.CleanupCopy)
	starts := countStarts(env)

	env.ExecuteWorkflow(CopyImage, validInput())

	assert.Equal(t, activities.ErrVerifyFailed, testkit.AppError(t, env.GetWorkflowError()).Type())
	assert.Zero(t, starts.of(activities.NameCleanupCopy), "an image that was active before this copy is someone else's")
}

func TestCancelDuringPollCompensates(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(a.SubmitCopy, mock.Anything, mock.Anything).Return(submitted(), nil).Once()
	env.OnActivity(a.PollJob, mock.Anything, mock.Anything).After(time.Hour).Return(pollDone(), nil).Once()
	// PollJob did not end, so the workflow never learned the image: the cleanup gets the job and
	// asks IMS which image it made.
	env.OnActivity(a.CleanupCopy, mock.Anything, activities.CleanupInput{Region: "cn-north-4", JobID: jobID}).
		Return(nil).Once()
	env.RegisterDelayedCallback(env.CancelWorkflow, 10*time.Minute)
	forbid(env, a.VerifyImage)
	starts := countStarts(env)

	env.ExecuteWorkflow(CopyImage, validInput())

	require.True(t, env.IsWorkflowCompleted())
	err := env.GetWorkflowError()
	require.Error(t, err)
	assert.True(t, temporal.IsCanceledError(err), "want a cancellation, got %v", err)
	assert.Zero(t, starts.of(activities.NameVerifyImage), "a cancelled copy is not verified")
}

// lostCleanup is the compensation after a submit that returned no result although a POST may have
// created a copy: CleanupCopy looks for the copy by its request, killed ones made since the submit
// was scheduled (at the workflow's start) included.
func lostCleanup() activities.CleanupInput {
	req := validInput().CopyRequest()
	return activities.CleanupInput{Region: "cn-north-4", Lost: &req, LostSince: workflowStart}
}

// submitFailed is a SubmitCopy error as the activity returns it: non-retryable, with its record of
// the last POST that may have created a copy.
func submitFailed(errType string, postAt time.Time) error {
	return temporal.NewApplicationErrorWithOptions("SubmitCopy failed", errType, temporal.ApplicationErrorOptions{
		NonRetryable: true,
		Details: []any{activities.SubmitFailure{PostAt: postAt,
			IMSFailure: activities.IMSFailure{Op: "ListImages", Status: 401, Code: "APIGW.0301", Class: "auth"}}},
	})
}

// An attempt POSTed and lost the answer; the next could not even look for the copy (credentials
// revoked). The workflow has no job or image ID, yet IMS may be copying: it must look for that
// copy and delete it, or the image is orphaned.
func TestSubmitFailureAfterAPossiblePostCleansUpByRequest(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(a.SubmitCopy, mock.Anything, mock.Anything).Return(activities.SubmitCopyResult{},
		submitFailed(activities.ErrIMSAuth, time.Date(2026, 11, 26, 6, 0, 0, 0, time.UTC))).Once()
	env.OnActivity(a.CleanupCopy, mock.Anything, lostCleanup()).Return(nil).Once()
	forbid(env, a.PollJob, a.VerifyImage)

	env.ExecuteWorkflow(CopyImage, validInput())

	app := testkit.AppError(t, env.GetWorkflowError())
	assert.Equal(t, activities.ErrIMSAuth, app.Type())
	var ims activities.IMSFailure
	require.NoError(t, app.Details(&ims))
	assert.Equal(t, "APIGW.0301", ims.Code, "IMS's answer reaches the user")
}

// A submit whose every attempt failed before POSTing (or was refused) created nothing: there is
// nothing to look for.
func TestSubmitFailureWithoutAPostCleansNothing(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(a.SubmitCopy, mock.Anything, mock.Anything).Return(activities.SubmitCopyResult{},
		submitFailed(activities.ErrIMSAuth, time.Time{})).Once()
	forbid(env, a.PollJob, a.VerifyImage, a.CleanupCopy)
	starts := countStarts(env)

	env.ExecuteWorkflow(CopyImage, validInput())

	assert.Equal(t, activities.ErrIMSAuth, testkit.AppError(t, env.GetWorkflowError()).Type())
	assert.Zero(t, starts.of(activities.NameCleanupCopy), "no POST, no copy")
}

// Cancelled while SubmitCopy runs, before it answered: an earlier attempt's POST may have created
// a copy, and nothing says otherwise, so the workflow looks for it.
func TestCancelDuringSubmitCleansUpByRequest(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(a.SubmitCopy, mock.Anything, mock.Anything).After(time.Hour).Return(submitted(), nil).Once()
	env.OnActivity(a.CleanupCopy, mock.Anything, lostCleanup()).Return(nil).Once()
	forbid(env, a.PollJob, a.VerifyImage)
	env.RegisterDelayedCallback(env.CancelWorkflow, time.Minute)

	env.ExecuteWorkflow(CopyImage, validInput())

	require.True(t, env.IsWorkflowCompleted())
	err := env.GetWorkflowError()
	assert.True(t, temporal.IsCanceledError(err), "want a cancellation, got %v", err)
}

func TestThrottledSubmitIsRetried(t *testing.T) {
	env := newEnv(t)
	throttled := temporal.NewApplicationErrorWithOptions("IMS answered 429 APIGW.0308", activities.ErrIMSThrottled,
		temporal.ApplicationErrorOptions{NextRetryDelay: 7 * time.Second})
	env.OnActivity(a.SubmitCopy, mock.Anything, mock.Anything).Return(activities.SubmitCopyResult{}, throttled).Times(2)
	env.OnActivity(a.SubmitCopy, mock.Anything, mock.Anything).Return(submitted(), nil).Once()
	env.OnActivity(a.PollJob, mock.Anything, mock.Anything).Return(pollDone(), nil).Once()
	env.OnActivity(a.VerifyImage, mock.Anything, mock.Anything).Return(nil).Once()
	forbid(env, a.CleanupCopy)

	env.ExecuteWorkflow(CopyImage, validInput())

	require.NoError(t, env.GetWorkflowError())
	env.AssertNumberOfCalls(t, activities.NameSubmitCopy, 3)
	var res Result
	require.NoError(t, env.GetWorkflowResult(&res))
	assert.Equal(t, imageID, res.ImageID)
}

func TestBadInputFailsWithoutActivities(t *testing.T) {
	for field, in := range map[string]Input{
		"name":        {Region: "cn-north-4", SourceImageID: sourceID, Name: "bad<name>"},
		"description": {Region: "cn-north-4", SourceImageID: sourceID, Name: "ok", Description: "line\rbreak"},
		"image_id":    {Region: "cn-north-4", SourceImageID: "not-a-uuid", Name: "ok"},
		"region":      {Region: "North 4", SourceImageID: sourceID, Name: "ok"},
		"cmk_id":      {Region: "cn-north-4", SourceImageID: sourceID, Name: "ok", CMKID: "key"},
	} {
		t.Run(field, func(t *testing.T) {
			env := newEnv(t)
			forbid(env, a.SubmitCopy, a.PollJob, a.VerifyImage, a.CleanupCopy)
			starts := countStarts(env)

			env.ExecuteWorkflow(CopyImage, in)

			app := testkit.AppError(t, env.GetWorkflowError())
			assert.Equal(t, activities.ErrInvalidInput, app.Type())
			assert.True(t, app.NonRetryable())
			assert.Contains(t, app.Error(), field)
			assert.Empty(t, starts.n, "no activity may run for bad input")
		})
	}
}

func TestProgressQueryMidRun(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(a.SubmitCopy, mock.Anything, mock.Anything).After(30*time.Second).Return(submitted(), nil).Once()
	env.OnActivity(a.PollJob, mock.Anything, mock.Anything).After(10*time.Minute).Return(pollDone(), nil).Once()
	env.OnActivity(a.VerifyImage, mock.Anything, mock.Anything).Return(nil).Once()
	forbid(env, a.CleanupCopy)
	var mid Progress
	env.RegisterDelayedCallback(func() {
		v, err := env.QueryWorkflow(ProgressQuery)
		require.NoError(t, err)
		require.NoError(t, v.Get(&mid))
	}, 3*time.Minute)

	env.ExecuteWorkflow(CopyImage, validInput())

	require.NoError(t, env.GetWorkflowError())
	assert.Equal(t, PhasePolling, mid.Phase)
	assert.Equal(t, jobID, mid.JobID)
	assert.Empty(t, mid.LastError)
	assert.False(t, mid.StartedAt.IsZero())
	assert.Equal(t, 30*time.Second, mid.PhaseStartedAt.Sub(mid.StartedAt))
	// While PollJob waits, the job's percent, polls and image are in its heartbeat details only:
	// nothing is sent to the workflow per step of progress.
	assert.Zero(t, mid.Percent)
	assert.Zero(t, mid.Polls)
	assert.Empty(t, mid.ImageID)

	v, err := env.QueryWorkflow(ProgressQuery)
	require.NoError(t, err)
	var end Progress
	require.NoError(t, v.Get(&end))
	assert.Equal(t, PhaseSucceeded, end.Phase)
	assert.InDelta(t, 1, end.Percent, 1e-9)
	assert.Equal(t, 6, end.Polls, "PollJob's result carries its poll count")
	assert.Equal(t, imageID, end.ImageID)
}

// During a deploy, a PollJob attempt still running on a worker of the previous version sends
// "job-progress" signals to a workflow that no longer reads them; the copy must go on regardless.
func TestProgressSignalFromAnOlderWorkerIsHarmless(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(a.SubmitCopy, mock.Anything, mock.Anything).Return(submitted(), nil).Once()
	env.OnActivity(a.PollJob, mock.Anything, pollInput()).After(10*time.Minute).Return(pollDone(), nil).Once()
	env.OnActivity(a.VerifyImage, mock.Anything, verifyInput()).Return(nil).Once()
	forbid(env, a.CleanupCopy)
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow("job-progress", map[string]any{"Status": "RUNNING", "Percent": 0.4, "ImageID": imageID, "Polls": 3})
	}, 2*time.Minute)

	env.ExecuteWorkflow(CopyImage, validInput())

	require.NoError(t, env.GetWorkflowError())
	var res Result
	require.NoError(t, env.GetWorkflowResult(&res))
	assert.Equal(t, imageID, res.ImageID)
}

func TestCopyWorkflowIDIsTheCopysIdentity(t *testing.T) {
	in := validInput()
	again := in
	again.Description = "same copy, other words"
	other := in
	other.Name = "another-copy"
	assert.Equal(t, "copy/cn-north-4/"+sourceID+"/golden-copy", WorkflowID(in))
	assert.Equal(t, WorkflowID(in), WorkflowID(again))
	assert.NotEqual(t, WorkflowID(in), WorkflowID(other))

	// Names IMS allows but a gRPC header cannot carry as they are make a printable ID, one per name.
	chinese, other2 := in, in
	chinese.Name, other2.Name = "金色镜像 2026", "金色镜像 2027"
	id := WorkflowID(chinese)
	assert.False(t, strings.ContainsFunc(id, func(r rune) bool { return r < ' ' || r > '~' }), id)
	assert.NotEqual(t, id, WorkflowID(other2))
	assert.Equal(t, "copy/cn-north-4/"+sourceID+"/golden copy", WorkflowID(Input{Region: "cn-north-4", SourceImageID: sourceID,
		Name: "golden copy"}), "an ASCII name stays as it was, so running copies are still found")
}

// A cross-region copy's job is submitted and polled in the source's region; its image is watched,
// verified against the source and, on failure, deleted in the target region.
func TestCrossRegionCopyActsInBothRegions(t *testing.T) {
	in := validInput()
	in.CMKID, in.TargetRegion, in.AgencyName = "", "cn-east-3", "ims_admin_agency"
	req := in.CopyRequest()
	env := newEnv(t)
	granted := permit.Request{Key: permit.KeyOf(in.Region, in.TargetRegion), Holder: "default-test-workflow-id", RunID: "default-test-run-id", RequestID: "default-test-run-id"}
	env.OnActivity(a.RequestPermit, mock.Anything, granted).Return(func(context.Context, permit.Request) error {
		env.RegisterDelayedCallback(func() { env.SignalWorkflow(permit.GrantedSignal, granted.RequestID) }, time.Minute)
		return nil
	}).Once()
	env.OnSignalExternalWorkflow(mock.Anything, permit.WorkflowID("default-test-taskqueue"), "", permit.ReleaseSignal, granted).Return(nil).Once()
	env.OnActivity(a.SubmitCopy, mock.Anything, activities.SubmitCopyInput{Region: "cn-north-4", Request: req,
		TargetRegion: "cn-east-3", AgencyName: "ims_admin_agency"}).Return(submitted(), nil).Once()
	env.OnActivity(a.PollJob, mock.Anything, activities.PollJobInput{Region: "cn-north-4", JobID: jobID, ImageRegion: "cn-east-3"}).
		Return(pollDone(), nil).Once()
	env.OnActivity(a.VerifyImage, mock.Anything, activities.VerifyImageInput{Region: "cn-east-3", SourceRegion: "cn-north-4",
		ImageID: imageID, SourceImageID: sourceID, Name: "golden-copy"}).Return(
		temporal.NewApplicationErrorWithOptions("mismatch", activities.ErrVerifyFailed, temporal.ApplicationErrorOptions{NonRetryable: true})).Once()
	env.OnActivity(a.CleanupCopy, mock.Anything, activities.CleanupInput{Region: "cn-north-4", JobID: jobID, ImageID: imageID,
		ImageRegion: "cn-east-3"}).Return(nil).Once()

	env.ExecuteWorkflow(CopyImage, in)

	app := testkit.AppError(t, env.GetWorkflowError())
	assert.Equal(t, activities.ErrVerifyFailed, app.Type())
	assert.Contains(t, app.Message(), "in cn-east-3", "the failure names the region of the image")
}

// A cross-region copy holds one of the tenant's permits from before its POST to its end: it does not
// submit until the permit is granted, and gives it back after its compensation, cancelled or not.
func TestCrossRegionCopyWaitsForItsPermit(t *testing.T) {
	in := validInput()
	in.CMKID, in.TargetRegion, in.AgencyName = "", "cn-east-3", "ims_admin_agency"
	env := newEnv(t)
	env.OnActivity(a.RequestPermit, mock.Anything, mock.Anything).Return(nil).Once()
	env.OnSignalExternalWorkflow(mock.Anything, mock.Anything, "", permit.ReleaseSignal, mock.Anything).Return(nil).Once()
	forbid(env, a.SubmitCopy, a.PollJob, a.VerifyImage, a.CleanupCopy)
	starts := countStarts(env)
	var phase string
	env.RegisterDelayedCallback(func() {
		v, err := env.QueryWorkflow(ProgressQuery)
		require.NoError(t, err)
		var p Progress
		require.NoError(t, v.Get(&p))
		phase = p.Phase
		env.CancelWorkflow()
	}, time.Hour)

	env.ExecuteWorkflow(CopyImage, in)

	assert.Equal(t, PhaseAwaitingPermit, phase, "an hour without a permit, the copy still waits")
	assert.True(t, temporal.IsCanceledError(env.GetWorkflowError()), "%v", env.GetWorkflowError())
	assert.Zero(t, starts.of(activities.NameSubmitCopy), "nothing is POSTed without a permit")
}

// IMS cannot encrypt during a cross-region copy, and needs an agency for one.
func TestCrossRegionCopyInputRules(t *testing.T) {
	in := validInput()
	in.TargetRegion, in.AgencyName = "cn-east-3", "ims_admin_agency"
	assert.ErrorContains(t, in.Validate(), "cmk_id")
	in.CMKID = ""
	assert.NoError(t, in.Validate())
	in.AgencyName = ""
	assert.ErrorContains(t, in.Validate(), "agency_name")
	assert.NotEqual(t, WorkflowID(validInput()), WorkflowID(in), "a cross-region copy is another copy")
}
