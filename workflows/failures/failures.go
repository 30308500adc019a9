// Package failures is how every workflow turns what went wrong into the error it ends with: one
// vocabulary of types (the activities' ones plus those below), IMS's detail carried over, and a
// message that leads with what failed, so the starter prints one line with IMS's reason in it.
package failures

import (
	"errors"

	"go.temporal.io/sdk/temporal"

	"github.com/imscopy/imscopy/activities"
	"github.com/imscopy/imscopy/imsapi"
)

// Error types the workflows add to the activities' ones (activities.Err*), for failures that are
// not an activity's application error.
const (
	ErrTimeout  = "Timeout"  // an activity ran out of time: IMS or the workers are stuck
	ErrInternal = "Internal" // anything else: a bug or a panic; the message says which
)

// Wrap is a workflow's non-retryable error for err, whose message is what failed (msg) and why. An
// activity's application error keeps its type and detail; anything else is Timeout or Internal.
// A cancellation is not wrapped: the caller returns it as it is.
func Wrap(msg string, err error) error {
	var app *temporal.ApplicationError
	if !errors.As(err, &app) {
		errType := ErrInternal
		var timeout *temporal.TimeoutError
		if errors.As(err, &timeout) {
			errType = ErrTimeout
		}
		return temporal.NewNonRetryableApplicationError(msg+": "+err.Error(), errType, nil)
	}
	return temporal.NewApplicationErrorWithOptions(msg+": "+app.Message(), app.Type(),
		temporal.ApplicationErrorOptions{NonRetryable: true, Details: Details(app)})
}

// Details carries an activity error's structured detail over to the workflow's error.
func Details(app *temporal.ApplicationError) []any {
	var d any
	switch app.Type() {
	case activities.ErrCopyFailed:
		d = &activities.CopyFailure{}
	case activities.ErrShareFailed:
		d = &activities.ShareFailure{}
	case activities.ErrVerifyFailed:
		d = &[]string{}
	default:
		// SubmitCopy's SubmitFailure embeds IMSFailure, so it reads as one too; an error that
		// carried no IMS answer leaves it empty, and an empty detail would only confuse.
		var f activities.IMSFailure
		if !app.HasDetails() || app.Details(&f) != nil || f == (activities.IMSFailure{}) {
			return nil
		}
		return []any{f}
	}
	if !app.HasDetails() || app.Details(d) != nil {
		return nil
	}
	return []any{d}
}

// InvalidInput fails a workflow before any activity runs; the message names the field, then says
// what to do (advice, e.g. "fix it and start the copy again").
func InvalidInput(err error, advice string) error {
	var details []any
	var v *imsapi.ValidationError
	if errors.As(err, &v) {
		details = []any{*v}
	}
	return temporal.NewApplicationErrorWithOptions(err.Error()+"; "+advice,
		activities.ErrInvalidInput, temporal.ApplicationErrorOptions{NonRetryable: true, Details: details})
}
