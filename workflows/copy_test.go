package workflows

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/imscopy/imscopy/activities"
)

const (
	sourceID = "465076de-dc36-4aec-80f5-ef9d8009428f"
	kmsKey   = "bd66288c-9081-460a-8227-4cbd0c814cb4"
	jobID    = "edc89b490d7d4392898e19b2deb34797"
	imageID  = "498cc67e-0f9b-4b4e-8f53-2a6f1c0e7d11"
)

var a *activities.Activities

func validInput() CopyInput {
	return CopyInput{Region: "cn-north-4", SourceImageID: sourceID, Name: "golden-copy", CMKID: kmsKey}
}

func newEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	Register(env, &activities.Activities{})
	t.Cleanup(func() { env.AssertExpectations(t) })
	return env
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

// workflowAppError unwraps the workflow's error down to its application error.
func workflowAppError(t *testing.T, err error) *temporal.ApplicationError {
	t.Helper()
	require.Error(t, err)
	var app *temporal.ApplicationError
	require.True(t, errors.As(err, &app), "want an application error, got %v", err)
	return app
}

func TestCopySucceeds(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(a.SubmitCopy, mock.Anything, activities.SubmitCopyInput{Region: "cn-north-4", Request: validInput().CopyRequest()}).
		Return(submitted(), nil).Once()
	env.OnActivity(a.PollJob, mock.Anything, pollInput()).After(5*time.Minute).Return(pollDone(), nil).Once()
	env.OnActivity(a.VerifyImage, mock.Anything, verifyInput()).Return(nil).Once()

	env.ExecuteWorkflow(CopyImage, validInput())

	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var res CopyResult
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
	env.AssertNotCalled(t, "CleanupCopy", mock.Anything, mock.Anything)
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

	env.ExecuteWorkflow(CopyImage, validInput())

	require.True(t, env.IsWorkflowCompleted())
	app := workflowAppError(t, env.GetWorkflowError())
	assert.Equal(t, activities.ErrCopyFailed, app.Type())
	assert.True(t, app.NonRetryable())
	assert.Contains(t, app.Error(), "IMG.0099")
	assert.Contains(t, app.Error(), "no access to the KMS key")
	var got activities.CopyFailure
	require.NoError(t, app.Details(&got))
	assert.Equal(t, failure, got)
	env.AssertNotCalled(t, "VerifyImage", mock.Anything, mock.Anything)
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

	app := workflowAppError(t, env.GetWorkflowError())
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

	env.ExecuteWorkflow(CopyImage, in)

	assert.Equal(t, activities.ErrCopyFailed, workflowAppError(t, env.GetWorkflowError()).Type())
	env.AssertNotCalled(t, "CleanupCopy", mock.Anything, mock.Anything)
}

func TestAdoptedActiveImageIsNeverDeleted(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(a.SubmitCopy, mock.Anything, mock.Anything).
		Return(activities.SubmitCopyResult{ImageID: imageID, Adopted: true, AdoptedStatus: "active"}, nil).Once()
	env.OnActivity(a.PollJob, mock.Anything, activities.PollJobInput{Region: "cn-north-4", ImageID: imageID}).
		Return(activities.PollJobResult{ImageID: imageID, Status: "active", Polls: 1}, nil).Once()
	env.OnActivity(a.VerifyImage, mock.Anything, mock.Anything).Return(
		temporal.NewApplicationErrorWithOptions("mismatch", activities.ErrVerifyFailed, temporal.ApplicationErrorOptions{NonRetryable: true})).Once()

	env.ExecuteWorkflow(CopyImage, validInput())

	assert.Equal(t, activities.ErrVerifyFailed, workflowAppError(t, env.GetWorkflowError()).Type())
	env.AssertNotCalled(t, "CleanupCopy", mock.Anything, mock.Anything)
}

func TestCancelDuringPollCompensates(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(a.SubmitCopy, mock.Anything, mock.Anything).Return(submitted(), nil).Once()
	env.OnActivity(a.PollJob, mock.Anything, mock.Anything).After(time.Hour).Return(pollDone(), nil).Once()
	// The image ID reaches the workflow only through the progress signal before the cancel,
	// so the cleanup getting it shows that signals feed the compensation.
	env.OnActivity(a.CleanupCopy, mock.Anything, activities.CleanupInput{Region: "cn-north-4", JobID: jobID, ImageID: imageID}).
		Return(nil).Once()
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(activities.JobProgressSignal, activities.JobProgress{Status: "RUNNING", Percent: 0.3, ImageID: imageID, Polls: 4})
	}, 5*time.Minute)
	env.RegisterDelayedCallback(env.CancelWorkflow, 10*time.Minute)

	env.ExecuteWorkflow(CopyImage, validInput())

	require.True(t, env.IsWorkflowCompleted())
	err := env.GetWorkflowError()
	require.Error(t, err)
	assert.True(t, temporal.IsCanceledError(err), "want a cancellation, got %v", err)
	env.AssertNotCalled(t, "VerifyImage", mock.Anything, mock.Anything)
}

func TestThrottledSubmitIsRetried(t *testing.T) {
	env := newEnv(t)
	throttled := temporal.NewApplicationErrorWithOptions("IMS answered 429 APIGW.0308", activities.ErrIMSThrottled,
		temporal.ApplicationErrorOptions{NextRetryDelay: 7 * time.Second})
	env.OnActivity(a.SubmitCopy, mock.Anything, mock.Anything).Return(activities.SubmitCopyResult{}, throttled).Times(2)
	env.OnActivity(a.SubmitCopy, mock.Anything, mock.Anything).Return(submitted(), nil).Once()
	env.OnActivity(a.PollJob, mock.Anything, mock.Anything).Return(pollDone(), nil).Once()
	env.OnActivity(a.VerifyImage, mock.Anything, mock.Anything).Return(nil).Once()

	env.ExecuteWorkflow(CopyImage, validInput())

	require.NoError(t, env.GetWorkflowError())
	env.AssertNumberOfCalls(t, "SubmitCopy", 3)
	var res CopyResult
	require.NoError(t, env.GetWorkflowResult(&res))
	assert.Equal(t, imageID, res.ImageID)
}

func TestBadInputFailsWithoutActivities(t *testing.T) {
	for field, in := range map[string]CopyInput{
		"name":        {Region: "cn-north-4", SourceImageID: sourceID, Name: "bad<name>"},
		"description": {Region: "cn-north-4", SourceImageID: sourceID, Name: "ok", Description: "line\rbreak"},
		"image_id":    {Region: "cn-north-4", SourceImageID: "not-a-uuid", Name: "ok"},
		"region":      {Region: "North 4", SourceImageID: sourceID, Name: "ok"},
		"cmk_id":      {Region: "cn-north-4", SourceImageID: sourceID, Name: "ok", CMKID: "key"},
	} {
		t.Run(field, func(t *testing.T) {
			env := newEnv(t)
			started := 0
			env.SetOnActivityStartedListener(func(*activity.Info, context.Context, converter.EncodedValues) { started++ })

			env.ExecuteWorkflow(CopyImage, in)

			app := workflowAppError(t, env.GetWorkflowError())
			assert.Equal(t, activities.ErrInvalidInput, app.Type())
			assert.True(t, app.NonRetryable())
			assert.Contains(t, app.Error(), field)
			assert.Zero(t, started, "no activity may run for bad input")
		})
	}
}

func TestProgressQueryMidRun(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(a.SubmitCopy, mock.Anything, mock.Anything).After(30*time.Second).Return(submitted(), nil).Once()
	env.OnActivity(a.PollJob, mock.Anything, mock.Anything).After(10*time.Minute).Return(pollDone(), nil).Once()
	env.OnActivity(a.VerifyImage, mock.Anything, mock.Anything).Return(nil).Once()
	var mid Progress
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(activities.JobProgressSignal, activities.JobProgress{Status: "RUNNING", Percent: 0.4, ImageID: imageID, Polls: 3})
	}, 2*time.Minute)
	env.RegisterDelayedCallback(func() {
		v, err := env.QueryWorkflow(ProgressQuery)
		require.NoError(t, err)
		require.NoError(t, v.Get(&mid))
	}, 3*time.Minute)

	env.ExecuteWorkflow(CopyImage, validInput())

	require.NoError(t, env.GetWorkflowError())
	assert.Equal(t, PhasePolling, mid.Phase)
	assert.InDelta(t, 0.4, mid.Percent, 1e-9)
	assert.Equal(t, jobID, mid.JobID)
	assert.Equal(t, imageID, mid.ImageID)
	assert.Equal(t, 3, mid.Polls)
	assert.Empty(t, mid.LastError)
	assert.False(t, mid.StartedAt.IsZero())
	assert.Equal(t, 30*time.Second, mid.PhaseStartedAt.Sub(mid.StartedAt))

	v, err := env.QueryWorkflow(ProgressQuery)
	require.NoError(t, err)
	var end Progress
	require.NoError(t, v.Get(&end))
	assert.Equal(t, PhaseSucceeded, end.Phase)
	assert.InDelta(t, 1, end.Percent, 1e-9)
	assert.Equal(t, 6, end.Polls)
}

func TestCopyWorkflowIDIsTheCopysIdentity(t *testing.T) {
	in := validInput()
	again := in
	again.Description = "same copy, other words"
	other := in
	other.Name = "another-copy"
	assert.Equal(t, "copy/cn-north-4/"+sourceID+"/golden-copy", CopyWorkflowID(in))
	assert.Equal(t, CopyWorkflowID(in), CopyWorkflowID(again))
	assert.NotEqual(t, CopyWorkflowID(in), CopyWorkflowID(other))
}
