package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/imscopy/imscopy/activities"
	"github.com/imscopy/imscopy/workflows/copyimage"
)

// resultJSON is the --json form of a copy's outcome: stable lower-case names for scripts.
type resultJSON struct {
	WorkflowID string       `json:"workflowId"`
	RunID      string       `json:"runId,omitempty"`
	Succeeded  bool         `json:"succeeded"`
	ImageID    string       `json:"imageId,omitempty"`
	JobID      string       `json:"jobId,omitempty"`
	Adopted    bool         `json:"adopted,omitempty"`
	Phases     []phaseJSON  `json:"phases,omitempty"`
	Error      *failureJSON `json:"error,omitempty"`
}

type phaseJSON struct {
	Phase   string  `json:"phase"`
	Seconds float64 `json:"seconds"`
}

type failureJSON struct {
	Type    string `json:"type"` // an activities.Err* or failures.Err* name, or Canceled, Terminated, TimedOut
	Message string `json:"message"`
	// IMS's own words, when the IMS job failed.
	IMSErrorCode  string `json:"imsErrorCode,omitempty"`
	IMSFailReason string `json:"imsFailReason,omitempty"`
}

// describeFailure turns a workflow's error into what the user reads: a type and a message that
// carries IMS's reason.
func describeFailure(err error) failureJSON {
	var app *temporal.ApplicationError
	switch {
	case errors.As(err, &app):
		f := failureJSON{Type: app.Type(), Message: app.Message()}
		var cf activities.CopyFailure
		if app.Type() == activities.ErrCopyFailed && app.HasDetails() && app.Details(&cf) == nil {
			f.IMSErrorCode, f.IMSFailReason = cf.ErrorCode, cf.FailReason
		}
		return f
	case temporal.IsCanceledError(err):
		return failureJSON{Type: "Canceled", Message: "the copy was cancelled; the image it made was deleted unless it was started with --keep-failed"}
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
			out.Error = &f
		} else {
			out.ImageID, out.JobID, out.Adopted = res.ImageID, res.JobID, res.Adopted
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
		_, werr := fmt.Fprintf(stderr, "copy failed (%s): %s\n", f.Type, f.Message)
		return werr
	}
	var b strings.Builder
	fmt.Fprintf(&b, "copy succeeded: image %s\n", res.ImageID)
	if res.JobID != "" {
		fmt.Fprintf(&b, "  IMS job: %s\n", res.JobID)
	}
	if res.Adopted {
		b.WriteString("  the image an earlier attempt had already created was adopted, not copied again\n")
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

// roundDuration keeps a duration readable: tenths of a second under a minute, seconds above.
func roundDuration(d time.Duration) time.Duration {
	if d < time.Minute {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Second)
}
