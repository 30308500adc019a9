package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"

	"github.com/imscopy/imscopy/activities/activityapi"
	"github.com/imscopy/imscopy/workflows/copyimage"
	"github.com/imscopy/imscopy/workflows/failures"
)

var result = copyimage.Result{
	ImageID: "a1b2c3d4-0000-4000-8000-000000000001",
	JobID:   "ff8080814dbd65d7014dbe0d84db0013",
	Phases: []copyimage.PhaseTime{
		{Phase: copyimage.PhaseSubmitting, Duration: 1230 * time.Millisecond},
		{Phase: copyimage.PhasePolling, Duration: 61*time.Second + 400*time.Millisecond},
	},
}

var copyFailed = temporal.NewApplicationErrorWithOptions(
	"copy of image 465076de-dc36-4aec-80f5-ef9d8009428f to \"x\" in cn-north-4 failed while polling: IMS job failed: IMS.0007 the KMS key is disabled",
	activityapi.ErrCopyFailed, temporal.ApplicationErrorOptions{NonRetryable: true,
		Details: []any{activityapi.CopyFailure{JobID: result.JobID, ErrorCode: "IMS.0007", FailReason: "the KMS key is disabled"}}})

func TestPrintSuccess(t *testing.T) {
	var out, errOut bytes.Buffer
	require.NoError(t, printOutcome(&out, &errOut, false, "wf", "run", result, nil))

	assert.Equal(t, "copy succeeded: image a1b2c3d4-0000-4000-8000-000000000001\n"+
		"  IMS job: ff8080814dbd65d7014dbe0d84db0013\n"+
		"  took 1m3s: submitting 1.2s, polling 1m1s\n", out.String())
	assert.Empty(t, errOut.String())
}

func TestPrintSuccessJSON(t *testing.T) {
	var out bytes.Buffer
	adopted := result
	adopted.Adopted = true
	require.NoError(t, printOutcome(&out, &bytes.Buffer{}, true, "wf", "run", adopted, nil))

	var got map[string]any
	require.NoError(t, json.Unmarshal(out.Bytes(), &got))
	assert.Equal(t, map[string]any{
		"workflowId": "wf", "runId": "run", "succeeded": true, "adopted": true, "adoptedFrom": "unknown",
		"imageId": result.ImageID, "jobId": result.JobID,
		"phases": []any{
			map[string]any{"phase": "submitting", "seconds": 1.23},
			map[string]any{"phase": "polling", "seconds": 61.4},
		},
	}, got)
}

// An adopted image's line says which copy made it and when, never that "an earlier attempt" made
// an image another workflow made.
func TestPrintAdoptionSaysWhichCopyMadeIt(t *testing.T) {
	adopted := copyimage.Result{ImageID: result.ImageID, Adopted: true, ImageCreatedAt: "2026-11-26T06:00:09Z"}
	for _, c := range []struct{ from, want, not string }{
		{copyimage.AdoptedFromThisCopy, "adopted: this copy (wf) made the image at 2026-11-26T06:00:09Z: IMS's answer to its submit was lost", "another"},
		{copyimage.AdoptedFromEarlierCopy, "adopted: the image already existed, created at 2026-11-26T06:00:09Z, before this copy submitted: another copy of the same request", "this copy (wf)"},
		{copyimage.AdoptedFromUnknown, "did not record which copy made it", "earlier attempt"},
	} {
		t.Run(c.from, func(t *testing.T) {
			res := adopted
			res.AdoptedFrom = c.from
			var out bytes.Buffer
			require.NoError(t, printOutcome(&out, &bytes.Buffer{}, false, "wf", "run", res, nil))
			assert.Contains(t, out.String(), c.want)
			assert.NotContains(t, out.String(), c.not)
			assert.NotContains(t, out.String(), "an earlier attempt had already created")

			out.Reset()
			require.NoError(t, printOutcome(&out, &bytes.Buffer{}, true, "wf", "run", res, nil))
			var got resultJSON
			require.NoError(t, json.Unmarshal(out.Bytes(), &got))
			assert.Equal(t, c.from, got.AdoptedFrom)
			assert.Equal(t, "2026-11-26T06:00:09Z", got.ImageCreatedAt)
		})
	}
}

func TestPrintFailureCarriesIMSReason(t *testing.T) {
	var out, errOut bytes.Buffer
	require.NoError(t, printOutcome(&out, &errOut, false, "wf", "run", copyimage.Result{}, copyFailed))
	assert.Empty(t, out.String(), "a failure is not a result")
	assert.Contains(t, errOut.String(), "copy failed (CopyFailed): ")
	assert.Contains(t, errOut.String(), "IMS.0007 the KMS key is disabled")

	out.Reset()
	require.NoError(t, printOutcome(&out, &bytes.Buffer{}, true, "wf", "run", copyimage.Result{}, copyFailed))
	var got resultJSON
	require.NoError(t, json.Unmarshal(out.Bytes(), &got))
	assert.False(t, got.Succeeded)
	require.NotNil(t, got.Error)
	assert.Equal(t, activityapi.ErrCopyFailed, got.Error.Type)
	assert.Equal(t, "IMS.0007", got.Error.IMSErrorCode)
	assert.Equal(t, "the KMS key is disabled", got.Error.IMSFailReason)
}

// A failed job's percent, which its failure carries, is said at the end: the job got that far.
func TestPrintFailureSaysHowFarTheJobGot(t *testing.T) {
	failed := temporal.NewApplicationErrorWithOptions("IMS job failed: IMS.0046 disk", activityapi.ErrCopyFailed,
		temporal.ApplicationErrorOptions{NonRetryable: true, Details: []any{activityapi.CopyFailure{JobID: result.JobID, Percent: 0.4}}})
	var errOut bytes.Buffer
	require.NoError(t, printOutcome(&bytes.Buffer{}, &errOut, false, "wf", "run", copyimage.Result{}, failed))
	assert.Contains(t, errOut.String(), "copy failed (CopyFailed) at 40%: IMS job failed")

	var out bytes.Buffer
	require.NoError(t, printOutcome(&out, &bytes.Buffer{}, true, "wf", "run", copyimage.Result{}, failed))
	assert.Contains(t, out.String(), `"percent": 0.4`)

	errOut.Reset()
	require.NoError(t, printOutcome(&bytes.Buffer{}, &errOut, false, "wf", "run", copyimage.Result{}, copyFailed))
	assert.Contains(t, errOut.String(), "copy failed (CopyFailed): ", "no percent when none is known")
}

func TestDescribeFailureKinds(t *testing.T) {
	assert.Equal(t, "Canceled", describeFailure(temporal.NewCanceledError()).Type)
	assert.Equal(t, activityapi.ErrInvalidInput,
		describeFailure(temporal.NewNonRetryableApplicationError("invalid name", activityapi.ErrInvalidInput, nil)).Type)
	f := describeFailure(errors.New("something else"))
	assert.Equal(t, "Unknown", f.Type)
	assert.Equal(t, "something else", f.Message)
}

// roundTrip is err as a client receives it: through the failure the server stores.
func roundTrip(err error) error {
	fc := temporal.GetDefaultFailureConverter()
	return fc.FailureToError(fc.ErrorToFailure(err))
}

var leftImage = failures.LeftBehind{ImageID: "9cca587e-1997-4e05-8771-8ab6cc05e5e6", Region: "cn-north-4", Name: "x",
	JobID: result.JobID, CleanupError: "DeleteImage: IMS answered 403 IMG.0403"}

// Every way of reading a failed copy's end names the image its clean-up left behind, and what to do.
func TestPrintFailureNamesTheImageLeftBehind(t *testing.T) {
	failed := roundTrip(temporal.NewApplicationErrorWithOptions("copy failed while polling: IMS.0007 the KMS key is disabled", activityapi.ErrCopyFailed,
		temporal.ApplicationErrorOptions{NonRetryable: true, Cause: failures.LeftBehindError(leftImage),
			Details: []any{activityapi.CopyFailure{JobID: result.JobID, ErrorCode: "IMS.0007", FailReason: "the KMS key is disabled"}}}))

	var out, errOut bytes.Buffer
	require.NoError(t, printOutcome(&out, &errOut, false, "wf", "run", copyimage.Result{}, failed))
	assert.Contains(t, errOut.String(), "IMS.0007 the KMS key is disabled")
	assert.Contains(t, errOut.String(), "image 9cca587e-1997-4e05-8771-8ab6cc05e5e6 in cn-north-4 was left behind")
	assert.Contains(t, errOut.String(), "--image_id=9cca587e-1997-4e05-8771-8ab6cc05e5e6")

	out.Reset()
	require.NoError(t, printOutcome(&out, &bytes.Buffer{}, true, "wf", "run", copyimage.Result{}, failed))
	var got resultJSON
	require.NoError(t, json.Unmarshal(out.Bytes(), &got))
	require.NotNil(t, got.LeftBehind, out.String())
	assert.Equal(t, leftImage.ImageID, got.LeftBehind.ImageID)
	assert.False(t, got.LeftBehind.Kept)
	assert.Contains(t, got.LeftBehind.Advice, "by hand")
	assert.Equal(t, "IMS.0007", got.Error.IMSErrorCode, "the copy's own failure is still read")

	// A cancellation carries it as its detail; --keep-failed says which image it kept.
	kept := leftImage
	kept.Kept, kept.CleanupError = true, ""
	errOut.Reset()
	require.NoError(t, printOutcome(&bytes.Buffer{}, &errOut, false, "wf", "run", copyimage.Result{}, roundTrip(temporal.NewCanceledError(kept))))
	assert.Contains(t, errOut.String(), "copy failed (Canceled): the copy was cancelled\n")
	assert.Contains(t, errOut.String(), "image 9cca587e-1997-4e05-8771-8ab6cc05e5e6 in cn-north-4 was kept for inspection")
}

func TestCleanReasonDropsTheSDKsWrapping(t *testing.T) {
	assert.Equal(t, "IMS copy job 3969 failed: IMG.0046: copying failed; the failed copy's image could not be deleted: DeleteImage: IMS answered 403",
		cleanReason("activity error (type: PollJob, scheduledEventID: 11, startedEventID: 12, identity: 24288@vm@): IMS copy job 3969 failed: "+
			"IMG.0046: copying failed (type: CopyFailed, retryable: false); the failed copy's image could not be deleted: "+
			"activity error (type: CleanupCopy, scheduledEventID: 17, startedEventID: 18, identity: 24288@vm@): DeleteImage: IMS answered 403 "+
			"(type: IMSForbidden, retryable: false)"))
	assert.Equal(t, "canceled", cleanReason("activity error (type: SubmitCopy, scheduledEventID: 5, startedEventID: 0, identity: 1@h@): canceled"))
}

func TestStatusExitCodesTellTheEndsApart(t *testing.T) {
	codes := map[enumspb.WorkflowExecutionStatus]int{
		enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING:    exitOK,
		enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED:  exitOK,
		enumspb.WORKFLOW_EXECUTION_STATUS_FAILED:     exitStatusFailed,
		enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED:   exitStatusCancelled,
		enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED: exitStatusTerminated,
		enumspb.WORKFLOW_EXECUTION_STATUS_TIMED_OUT:  exitStatusTerminated,
	}
	for s, want := range codes {
		assert.Equal(t, want, statusExit(s), s.String())
	}
	for _, c := range []int{exitStatusFailed, exitStatusCancelled, exitStatusTerminated} {
		assert.NotContains(t, []int{exitOK, exitFailed, exitUsage, exitInterrupted}, c, "distinct from the starter's other codes")
	}
}
