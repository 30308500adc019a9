package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/imscopy/imscopy/internal/config"
	"github.com/imscopy/imscopy/workflows/copyimage"
	"github.com/imscopy/imscopy/workflows/promote"
)

// timeNow is the clock progress lines measure elapsed time with.
var timeNow = time.Now

// finish reports how a watched or awaited copy ended and returns the exit code.
func finish(ctx context.Context, cfg config.Starter, stdout, stderr io.Writer, asJSON bool, run client.WorkflowRun,
	res copyimage.Result, err error) int {
	if ctx.Err() != nil {
		fmt.Fprintf(stderr, "stopped waiting; the copy goes on. `starter result %s` waits for it again.\n", run.GetID())
		return exitInterrupted
	}
	var ended *temporal.WorkflowExecutionError
	if err != nil && !errors.As(err, &ended) {
		// Not the copy's outcome: the starter could not learn it.
		fmt.Fprintln(stderr, "starter:", explain(err, cfg, run.GetID()))
		return exitFailed
	}
	if perr := printOutcome(stdout, stderr, asJSON, run.GetID(), run.GetRunID(), res, err); perr != nil {
		fmt.Fprintln(stderr, "starter:", perr)
		return exitFailed
	}
	if err != nil {
		return exitFailed
	}
	return exitOK
}

// idCommand parses the flags and the one workflow ID of status, result and cancel.
func idCommand(name string, args []string, stderr io.Writer, withJSON bool) (id string, asJSON bool, err error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	if withJSON {
		fs.BoolVar(&asJSON, "json", false, "print JSON")
	}
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: starter %s [flags] WORKFLOW_ID\n", name)
		fs.PrintDefaults()
	}
	// Flags may come before or after the ID (`status ID --json`): Go's flag package stops at the
	// first argument that is not a flag, so what follows each argument is parsed again.
	var ids []string
	var runs [][]string
	for {
		if err := fs.Parse(args); err != nil {
			return "", false, parseError(err)
		}
		runs = append(runs, args[:len(args)-fs.NArg()])
		if fs.NArg() == 0 {
			break
		}
		ids, args = append(ids, fs.Arg(0)), fs.Args()[1:]
	}
	if err := refuseRepeated(fs, runs...); err != nil {
		return "", false, err
	}
	if len(ids) != 1 {
		return "", false, &usageError{msg: fmt.Sprintf("starter %s takes one workflow ID (`starter copy` prints it), got %d arguments", name, len(ids))}
	}
	return ids[0], asJSON, nil
}

// progressJSON is the --json form of a progress snapshot.
type progressJSON struct {
	WorkflowID     string    `json:"workflowId"`
	Status         string    `json:"status"`
	Phase          string    `json:"phase,omitempty"`
	Percent        float64   `json:"percent"`
	JobID          string    `json:"jobId,omitempty"`
	ImageID        string    `json:"imageId,omitempty"`
	Polls          int       `json:"polls"`
	LastError      string    `json:"lastError,omitempty"`
	StartedAt      time.Time `json:"startedAt,omitzero"`
	PhaseStartedAt time.Time `json:"phaseStartedAt,omitzero"`
	// Poll is PollJob while it waits for the job: where percent, polls and imageId came from.
	Poll *pollJSON `json:"poll,omitempty"`
	// ProgressError says why the workflow could not answer (no worker is running, for one).
	ProgressError string `json:"progressError,omitempty"`
	// Retry is an activity Temporal is retrying (IMS unreachable, for one): why the phase stands still.
	Retry *retryJSON `json:"retry,omitempty"`
	// LeftBehind is what an ended copy left in IMS, as its failure says.
	LeftBehind *leftJSON `json:"leftBehind,omitempty"`
}

// pollJSON is a pending PollJob: its last heartbeat and its attempt.
type pollJSON struct {
	JobStatus   string    `json:"jobStatus,omitempty"` // IMS's status of the job (or adopted image) at the last poll
	NextPollAt  time.Time `json:"nextPollAt,omitzero"`
	HeartbeatAt time.Time `json:"heartbeatAt,omitzero"`
	Attempt     int32     `json:"attempt"`
	LastFailure string    `json:"lastFailure,omitempty"` // why the previous attempt ended, while PollJob is retried
}

// retryJSON is a pending activity being retried.
type retryJSON struct {
	Activity      string    `json:"activity"`
	Attempt       int32     `json:"attempt"`
	LastFailure   string    `json:"lastFailure"`
	NextAttemptAt time.Time `json:"nextAttemptAt,omitzero"`
}

func snapshotJSON(id, status string, s snapshot, qerr error) progressJSON {
	out := progressJSON{WorkflowID: id, Status: status, Phase: s.Phase, Percent: s.Percent, JobID: s.JobID,
		ImageID: s.ImageID, Polls: s.Polls, LastError: cleanReason(s.LastError), StartedAt: s.StartedAt, PhaseStartedAt: s.PhaseStartedAt}
	if l := s.Live; l != nil {
		out.Poll = &pollJSON{JobStatus: l.JobStatus, NextPollAt: l.NextPollAt, HeartbeatAt: l.HeartbeatAt,
			Attempt: l.Attempt, LastFailure: l.LastFailure}
	}
	if r := s.Retry; r != nil {
		out.Retry = &retryJSON{Activity: r.Activity, Attempt: r.Attempt, LastFailure: cleanReason(r.LastFailure), NextAttemptAt: r.NextAt}
	}
	if qerr != nil {
		out.ProgressError = qerr.Error()
	}
	return out
}

// describe connects and describes the workflow, printing what went wrong (after prefix) when it
// cannot; the caller closes the client when ok.
func describe(ctx context.Context, cfg config.Starter, id, prefix string, stderr io.Writer) (client.Client, *workflowservice.DescribeWorkflowExecutionResponse, bool) {
	c, err := dial(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, "starter:", err)
		return nil, nil, false
	}
	desc, err := c.DescribeWorkflowExecution(ctx, id, "")
	if err != nil {
		fmt.Fprintln(stderr, prefix, explain(err, cfg, id))
		c.Close()
		return nil, nil, false
	}
	return c, desc, true
}

func runStatus(ctx context.Context, cfg config.Starter, id string, asJSON bool, stdout, stderr io.Writer) int {
	c, desc, ok := describe(ctx, cfg, id, "starter:", stderr)
	if !ok {
		return exitFailed
	}
	defer c.Close()
	info := desc.GetWorkflowExecutionInfo()
	status := info.GetStatus().String() // Running, Completed, Failed...
	code := statusExit(info.GetStatus())
	if isPromotion(info.GetType().GetName()) {
		promotionStatus(ctx, c, id, status, asJSON, stdout)
		return code
	}
	p, qerr := queryProgress(ctx, c, id)
	s := combine(p, livePollOf(desc))
	s.Retry = retryingOf(desc)
	// An ended copy's failure says what it left in IMS; the server keeps it, so no worker is needed.
	var left *leftJSON
	if info.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		if left = leftBehindOf(outcome(ctx, c, id)); left != nil {
			// Said once, on its own line.
			s.LastError = strings.Replace(s.LastError, "; "+left.Advice, "", 1)
		}
	}

	if asJSON {
		out := snapshotJSON(id, status, s, qerr)
		out.LeftBehind = left
		if printJSON(stdout, out) != exitOK {
			return exitFailed
		}
		return code
	}
	fmt.Fprintf(stdout, "%s: %s\n", id, status)
	if qerr != nil {
		fmt.Fprintf(stdout, "  no progress (%v): a worker answers progress queries; is one running?\n", qerr)
	}
	if qerr == nil || s.Live != nil {
		fmt.Fprintln(stdout, "  "+plainLine(s, timeNow()))
	}
	if left != nil {
		fmt.Fprintln(stdout, "  "+left.Advice)
	}
	return code
}

// Exit codes of `starter status`, by how the workflow stands, so a script can tell the ends apart
// without parsing; exitFailed stays "the status could not be read".
const (
	exitStatusFailed     = 3
	exitStatusCancelled  = 4
	exitStatusTerminated = 5 // terminated from outside imscopy, or timed out
)

// statusExit is `starter status`'s exit code for a workflow's status: 0 while it runs and once it
// succeeded (or continued as new, which only a promotion's rerun can do).
func statusExit(s enumspb.WorkflowExecutionStatus) int {
	switch s {
	case enumspb.WORKFLOW_EXECUTION_STATUS_FAILED:
		return exitStatusFailed
	case enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED:
		return exitStatusCancelled
	case enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED, enumspb.WORKFLOW_EXECUTION_STATUS_TIMED_OUT:
		return exitStatusTerminated
	}
	return exitOK
}

// outcome is an ended workflow's error (nil when it succeeded or cannot be read).
func outcome(ctx context.Context, c client.Client, id string) error {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	var res copyimage.Result
	return c.GetWorkflow(ctx, id, "").Get(ctx, &res)
}

func runResult(ctx context.Context, cfg config.Starter, id string, asJSON bool, stdout, stderr io.Writer) int {
	c, desc, ok := describe(ctx, cfg, id, "starter:", stderr)
	if !ok {
		return exitFailed
	}
	defer c.Close()

	run := c.GetWorkflow(ctx, id, "")
	if isPromotion(desc.GetWorkflowExecutionInfo().GetType().GetName()) {
		var report promote.Report
		err := run.Get(ctx, &report)
		return finishPromotion(ctx, cfg, stdout, stderr, asJSON, id, report, err)
	}
	var res copyimage.Result
	err := run.Get(ctx, &res)
	return finish(ctx, cfg, stdout, stderr, asJSON, run, res, err)
}

func runCancel(ctx context.Context, cfg config.Starter, id string, stdout, stderr io.Writer) int {
	c, desc, ok := describe(ctx, cfg, id, "starter: cancel:", stderr)
	if !ok {
		return exitFailed
	}
	defer c.Close()
	if status := desc.GetWorkflowExecutionInfo().GetStatus(); status != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		fmt.Fprintf(stdout, "%s already ended (%s): nothing to cancel; `starter result %s` shows how\n",
			id, status, id)
		return exitOK
	}
	if err := c.CancelWorkflow(ctx, id, ""); err != nil {
		fmt.Fprintln(stderr, "starter: cancel:", explain(err, cfg, id))
		return exitFailed
	}
	what := "it stops the copy and deletes the image it made"
	if isPromotion(desc.GetWorkflowExecutionInfo().GetType().GetName()) {
		what = "every running target stops and deletes what it half-made; finished targets stay"
	}
	fmt.Fprintf(stdout, "cancellation requested for %s: %s (unless started with --keep-failed); "+
		"`starter result %s` waits for the end\n", id, what, id)
	return exitOK
}

// printJSON writes v indented, for people and for jq alike.
func printJSON(stdout io.Writer, v any) int {
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return exitFailed
	}
	return exitOK
}

// isPromotion tells a promotion from a copy by its workflow type.
func isPromotion(workflowType string) bool {
	return workflowType == promote.WorkflowName
}

// promotionStatus prints a promotion's targets: a table, or its progress as JSON.
func promotionStatus(ctx context.Context, c client.Client, id, status string, asJSON bool, stdout io.Writer) int {
	if asJSON {
		var p promote.Progress
		v, err := c.QueryWorkflow(ctx, id, "", promote.ProgressQuery)
		if err == nil {
			err = v.Get(&p)
		}
		out := map[string]any{"workflowId": id, "status": status, "progress": p}
		if err != nil {
			out["progressError"] = err.Error()
		}
		return printJSON(stdout, out)
	}
	fmt.Fprintf(stdout, "%s: %s\n", id, status)
	fmt.Fprint(stdout, promotionTable(ctx, c, id))
	return exitOK
}
