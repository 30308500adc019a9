package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/imscopy/imscopy/activities"
	"github.com/imscopy/imscopy/workflows/copyimage"
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
	activities.ErrCopyFailed, temporal.ApplicationErrorOptions{NonRetryable: true,
		Details: []any{activities.CopyFailure{JobID: result.JobID, ErrorCode: "IMS.0007", FailReason: "the KMS key is disabled"}}})

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
		"workflowId": "wf", "runId": "run", "succeeded": true, "adopted": true,
		"imageId": result.ImageID, "jobId": result.JobID,
		"phases": []any{
			map[string]any{"phase": "submitting", "seconds": 1.23},
			map[string]any{"phase": "polling", "seconds": 61.4},
		},
	}, got)
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
	assert.Equal(t, activities.ErrCopyFailed, got.Error.Type)
	assert.Equal(t, "IMS.0007", got.Error.IMSErrorCode)
	assert.Equal(t, "the KMS key is disabled", got.Error.IMSFailReason)
}

func TestDescribeFailureKinds(t *testing.T) {
	assert.Equal(t, "Canceled", describeFailure(temporal.NewCanceledError()).Type)
	assert.Equal(t, activities.ErrInvalidInput,
		describeFailure(temporal.NewNonRetryableApplicationError("invalid name", activities.ErrInvalidInput, nil)).Type)
	f := describeFailure(errors.New("something else"))
	assert.Equal(t, "Unknown", f.Type)
	assert.Equal(t, "something else", f.Message)
}
