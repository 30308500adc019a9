package main

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/imscopy/imscopy/activities/activityapi"
	"github.com/imscopy/imscopy/workflows/copyimage"
	"github.com/imscopy/imscopy/workflows/failures"
)

// resultJSON is the --json form of a copy's outcome: stable lower-case names for scripts.
type resultJSON struct {
	WorkflowID string `json:"workflowId"`
	RunID      string `json:"runId,omitempty"`
	Succeeded  bool   `json:"succeeded"`
	ImageID    string `json:"imageId,omitempty"`
	JobID      string `json:"jobId,omitempty"`
	Adopted    bool   `json:"adopted,omitempty"`
	// AdoptedFrom and ImageCreatedAt say which copy made an adopted image, and when (as the
	// workflow's result: this-copy, earlier-copy or unknown; IMS's created_at as IMS gives it).
	AdoptedFrom    string       `json:"adoptedFrom,omitempty"`
	ImageCreatedAt string       `json:"imageCreatedAt,omitempty"`
	Phases         []phaseJSON  `json:"phases,omitempty"`
	Error          *failureJSON `json:"error,omitempty"`
	// LeftBehind is the image a failed or cancelled copy left in IMS: kept as asked, or not
	// deleted because its clean-up failed.
	LeftBehind *leftJSON `json:"leftBehind,omitempty"`
}

// leftJSON is a failures.LeftBehind for scripts, with the advice a person reads.
type leftJSON struct {
	ImageID      string    `json:"imageId,omitempty"`
	Region       string    `json:"region"`
	Name         string    `json:"name"`
	JobID        string    `json:"jobId,omitempty"`
	Since        time.Time `json:"since,omitzero"`
	Kept         bool      `json:"kept"`
	CleanupError string    `json:"cleanupError,omitempty"`
	Advice       string    `json:"advice"`
}

// leftBehindOf is what the copy's failure says it left in IMS; nil when nothing.
func leftBehindOf(err error) *leftJSON {
	l, ok := failures.LeftBehindOf(err)
	if !ok {
		return nil
	}
	return &leftJSON{ImageID: l.ImageID, Region: l.Region, Name: l.Name, JobID: l.JobID, Since: l.Since, Kept: l.Kept,
		CleanupError: l.CleanupError, Advice: l.Summary()}
}

type phaseJSON struct {
	Phase   string  `json:"phase"`
	Seconds float64 `json:"seconds"`
}

type failureJSON struct {
	Type    string `json:"type"` // an activityapi.Err* or failures.Err* name, or Canceled, Terminated, TimedOut
	Message string `json:"message"`
	// IMS's own words, when the IMS job failed.
	IMSErrorCode  string `json:"imsErrorCode,omitempty"`
	IMSFailReason string `json:"imsFailReason,omitempty"`
	// Percent is how far the failed job had got, 0..1, as its last heartbeat said; absent when
	// not known (an older worker's failure, a job that failed before its first).
	Percent float64 `json:"percent,omitempty"`
}

// describeFailure turns a workflow's error into what the user reads: a type and a message that
// carries IMS's reason.
func describeFailure(err error) failureJSON {
	var app *temporal.ApplicationError
	switch {
	case errors.As(err, &app):
		f := failureJSON{Type: app.Type(), Message: app.Message()}
		var cf activityapi.CopyFailure
		if app.Type() == activityapi.ErrCopyFailed && app.HasDetails() && app.Details(&cf) == nil {
			f.IMSErrorCode, f.IMSFailReason, f.Percent = cf.ErrorCode, cf.FailReason, cf.Percent
		}
		return f
	case temporal.IsCanceledError(err):
		if _, left := failures.LeftBehindOf(err); left {
			return failureJSON{Type: "Canceled", Message: "the copy was cancelled"}
		}
		return failureJSON{Type: "Canceled", Message: "the copy was cancelled; whatever it had made in IMS was deleted"}
	case temporal.IsTerminatedError(err):
		return failureJSON{Type: "Terminated", Message: "the workflow was terminated (from outside imscopy): no clean-up ran; check the image list for a copy it left"}
	case temporal.IsTimeoutError(err):
		return failureJSON{Type: "TimedOut", Message: "the workflow timed out: " + err.Error()}
	}
	return failureJSON{Type: "Unknown", Message: err.Error()}
}

// printOutcome writes a finished copy's result (stdout) or failure (stderr, or stdout with --json).
func printOutcome(stdout, stderr io.Writer, asJSON bool, workflowID, runID string, res copyimage.Result, err error) error {
	if asJSON {
		out := resultJSON{WorkflowID: workflowID, RunID: runID, Succeeded: err == nil}
		if err != nil {
			f := describeFailure(err)
			out.Error, out.LeftBehind = &f, leftBehindOf(err)
		} else {
			out.ImageID, out.JobID, out.Adopted = res.ImageID, res.JobID, res.Adopted
			if res.Adopted {
				out.AdoptedFrom, out.ImageCreatedAt = res.AdoptedFrom, res.ImageCreatedAt
				if out.AdoptedFrom == "" {
					out.AdoptedFrom = copyimage.AdoptedFromUnknown
				}
			}
			for _, p := range res.Phases {
				out.Phases = append(out.Phases, phaseJSON{Phase: p.Phase, Seconds: p.Duration.Seconds()})
			}
		}
		if printJSON(stdout, out) != exitOK {
			return errors.New("cannot write the result")
		}
		return nil
	}

	if err != nil {
		f := describeFailure(err)
		at := ""
		if f.Percent > 0 {
			at = fmt.Sprintf(" at %d%%", int(clampPercent(f.Percent)*100+0.5))
		}
		msg := fmt.Sprintf("copy failed (%s)%s: %s\n", f.Type, at, f.Message)
		if l := leftBehindOf(err); l != nil {
			msg += "  " + l.Advice + "\n"
		}
		_, werr := io.WriteString(stderr, msg)
		return werr
	}
	var b strings.Builder
	fmt.Fprintf(&b, "copy succeeded: image %s\n", res.ImageID)
	if res.JobID != "" {
		fmt.Fprintf(&b, "  IMS job: %s\n", res.JobID)
	}
	if res.Adopted {
		b.WriteString("  " + adoptionLine(workflowID, res) + "\n")
	}
	if len(res.Phases) > 0 {
		var total time.Duration
		phases := make([]string, 0, len(res.Phases))
		for _, p := range res.Phases {
			total += p.Duration
			phases = append(phases, fmt.Sprintf("%s %s", p.Phase, roundDuration(p.Duration)))
		}
		fmt.Fprintf(&b, "  took %s: %s\n", roundDuration(total), strings.Join(phases, ", "))
	}
	_, werr := io.WriteString(stdout, b.String())
	return werr
}

// adoptionLine says which copy made an adopted image and when. IMS cannot tell which workflow or
// job made an image; what is known is whether it was created after this copy first submitted (so
// by this copy's own lost POST) or before (by another copy of the same request).
func adoptionLine(workflowID string, res copyimage.Result) string {
	when := "at a time IMS did not give"
	if res.ImageCreatedAt != "" {
		when = "at " + res.ImageCreatedAt
	}
	switch res.AdoptedFrom {
	case copyimage.AdoptedFromThisCopy:
		return fmt.Sprintf("adopted: this copy (%s) made the image %s: IMS's answer to its submit was lost, "+
			"so the image was found and taken, not copied again", workflowID, when)
	case copyimage.AdoptedFromEarlierCopy:
		return fmt.Sprintf("adopted: the image already existed, created %s, before this copy submitted: "+
			"another copy of the same request (another workflow, an earlier run, or by hand) made it; "+
			"it was taken, not copied again", when)
	}
	return "adopted: an existing image of the same request was taken, not copied again " +
		"(the worker that adopted it is older and did not record which copy made it)"
}

// roundDuration keeps a duration readable: tenths of a second under a minute, seconds above.
func roundDuration(d time.Duration) time.Duration {
	if d < time.Minute {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Second)
}

// sdkWrapping is what the Temporal SDK adds around an activity's or a child's error message: where
// it ran, and its type and retry flag, which say nothing to the person reading the reason.
var sdkWrapping = regexp.MustCompile(`(activity|child workflow execution) error \([^()]*\): | \(type: [A-Za-z0-9_.]+, retryable: (true|false)\)`)

// cleanReason is an error message as a person reads it: the reason, without the SDK's wrapping.
func cleanReason(msg string) string {
	return sdkWrapping.ReplaceAllString(msg, "")
}
