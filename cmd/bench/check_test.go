package main

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"

	"github.com/imscopy/imscopy/activities"
	"github.com/imscopy/imscopy/imsapi/imsemu"
	"github.com/imscopy/imscopy/workflows/copyimage"
)

// A failure that says IMS's reason was lost passes only where the reason really was out of reach:
// the answer naming the job was lost, or the attempt that POSTed was lost with its worker.
func TestChaosCheckAcceptsALostReasonOnlyWhereItWasLost(t *testing.T) {
	const image = "dda83557-1991-49ad-974c-ff80cab83432"
	failedJob := imsemu.AdminJob{ID: "job-1", Status: "FAIL", ImageID: image, ErrorCode: "IMG.0008", FailReason: "copy failed"}
	lost := temporal.NewNonRetryableApplicationError(fmt.Sprintf("the copy into image %s failed; %s", image, activities.ReasonLostText),
		activities.ErrCopyFailed, nil, activities.CopyFailure{ImageID: image, ReasonLost: true})
	withReason := temporal.NewNonRetryableApplicationError("IMS copy job job-1 failed: IMG.0008: copy failed",
		activities.ErrCopyFailed, nil, activities.CopyFailure{JobID: "job-1", ImageID: image, ErrorCode: "IMG.0008", FailReason: "copy failed"})
	answerLost := failedJob
	answerLost.AnswerLost = true
	for name, c := range map[string]struct {
		err        error
		job        imsemu.AdminJob
		attempt    int32
		violations int
		reasonLost bool
	}{
		"IMS's reason carried":                 {withReason, failedJob, 1, 0, false},
		"reason lost with the lost answer":     {lost, answerLost, 1, 0, true},
		"reason lost with a killed attempt":    {lost, failedJob, 2, 0, true},
		"reason lost although the answer came": {lost, failedJob, 1, 1, true},
		"no reason although the answer came":   {temporal.NewNonRetryableApplicationError("failed", activities.ErrCopyFailed, nil), failedJob, 1, 1, false},
		"reason lost but another image named":  {temporal.NewNonRetryableApplicationError(activities.ReasonLostText, activities.ErrCopyFailed, nil, activities.CopyFailure{ImageID: "other", ReasonLost: true}), answerLost, 1, 1, true},
		"failed although the job did not":      {withReason, imsemu.AdminJob{Status: "SUCCESS"}, 1, 1, false},
		"failed without an application error":  {errors.New("boom"), failedJob, 1, 1, false},
	} {
		t.Run(name, func(t *testing.T) {
			var violations []string
			got := checkFailure("bench-chaos-1", c.err, []imsemu.AdminJob{c.job},
				func(string) (int32, error) { return c.attempt, nil },
				func(f string, args ...any) { violations = append(violations, fmt.Sprintf(f, args...)) })
			assert.Len(t, violations, c.violations, "%v", violations)
			assert.Equal(t, c.reasonLost, got)
		})
	}
}

// A Get that failed because the server was away is not a result: the copy is asked again rather
// than recorded with an empty image (which the check would call a violation).
func TestChaosWaitDoesNotRecordAResultItDidNotRead(t *testing.T) {
	completed, failed := enums.WORKFLOW_EXECUTION_STATUS_COMPLETED, enums.WORKFLOW_EXECUTION_STATUS_FAILED
	unavailable := errors.New("rpc error: code = Unavailable")
	_, ok := closedOutcome(completed, copyimage.Result{}, unavailable)
	assert.False(t, ok, "completed, but its result was not read")
	_, ok = closedOutcome(failed, copyimage.Result{}, unavailable)
	assert.False(t, ok, "failed, but its failure was not read")
	oc, ok := closedOutcome(completed, copyimage.Result{ImageID: "img"}, nil)
	assert.True(t, ok)
	assert.Equal(t, "img", oc.imageID)
}
