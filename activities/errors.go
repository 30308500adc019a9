package activities

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/imscopy/imscopy/activities/activityapi"
	"github.com/imscopy/imscopy/imsapi"
)

// submitFailed gives a SubmitCopy error its SubmitFailure, keeping its type, message and retry
// advice; a cancellation stays a cancellation.
func submitFailed(err error, postAt time.Time) error {
	f := SubmitFailure{PostAt: postAt}
	if errors.Is(err, context.Canceled) {
		return temporal.NewCanceledError(f)
	}
	var app *temporal.ApplicationError
	if !errors.As(err, &app) {
		// Only the attempt's own deadline gets here; Temporal has timed the attempt out already.
		return err
	}
	if app.HasDetails() {
		_ = app.Details(&f.IMSFailure)
	}
	return temporal.NewApplicationErrorWithOptions(app.Message(), app.Type(), temporal.ApplicationErrorOptions{
		NonRetryable: app.NonRetryable(), NextRetryDelay: app.NextRetryDelay(), Details: []any{f}})
}

// classTypes maps each imsapi class to its error type and to what the user should do.
var classTypes = map[imsapi.Class]struct{ errType, advice string }{
	imsapi.ClassInvalid:   {ErrIMSInvalidRequest, "fix the request; sending it again cannot succeed"},
	imsapi.ClassNotFound:  {ErrIMSNotFound, "check the image or job ID and the region"},
	imsapi.ClassForbidden: {ErrIMSForbidden, "grant the worker's IAM user the IMS permissions (and KMS ones for an encrypted copy), or use an image the project owns"},
	imsapi.ClassAuth:      {ErrIMSAuth, "check the worker's credentials (HUAWEICLOUD_SDK_AK, HUAWEICLOUD_SDK_SK) and HUAWEICLOUD_SDK_PROJECT_ID"},
	imsapi.ClassQuota:     {ErrIMSQuota, "free quota (delete unused private images, let running jobs finish) or ask for a higher quota, then start the copy again"},
	imsapi.ClassThrottled: {ErrIMSThrottled, "IMS is limiting requests; retrying later"},
	imsapi.ClassBusy:      {ErrIMSBusy, "the resource is still being worked on; retrying later"},
	imsapi.ClassTransient: {ErrIMSTransient, "IMS or the network failed; retrying with back-off"},
	imsapi.ClassUnknown:   {ErrIMSUnknown, "IMS gave an unexpected answer; report it with the request ID"},
}

// throttleDelay is the base of the wait after a throttled call when IMS sends no Retry-After
// (docs/ims-api.md section 8.3: none is documented). Ten seconds outlasts a per-second gateway
// limit with room, and IMG.0060 (too many running tasks) clears only as jobs end, so waiting
// longer is no loss.
const throttleDelay = 10 * time.Second

// fromIMS turns an error from imsclient into the activity's error. It is the one place where
// imsapi classes become Temporal retry decisions. A cancelled context passes through unchanged
// so that Temporal records a cancellation, not a failure.
func fromIMS(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	var verr *imsapi.ValidationError
	if errors.As(err, &verr) {
		return invalidInput(err)
	}
	class := imsapi.ClassOf(err)
	t, ok := classTypes[class]
	if !ok {
		t = classTypes[imsapi.ClassUnknown]
	}
	opts := temporal.ApplicationErrorOptions{NonRetryable: !class.Retryable(), Details: fromIMSDetails(err)}
	var ierr *imsapi.Error
	if errors.As(err, &ierr) && class == imsapi.ClassThrottled {
		opts.NextRetryDelay = retryDelay(ierr.RetryAfter)
	}
	return temporal.NewApplicationErrorWithOptions(err.Error()+"; "+t.advice, t.errType, opts)
}

// fromIMSDetails is the IMSFailure detail of an error that came from an IMS answer; nil otherwise.
func fromIMSDetails(err error) []any {
	var ierr *imsapi.Error
	if !errors.As(err, &ierr) {
		return nil
	}
	return []any{IMSFailure{Op: ierr.Op, Status: ierr.Status, Code: ierr.Code, Class: string(imsapi.ClassOf(err)), RequestID: ierr.RequestID}}
}

// retryDelay honours IMS's Retry-After and adds up to 20% so that throttled workers do not all
// come back at the same instant; without Retry-After it spreads throttleDelay by ±50%.
func retryDelay(retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		return retryAfter + time.Duration(rand.Float64()*0.2*float64(retryAfter))
	}
	return time.Duration((0.5 + rand.Float64()) * float64(throttleDelay))
}

// invalidInput is an activity's InvalidInput: the request it was given cannot be sent.
func invalidInput(err error) error {
	return activityapi.InvalidInput(err, "fix it and start the copy again")
}

// copyFailed reports a job that IMS ended in FAIL; IMS's code and reason are in the message
// because that is what the starter prints.
func copyFailed(f CopyFailure) error {
	if f.ReasonLost {
		msg := fmt.Sprintf("the copy into image %s failed (IMS killed the image); %s; "+
			"find the failed copy job of image %[1]s in IMS's console for the reason, fix the cause and start the copy again",
			f.ImageID, ReasonLostText)
		return temporal.NewApplicationErrorWithOptions(msg, ErrCopyFailed,
			temporal.ApplicationErrorOptions{NonRetryable: true, Details: []any{f}})
	}
	code, reason := f.ErrorCode, f.FailReason
	if code == "" {
		code = "no error code"
	}
	if reason == "" {
		reason = "IMS gave no reason"
	}
	what := "IMS copy job " + f.JobID
	if f.JobID == "" {
		what = "the copy into image " + f.ImageID
	}
	msg := fmt.Sprintf("%s failed: %s: %s; fix the cause and start the copy again", what, code, reason)
	return temporal.NewApplicationErrorWithOptions(msg, ErrCopyFailed,
		temporal.ApplicationErrorOptions{NonRetryable: true, Details: []any{f}})
}

// shareFailed reports a member job that failed, whole (f's code and reason) or for some pairs.
func shareFailed(jobID string, f *CopyFailure, pairs []imsapi.MemberResult) error {
	d := ShareFailure{JobID: jobID, ErrorCode: f.ErrorCode, FailReason: f.FailReason, FailedPairs: pairs}
	var what []string
	for _, p := range pairs {
		what = append(what, fmt.Sprintf("image %s with project %s", p.ImageID, p.ProjectID))
	}
	msg := fmt.Sprintf("IMS member job %s failed", jobID)
	if f.ErrorCode != "" || f.FailReason != "" {
		msg += fmt.Sprintf(": %s: %s", f.ErrorCode, f.FailReason)
	}
	if len(what) > 0 {
		msg += " for " + strings.Join(what, ", ")
	}
	msg += "; check that each project exists in the image's region and has share quota left, then run the promotion again"
	return temporal.NewApplicationErrorWithOptions(msg, ErrShareFailed,
		temporal.ApplicationErrorOptions{NonRetryable: true, Details: []any{d}})
}

// verifyFailed names every way the new image differs from what was asked for.
func verifyFailed(imageID string, mismatches []string) error {
	msg := fmt.Sprintf("image %s is not the requested copy: %s; delete it or fix the request, then copy again",
		imageID, strings.Join(mismatches, "; "))
	return temporal.NewApplicationErrorWithOptions(msg, ErrVerifyFailed,
		temporal.ApplicationErrorOptions{NonRetryable: true, Details: []any{mismatches}})
}

// imageNotReady is retryable: IMS may report the job's success a moment before the image's status
// follows, or before its image list holds the image at all; why says which.
func imageNotReady(imageID, why string) error {
	return temporal.NewApplicationError(fmt.Sprintf("image %s %s; retrying", imageID, why), ErrImageNotReady)
}
