// Package failures is how every workflow turns what went wrong into the error it ends with: one
// vocabulary of types (the activities' ones plus those below), IMS's detail carried over, and a
// message that leads with what failed, so the starter prints one line with IMS's reason in it.
package failures

import (
	"cmp"
	"errors"
	"fmt"
	"time"

	"github.com/imscopy/imscopy/activities/activityapi"
	"go.temporal.io/sdk/temporal"
)

// Error types the workflows add to the activities' ones (activityapi.Err*), for failures that are
// not an activity's application error.
const (
	ErrTimeout  = "Timeout"  // an activity ran out of time: IMS or the workers are stuck
	ErrInternal = "Internal" // anything else: a bug or a panic; the message says which
)

// Wrap is a workflow's non-retryable error for err, whose message is what failed (msg) and why. An
// activity's application error keeps its type and detail; anything else is Timeout or Internal.
// A cancellation is not wrapped: the caller returns it as it is.
// cause, when not nil, becomes the error's cause (a LeftBehindError).
func Wrap(msg string, err, cause error) error {
	var app *temporal.ApplicationError
	if !errors.As(err, &app) {
		errType := ErrInternal
		var timeout *temporal.TimeoutError
		if errors.As(err, &timeout) {
			errType = ErrTimeout
		}
		return temporal.NewApplicationErrorWithOptions(msg+": "+Reason(err), errType,
			temporal.ApplicationErrorOptions{NonRetryable: true, Cause: cause})
	}
	return temporal.NewApplicationErrorWithOptions(msg+": "+app.Message(), app.Type(),
		temporal.ApplicationErrorOptions{NonRetryable: true, Details: Details(app), Cause: cause})
}

// Details carries an activity error's structured detail over to the workflow's error.
func Details(app *temporal.ApplicationError) []any {
	var d any
	switch app.Type() {
	case activityapi.ErrCopyFailed:
		d = &activityapi.CopyFailure{}
	case activityapi.ErrShareFailed:
		d = &activityapi.ShareFailure{}
	case activityapi.ErrVerifyFailed:
		d = &[]string{}
	default:
		// SubmitCopy's SubmitFailure embeds IMSFailure, so it reads as one too; an error that
		// carried no IMS answer leaves it empty, and an empty detail would only confuse.
		var f activityapi.IMSFailure
		if !app.HasDetails() || app.Details(&f) != nil || f == (activityapi.IMSFailure{}) {
			return nil
		}
		return []any{f}
	}
	if !app.HasDetails() || app.Details(d) != nil {
		return nil
	}
	return []any{d}
}

// ErrImageLeftBehind is the type of the cause a copy's failure carries when the failed copy's image
// may still be in IMS: kept on request, or its clean-up failed or could not check. Its detail is a
// LeftBehind. A cancelled copy carries the LeftBehind as its cancellation's detail instead, since a
// cancellation has no cause.
const ErrImageLeftBehind = "ImageLeftBehind"

// LeftBehind is what a failed or cancelled copy may have left in IMS, costing quota until someone
// deletes it, and why it was not deleted.
type LeftBehind struct {
	// ImageID is the image; "" when the clean-up could not learn it (it could not look for the
	// copy a lost request may have made), in which case Name and Since say what to look for.
	ImageID string `json:"image_id,omitempty"`
	Region  string `json:"region"`
	Name    string `json:"name"`
	JobID   string `json:"job_id,omitempty"`
	// Since is when the copy's request may first have reached IMS: an image of Name made before it
	// is not this copy's.
	Since time.Time `json:"since,omitzero"`
	// Kept says the image was kept on request (keep_failed_images); otherwise CleanupError says
	// why the clean-up did not delete it.
	Kept         bool   `json:"kept,omitempty"`
	CleanupError string `json:"cleanup_error,omitempty"`
}

// Summary says in one line what is left and what to do about it.
func (l LeftBehind) Summary() string {
	what := "image " + l.ImageID
	find := ""
	if l.ImageID == "" && l.JobID != "" {
		// The job names its image; the workflow had not heard which yet.
		what = "the image of IMS job " + l.JobID
		find = fmt.Sprintf(" (`hcloud IMS ShowJob --cli-region=%s --job_id=%s` names it)", l.Region, l.JobID)
	}
	del := fmt.Sprintf("delete it%s in the IMS console or with `hcloud IMS GlanceDeleteImage --cli-region=%s --image_id=%s`",
		find, l.Region, cmp.Or(l.ImageID, "ID"))
	switch {
	case l.ImageID == "" && l.JobID == "" && l.Kept:
		return fmt.Sprintf("any image the copy made in %s was kept, as asked (--keep-failed): look for images named %q "+
			"made since %s and delete them when done with them", l.Region, l.Name, l.Since.UTC().Format(time.RFC3339))
	case l.ImageID == "" && l.JobID == "":
		return fmt.Sprintf("could not check whether the copy's request made an image in %s (%s): look for images named %q "+
			"made since %s and delete any you do not want", l.Region, l.CleanupError, l.Name, l.Since.UTC().Format(time.RFC3339))
	case l.Kept:
		return fmt.Sprintf("%s in %s was kept for inspection, as asked (--keep-failed); %s when done with it: it counts against the image quota",
			what, l.Region, del)
	}
	return fmt.Sprintf("%s in %s was left behind: its clean-up failed (%s); %s by hand: it counts against the image quota",
		what, l.Region, l.CleanupError, del)
}

// LeftBehindError is the cause to attach to a copy's failure when it left an image behind.
func LeftBehindError(l LeftBehind) error {
	return temporal.NewNonRetryableApplicationError(l.Summary(), ErrImageLeftBehind, nil, l)
}

// LeftBehindOf finds what a copy's failure or cancellation left behind, wherever it is in err's
// chain: the cause of its application error (also through a child workflow's error), or the detail
// of its cancellation.
func LeftBehindOf(err error) (LeftBehind, bool) {
	for ; err != nil; err = errors.Unwrap(err) {
		var l LeftBehind
		switch e := err.(type) {
		case *temporal.ApplicationError:
			if e.Type() == ErrImageLeftBehind && e.HasDetails() && e.Details(&l) == nil {
				return l, true
			}
		case *temporal.CanceledError:
			// Other cancellations carry other details (SubmitCopy's SubmitFailure): a LeftBehind
			// always names its region.
			if e.HasDetails() && e.Details(&l) == nil && l.Region != "" {
				return l, true
			}
		}
	}
	return LeftBehind{}, false
}

// Reason is an error's own message without the SDK's wrapping ("activity error (type: ...,
// scheduledEventID: ...)"), for one line a person reads.
func Reason(err error) string {
	var app *temporal.ApplicationError
	var timeout *temporal.TimeoutError
	switch {
	case errors.As(err, &app):
		return app.Message()
	case errors.As(err, &timeout):
		msg := "timed out (" + timeout.TimeoutType().String() + ")"
		if cause := errors.Unwrap(timeout); cause != nil {
			msg += ": " + Reason(cause)
		}
		return msg
	case temporal.IsCanceledError(err):
		return "cancelled"
	}
	return err.Error()
}
