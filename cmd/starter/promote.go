package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"reflect"
	"strings"
	"text/tabwriter"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/imscopy/imscopy/internal/config"
	"github.com/imscopy/imscopy/internal/planfile"
	"github.com/imscopy/imscopy/internal/workflowid"
	"github.com/imscopy/imscopy/workflows/promote"
)

// promoteRequest is a parsed `starter promote` command line.
type promoteRequest struct {
	in      promote.Input
	id      string
	wait    bool
	jsonOut bool
}

// parsePromote reads the flags and the plan, and checks the plan in full. It makes no network call:
// a bad plan is refused here, naming the target and the field, before any workflow exists.
func parsePromote(args []string, stderr io.Writer) (promoteRequest, error) {
	var r promoteRequest
	var planPath string
	fs := flag.NewFlagSet("promote", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&planPath, "plan", "", "promotion plan, YAML or JSON (required; examples in testdata/plans)")
	fs.StringVar(&r.id, "id", "", "workflow ID (default: derived from the source and the name, so running the same plan again resumes it)")
	fs.BoolVar(&r.in.KeepFailedImages, "keep-failed", false, "keep the images of failed targets (intermediates too) for inspection instead of deleting them")
	fs.BoolVar(&r.wait, "wait", false, "show each target's progress until the promotion ends, then its report")
	fs.BoolVar(&r.jsonOut, "json", false, "print JSON: the report with --wait, else the workflow and run IDs")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: starter promote --plan FILE [flags]")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return r, err
	}
	switch {
	case fs.NArg() > 0:
		return r, &usageError{msg: fmt.Sprintf("unexpected argument %q: give the plan with --plan %s", fs.Arg(0), fs.Arg(0))}
	case planPath == "":
		return r, &usageError{msg: "--plan is required: a YAML or JSON promotion plan (see testdata/plans)"}
	}
	plan, err := planfile.Load(planPath)
	if err != nil {
		return r, &usageError{msg: "refusing to start the promotion: " + err.Error()}
	}
	r.in.Plan = plan
	if r.id == "" {
		r.id = promote.ID(plan)
	}
	if err := checkWorkflowID(r.id); err != nil {
		return r, &usageError{msg: "refusing to start the promotion: --id " + err.Error()}
	}
	return r, nil
}

// checkWorkflowID refuses an ID Temporal cannot carry: it travels as a gRPC header value, which
// must be printable ASCII, and the server refuses one longer than its limit.maxIDLength.
func checkWorkflowID(id string) error {
	if len(id) > workflowid.Limit {
		return fmt.Errorf("is %d bytes long: Temporal takes a workflow ID of at most %d", len(id), workflowid.Limit)
	}
	for _, r := range id {
		if r < ' ' || r > '~' {
			return fmt.Errorf("%q holds %q: a workflow ID must be printable ASCII", id, r)
		}
	}
	return nil
}

// promoteOptions attach a rerun to a running promotion of the same ID and otherwise start a new
// run, which resumes: what is done is found by lookup and only read.
func promoteOptions(id, taskQueue string) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{
		ID:                       id,
		TaskQueue:                taskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
	}
}

// runningPromotion is the input of the promotion running under id, if one is: a rerun attaches to
// it, which is right only for the same plan.
func runningPromotion(ctx context.Context, c client.Client, id string) (promote.Input, bool, error) {
	var in promote.Input
	desc, err := c.DescribeWorkflowExecution(ctx, id, "")
	var notFound *serviceerror.NotFound
	switch {
	case errors.As(err, &notFound):
		return in, false, nil
	case err != nil:
		return in, false, err
	case desc.GetWorkflowExecutionInfo().GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING:
		return in, false, nil
	}
	it := c.GetWorkflowHistory(ctx, id, desc.GetWorkflowExecutionInfo().GetExecution().GetRunId(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	if !it.HasNext() {
		return in, false, fmt.Errorf("promotion %s has no history", id)
	}
	ev, err := it.Next()
	if err != nil {
		return in, false, err
	}
	payloads := ev.GetWorkflowExecutionStartedEventAttributes().GetInput()
	if err := converter.GetDefaultDataConverter().FromPayloads(payloads, &in); err != nil {
		return in, false, fmt.Errorf("read the running promotion %s's plan: %w", id, err)
	}
	return in, true, nil
}

func runPromote(ctx context.Context, cfg config.Starter, r promoteRequest, stdout, stderr io.Writer) int {
	c, err := dial(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, "starter:", err)
		return exitFailed
	}
	defer c.Close()
	running, isRunning, err := runningPromotion(ctx, c, r.id)
	if err != nil {
		fmt.Fprintln(stderr, "starter: look for a running promotion:", explain(err, cfg, r.id))
		return exitFailed
	}
	if isRunning && !reflect.DeepEqual(running, r.in) {
		fmt.Fprintf(stderr, "starter: promotion %s is running with another plan or --keep-failed than this one, and would go on with its own: "+
			"wait for it to end (starter result %s) or cancel it (starter cancel %s) and run this again, or give --id to start a separate promotion\n",
			r.id, r.id, r.id)
		return exitUsage
	}
	run, err := c.ExecuteWorkflow(ctx, promoteOptions(r.id, cfg.TaskQueue), promote.WorkflowName, r.in)
	if err != nil {
		fmt.Fprintln(stderr, "starter: start the promotion:", explain(err, cfg, r.id))
		return exitFailed
	}
	verb := "started"
	if isRunning {
		verb = "attached to the running"
	}
	fmt.Fprintf(stderr, "%s promotion workflow %s (run %s) on task queue %s, %d targets\n", verb, run.GetID(), run.GetRunID(),
		cfg.TaskQueue, len(r.in.Plan.Targets))
	if !r.wait {
		if r.jsonOut {
			return printJSON(stdout, map[string]string{"workflowId": run.GetID(), "runId": run.GetRunID()})
		}
		fmt.Fprintln(stdout, run.GetID())
		return exitOK
	}
	done := make(chan struct{})
	var report promote.Report
	var runErr error
	go func() {
		defer close(done)
		runErr = run.Get(ctx, &report)
	}()
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	var last string
	for {
		select {
		case <-done:
			return finishPromotion(ctx, cfg, stdout, stderr, r.jsonOut, run.GetID(), report, runErr)
		case <-tick.C:
			if table := promotionTable(ctx, c, run.GetID()); table != last {
				fmt.Fprint(stderr, table)
				last = table
			}
		}
	}
}

// promotionTable is one line per target: region, status, step, percent of the running copy and
// its next poll, and the final image. The percent comes from the pending PollJob's heartbeat of
// the copy the target runs, so it costs the promotion's history nothing.
func promotionTable(ctx context.Context, c client.Client, id string) string {
	var p promote.Progress
	v, err := c.QueryWorkflow(ctx, id, "", promote.ProgressQuery)
	if err == nil {
		err = v.Get(&p)
	}
	if err != nil {
		return fmt.Sprintf("%s: no progress (%v): a worker answers progress queries; is one running?\n", id, err)
	}
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "REGION\tSTATUS\tSTEP\tPERCENT\tNEXT POLL\tIMAGE")
	for _, t := range p.Targets {
		if t.Status == promote.StatusRunning {
			t = liveTarget(ctx, c, t)
		}
		percent, next := "", ""
		if live := liveCopy(ctx, c, t); live != nil {
			percent = fmt.Sprintf("%.0f%%", 100*live.Percent)
			if !live.NextPollAt.IsZero() {
				// A clock time, not a countdown: the table is printed again only when it changes.
				next = live.NextPollAt.Local().Format(time.TimeOnly)
			}
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", t.Region, t.Status, t.Step, percent, next, t.ImageID)
	}
	w.Flush()
	return b.String()
}

// liveTarget asks a running target's own progress query; the promotion learns a target's state
// only when it ends.
func liveTarget(ctx context.Context, c client.Client, t promote.TargetReport) promote.TargetReport {
	v, err := c.QueryWorkflow(ctx, t.WorkflowID, "", promote.ProgressQuery)
	var live promote.TargetReport
	if err != nil || v.Get(&live) != nil {
		return t
	}
	return live
}

// liveCopy is the pending PollJob of the copy a running target is in, if any.
func liveCopy(ctx context.Context, c client.Client, t promote.TargetReport) *livePoll {
	if t.Status != promote.StatusRunning {
		return nil
	}
	for _, hop := range []string{"/copy", "/hop", "/reencrypt"} {
		desc, err := c.DescribeWorkflowExecution(ctx, t.WorkflowID+hop, "")
		if err != nil || desc.GetWorkflowExecutionInfo().GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
			continue
		}
		if live := livePollOf(desc); live != nil {
			return live
		}
	}
	return nil
}

// finishPromotion prints the report and returns 0 when every target is done, 1 otherwise.
func finishPromotion(ctx context.Context, cfg config.Starter, stdout, stderr io.Writer, asJSON bool, id string,
	report promote.Report, err error) int {
	if ctx.Err() != nil {
		fmt.Fprintf(stderr, "stopped waiting; the promotion goes on. `starter result %s` waits for it again.\n", id)
		return exitInterrupted
	}
	var ended *temporal.WorkflowExecutionError
	if err != nil && !errors.As(err, &ended) {
		fmt.Fprintln(stderr, "starter:", explain(err, cfg, id))
		return exitFailed
	}
	if err != nil {
		var app *temporal.ApplicationError
		var canceled *temporal.CanceledError
		switch {
		case errors.As(err, &app) && app.HasDetails() && app.Details(&report) == nil:
		case errors.As(err, &canceled) && canceled.HasDetails() && canceled.Details(&report) == nil:
		}
	}
	if asJSON {
		printJSON(stdout, report)
	} else {
		printReport(stdout, report)
	}
	if err != nil {
		fmt.Fprintln(stderr, "starter: "+firstLine(errorMessage(err)))
		return exitFailed
	}
	return exitOK
}

// errorMessage is the workflow's own failure message, without the SDK's wrapping.
func errorMessage(err error) string {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return app.Message()
	}
	return err.Error()
}

// printReport is the report for people: one line per target, then what each failed target needs.
func printReport(out io.Writer, r promote.Report) {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "REGION\tNAME\tSTATUS\tSTEP\tIMAGE\tMEMBERS")
	for _, t := range r.Targets {
		var members []string
		for _, m := range t.Members {
			members = append(members, m.ProjectID+"="+m.Status)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", t.Region, t.Name, t.Status, t.Step, t.ImageID, strings.Join(members, ","))
	}
	w.Flush()
	for _, t := range r.Targets {
		if t.Error != "" {
			fmt.Fprintf(out, "%s: %s\n", t.Region, firstLine(t.Error))
		}
		for _, img := range t.Images {
			if img.Fate == promote.FateLeft || (t.Status != promote.StatusDone && img.Fate == promote.FateKept) {
				fmt.Fprintf(out, "%s: image %s (%s) is left in %s: delete it when done with it\n", t.Region, img.ID, img.Role, img.Region)
			}
		}
	}
}
