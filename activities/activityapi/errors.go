package activityapi

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/imscopy/imscopy/imsapi"
	"github.com/imscopy/imscopy/internal/strictjson"
	"go.temporal.io/sdk/temporal"
)

// Error types of every failure the activities return. They are stable names: workflows, the
// starter and retry policies match on them, so renaming one is a breaking change.
const (
	ErrInvalidInput      = "InvalidInput"      // imscopy refused the request before calling IMS
	ErrIMSInvalidRequest = "IMSInvalidRequest" // IMS refused the request as malformed
	ErrIMSNotFound       = "IMSNotFound"
	ErrIMSForbidden      = "IMSForbidden"
	ErrIMSAuth           = "IMSAuth"
	ErrIMSQuota          = "IMSQuota"
	ErrIMSThrottled      = "IMSThrottled"
	ErrIMSBusy           = "IMSBusy"
	ErrIMSTransient      = "IMSTransient"
	ErrIMSUnknown        = "IMSUnknown"
	ErrCopyFailed        = "CopyFailed"     // the IMS job ended in FAIL, or the adopted image was killed
	ErrShareFailed       = "ShareFailed"    // a member job (share, accept) failed, whole or for some projects
	ErrVerifyFailed      = "VerifyFailed"   // the new image is not what was asked for
	ErrImageNotReady     = "ImageNotReady"  // the new image exists but is not active yet
	ErrWorkerStopping    = "WorkerStopping" // the worker is shutting down; another attempt resumes
	// ErrLostCopyUnchecked is CleanupCopy's failure when it could not look for the copy a lost POST
	// may have made: IMS could not be read for lostLookupWaits visibility waits. The workflow's end
	// then says what to look for by hand.
	ErrLostCopyUnchecked = "LostCopyUnchecked"
)

// NonRetryableErrorTypes are the types no retry can fix (docs/ims-api.md section 8.2). Each such
// error is already marked non-retryable; workflows also list these in their retry policies so an
// error that crosses a boundary without its flag is still not retried.
var NonRetryableErrorTypes = []string{
	ErrInvalidInput, ErrIMSInvalidRequest, ErrIMSNotFound, ErrIMSForbidden, ErrIMSAuth,
	ErrIMSQuota, ErrIMSUnknown, ErrCopyFailed, ErrVerifyFailed, ErrShareFailed,
}

// The failure details below are read by other languages' clients (docs/api.md, Failures), so
// their JSON keys are a contract: snake_case, like the workflow API. Each also reads the Go field
// names that encoding/json wrote before the keys existed, exactly as spelt: histories recorded
// then replay (the workflow decides its clean-up from a CopyFailure's image and a SubmitFailure's
// post_at), and a promotion reads an older copy's failure.

// IMSFailure is the detail attached to every error that came from an IMS answer, so a caller
// can show the code and the request ID to support without parsing the message.
type IMSFailure struct {
	Op        string `json:"op"`     // the IMS call, e.g. "CopyImageInRegion"
	Status    int    `json:"status"` // the HTTP status; 0 when no answer came
	Code      string `json:"code"`   // IMS's error code, e.g. "IMG.0011"
	Class     string `json:"class"`  // imscopy's class of the error (imsapi.Class)
	RequestID string `json:"request_id"`
}

// UnmarshalJSON reads the documented keys and the legacy Go names; unknown keys are ignored, so a
// SubmitFailure reads as an IMSFailure too.
func (f *IMSFailure) UnmarshalJSON(data []byte) error {
	type fields IMSFailure
	return unmarshalRenamed(data, (*fields)(f))
}

// CopyFailure is the detail of a CopyFailed error: what IMS said about the failed job.
type CopyFailure struct {
	JobID      string `json:"job_id"`
	ImageID    string `json:"image_id"`
	ErrorCode  string `json:"error_code"`
	FailReason string `json:"fail_reason"`
	// ReasonLost says that IMS's code and reason cannot be had: the copy's job ID never reached
	// imscopy (the answer to its POST was lost, or an earlier run submitted it) and IMS has no
	// API that finds a job from its image; all that is known is that IMS killed ImageID.
	ReasonLost bool `json:"reason_lost,omitempty"`
	// Percent is how far the job had got, 0..1: IMS's process_percent in its answer that the job
	// failed, or, when that answer had none, in PollJob's last read before it; absent when not
	// known.
	Percent float64 `json:"percent,omitempty"`
}

// UnmarshalJSON reads the documented keys and the legacy Go names; unknown keys are ignored.
func (f *CopyFailure) UnmarshalJSON(data []byte) error {
	type fields CopyFailure
	return unmarshalRenamed(data, (*fields)(f))
}

// unmarshalRenamed decodes data into v (a pointer to a struct type without UnmarshalJSON),
// leniently, with its legacy Go names renamed to its keys.
func unmarshalRenamed(data []byte, v any) error {
	data, err := strictjson.GoNames(data, v)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, v)
}

// ReasonLostText is what a CopyFailed error says when its ReasonLost is set.
const ReasonLostText = "IMS's reason was lost with the answer to the copy request: imscopy never received the job's ID, " +
	"and IMS has no API that finds a job from its image"

// SubmitFailure is the detail of every error SubmitCopy returns: IMS's answer when there was one,
// and whether a copy may exist although the workflow got no job ID for it. The IMS fields are
// embedded, so the detail also reads as an IMSFailure.
type SubmitFailure struct {
	IMSFailure
	// PostAt is when an attempt last sent a POST that may have created the copy (its answer lost,
	// or never read because the worker died); zero when no attempt did.
	PostAt time.Time `json:"post_at"`
}

// UnmarshalJSON reads the documented keys and the legacy Go names. It is needed because the
// embedded IMSFailure's would otherwise be SubmitFailure's and drop post_at.
func (f *SubmitFailure) UnmarshalJSON(data []byte) error {
	if err := f.IMSFailure.UnmarshalJSON(data); err != nil {
		return err
	}
	var v struct {
		PostAt time.Time `json:"post_at"`
	}
	if err := unmarshalRenamed(data, &v); err != nil {
		return err
	}
	f.PostAt = v.PostAt
	return nil
}

// SubmitFailureOf reads the SubmitFailure of a SubmitCopy error as the workflow receives it: a
// failure or a cancellation. False when the error carries none because SubmitCopy's code did not
// produce it: a timeout, a lost worker, a cancellation between attempts.
func SubmitFailureOf(err error) (SubmitFailure, bool) {
	var f SubmitFailure
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return f, app.HasDetails() && app.Details(&f) == nil
	}
	var canceled *temporal.CanceledError
	if errors.As(err, &canceled) {
		return f, canceled.HasDetails() && canceled.Details(&f) == nil
	}
	return f, false
}

// ShareFailure is the detail of a ShareFailed error: the member job and the pairs that failed.
type ShareFailure struct {
	JobID       string                `json:"job_id"`
	ErrorCode   string                `json:"error_code"`
	FailReason  string                `json:"fail_reason"`
	FailedPairs []imsapi.MemberResult `json:"failed_pairs"`
}

// UnmarshalJSON reads the documented keys and the legacy Go names (the pairs' too); unknown keys
// are ignored.
func (f *ShareFailure) UnmarshalJSON(data []byte) error {
	type fields ShareFailure
	return unmarshalRenamed(data, (*fields)(f))
}

// InvalidInput is input imscopy refuses before calling IMS, in an activity or in a workflow: a
// non-retryable InvalidInput whose message names the field, then says what to do (advice, e.g.
// "fix it and start the copy again"). details are its detail: a workflow's failure carries the
// broken rule (RuleDetail), as docs/api.md promises its callers; an activity's carries none,
// because SubmitCopy reads the detail of its errors as an IMSFailure.
func InvalidInput(err error, advice string, details ...any) error {
	return temporal.NewApplicationErrorWithOptions(err.Error()+"; "+advice,
		ErrInvalidInput, temporal.ApplicationErrorOptions{NonRetryable: true, Details: details})
}

// RuleDetail is the rule err broke, its *imsapi.ValidationError, as an error's detail; none when
// err is not a broken rule.
func RuleDetail(err error) []any {
	var v *imsapi.ValidationError
	if errors.As(err, &v) {
		return []any{*v}
	}
	return nil
}
