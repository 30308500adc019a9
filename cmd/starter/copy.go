package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/imscopy/imscopy/imsapi"
	"github.com/imscopy/imscopy/internal/config"
	"github.com/imscopy/imscopy/workflows/copyimage"
)

// copyRequest is what `starter copy` was asked to do.
type copyRequest struct {
	in       copyimage.Input
	id       string
	wait     bool
	jsonOut  bool
	terminal bool
}

// flagOf names the flag behind each field a ValidationError can name, so that a refusal says
// what to change on the command line.
var flagOf = map[string]string{
	"region":                "--region",
	"image_id":              "--image",
	"name":                  "--name",
	"description":           "--description",
	"cmk_id":                "--cmk-id",
	"enterprise_project_id": "--enterprise-project-id",
	"target_region":         "--target-region",
	"agency_name":           "--agency-name",
}

// usageError is a command line the starter refuses before doing anything; it exits exitUsage.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// errReported is a command line the flag package refused and has already explained, with the usage.
var errReported = errors.New("command line refused")

// parseError keeps -h a request for help and makes any other parse error errReported.
func parseError(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return flag.ErrHelp
	}
	return errReported
}

// parseFlags parses args into fs and refuses a flag given more than once. The flag package keeps
// the last value of a repeated flag without a word, so `--name a --name b` would copy under a name
// the user may not have meant, and `--cmk-id K --cmk-id ""` would make an unencrypted copy.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return parseError(err)
	}
	return refuseRepeated(fs, args[:len(args)-fs.NArg()])
}

// refuseRepeated refuses a flag given more than once in the runs of flags that fs parsed without
// error (runs: a command whose flags may follow its arguments parses several), naming it and its
// values. It reads each run as the flag package does: -x or --x, with "=value" or the next word
// (a bool flag takes none), up to "--" or the first word that is not a flag.
func refuseRepeated(fs *flag.FlagSet, runs ...[]string) error {
	values := map[string][]string{}
	var order []string
	for _, args := range runs {
		for i := 0; i < len(args); i++ {
			a := args[i]
			if a == "--" || len(a) < 2 || a[0] != '-' {
				break
			}
			name, value, hasValue := strings.Cut(strings.TrimPrefix(a[1:], "-"), "=")
			f := fs.Lookup(name)
			if f == nil {
				break // only -h or -help, which Parse answers itself
			}
			if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
				if !hasValue {
					value = "true"
				}
			} else if !hasValue && i+1 < len(args) {
				i++
				value = args[i]
			}
			if len(values[name]) == 0 {
				order = append(order, name)
			}
			values[name] = append(values[name], value)
		}
	}
	for _, name := range order {
		if vs := values[name]; len(vs) > 1 {
			quoted := make([]string, len(vs))
			for i, v := range vs {
				quoted[i] = strconv.Quote(v)
			}
			return &usageError{msg: fmt.Sprintf("--%s is given %d times (%s): give it once; the starter does not pick one for you",
				name, len(vs), strings.Join(quoted, ", "))}
		}
	}
	return nil
}

// parseCopy reads and validates the copy flags. It makes no network call: a bad request is
// refused here, before any workflow exists.
func parseCopy(args []string, cfg config.Starter, stderr io.Writer) (copyRequest, error) {
	var r copyRequest
	fs := flag.NewFlagSet("copy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&r.in.SourceImageID, "image", "", "ID of the image to copy (required)")
	fs.StringVar(&r.in.Name, "name", "", "name of the new image (required): 1-128 letters, digits, '-._', spaces, CJK")
	fs.StringVar(&r.in.Description, "description", "", "description of the new image: at most 1024 characters, no '<', '>' or carriage return")
	fs.StringVar(&r.in.CMKID, "cmk-id", "", "KMS key ID: encrypt the copy with this key")
	fs.StringVar(&r.in.EnterpriseProjectID, "enterprise-project-id", "", `enterprise project of the new image: "0" or a UUID`)
	fs.StringVar(&r.in.Region, "region", cfg.Region, "region of the source image, where the copy is made; IMS_REGION unless given")
	fs.StringVar(&r.in.TargetRegion, "target-region", "", "copy to this other region (a cross-region copy; needs --agency-name, no --cmk-id)")
	fs.StringVar(&r.in.AgencyName, "agency-name", "", "IAM agency with IMS rights in both regions, for --target-region")
	fs.BoolVar(&r.in.KeepFailedImages, "keep-failed", false, "keep the image of a failed copy for inspection instead of deleting it")
	fs.StringVar(&r.id, "id", "", "workflow ID (default: derived from region, image and name, so the same copy is never started twice)")
	fs.BoolVar(&r.wait, "wait", false, "show progress until the copy ends, then its result")
	fs.BoolVar(&r.jsonOut, "json", false, "print JSON: the result with --wait, else the workflow and run IDs")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: starter copy --image ID --name NAME [flags]")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return r, err
	}
	switch {
	case fs.NArg() > 0:
		return r, &usageError{msg: fmt.Sprintf("unexpected argument %q: every value is given with a flag, e.g. --name %q", fs.Arg(0), fs.Arg(0))}
	case r.in.SourceImageID == "":
		return r, &usageError{msg: "--image is required: the ID of the image to copy"}
	case r.in.Name == "":
		return r, &usageError{msg: "--name is required: the name of the new image"}
	}
	if err := r.in.Validate(); err != nil {
		var v *imsapi.ValidationError
		if errors.As(err, &v) {
			return r, &usageError{msg: fmt.Sprintf("refusing to start the copy: %s: %v", flagOf[v.Field], err)}
		}
		return r, &usageError{msg: "refusing to start the copy: " + err.Error()}
	}
	if r.id == "" {
		r.id = copyimage.WorkflowID(r.in)
	}
	if err := checkWorkflowID(r.id); err != nil {
		return r, &usageError{msg: "refusing to start the copy: --id " + err.Error()}
	}
	return r, nil
}

// startOptions make a copy exactly one workflow: starting it while it runs attaches to it
// (USE_EXISTING), and starting it after it succeeded returns the finished one instead of copying
// again; only after a failure, a cancel or a termination does the same ID start a new attempt.
func startOptions(id, taskQueue string) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{
		ID:                       id,
		TaskQueue:                taskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY,
		// An ID the reuse policy refuses is reported, so the starter can say the copy already
		// succeeded instead of implying it started one.
		WorkflowExecutionErrorWhenAlreadyStarted: true,
	}
}

func runCopy(ctx context.Context, cfg config.Starter, r copyRequest, stdout, stderr io.Writer, width func() int) int {
	c, err := dial(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, "starter:", err)
		return exitFailed
	}
	defer c.Close()

	// USE_EXISTING answers a start with the running copy's run without saying it did; the run
	// running before the start tells "attached" from "started".
	runningRun, err := runningRunID(ctx, c, r.id)
	if err != nil {
		fmt.Fprintln(stderr, "starter: look for a running copy:", explain(err, cfg, r.id))
		return exitFailed
	}
	run, err := c.ExecuteWorkflow(ctx, startOptions(r.id, cfg.TaskQueue), copyimage.CopyImage, r.in)
	var already *serviceerror.WorkflowExecutionAlreadyStarted
	switch {
	case errors.As(err, &already):
		// Only a successful copy refuses a new run (see startOptions); what to say depends on
		// whether it was this request, read below.
		run = c.GetWorkflow(ctx, r.id, already.RunId)
	case err != nil:
		fmt.Fprintln(stderr, "starter: start the copy:", explain(err, cfg, r.id))
		return exitFailed
	default:
		verb := "started copy workflow"
		if runningRun != "" && run.GetRunID() == runningRun {
			verb = "attached to the running copy workflow"
		}
		fmt.Fprintf(stderr, "%s %s (run %s) on task queue %s\n", verb, run.GetID(), run.GetRunID(), cfg.TaskQueue)
	}
	// USE_EXISTING attaches to a running copy of the same ID whatever it was asked; a copy that
	// differs (another key, description, ...) is not this request, and saying nothing would hand
	// the user an image that is not what they asked for.
	started, err := startedInput(ctx, c, run)
	if err != nil {
		fmt.Fprintln(stderr, "starter: read the copy's request back:", explain(err, cfg, r.id))
		return exitFailed
	}
	if diff := differences(started, r.in); diff != "" {
		fmt.Fprintln(stderr, "starter: "+conflictMessage(r.id, diff, already != nil))
		return exitFailed
	}

	if already != nil {
		fmt.Fprintf(stderr, "this copy already succeeded as workflow %s; not copying again\n", r.id)
	}
	if !r.wait {
		if r.jsonOut {
			return printJSON(stdout, map[string]string{"workflowId": run.GetID(), "runId": run.GetRunID()})
		}
		// The ID alone on stdout, for scripts: `id=$(starter copy ...)`.
		fmt.Fprintln(stdout, run.GetID())
		return exitOK
	}

	view := &progressView{out: stderr, terminal: r.terminal, width: width, now: timeNow}
	if r.jsonOut {
		view.terminal = false
	}
	res, err := watch(ctx, c, run, view)
	return finish(ctx, cfg, stdout, stderr, r.jsonOut, run, res, err)
}

// runningRunID is the run of workflow id that is running, or "" when none is.
func runningRunID(ctx context.Context, c client.Client, id string) (string, error) {
	desc, err := c.DescribeWorkflowExecution(ctx, id, "")
	var notFound *serviceerror.NotFound
	switch {
	case errors.As(err, &notFound):
		return "", nil
	case err != nil:
		return "", err
	case desc.GetWorkflowExecutionInfo().GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING:
		return "", nil
	}
	return desc.GetWorkflowExecutionInfo().GetExecution().GetRunId(), nil
}

// startedInput reads back the request a workflow run was started with: the input of the first
// event of its history.
func startedInput(ctx context.Context, c client.Client, run client.WorkflowRun) (copyimage.Input, error) {
	var in copyimage.Input
	events := c.GetWorkflowHistory(ctx, run.GetID(), run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	first, err := events.Next()
	if err != nil {
		return in, err
	}
	attrs := first.GetWorkflowExecutionStartedEventAttributes()
	if attrs == nil {
		return in, fmt.Errorf("the first event of workflow %s is %s, not its start", run.GetID(), first.GetEventType())
	}
	return in, converter.GetDefaultDataConverter().FromPayloads(attrs.GetInput(), &in)
}

// differences names the fields where two copy requests differ, or returns "".
func differences(running, asked copyimage.Input) string {
	var diffs []string
	field := func(name, a, b string) {
		if a != b {
			diffs = append(diffs, fmt.Sprintf("%s %q, not %q", name, a, b))
		}
	}
	field("region", running.Region, asked.Region)
	field("image", running.SourceImageID, asked.SourceImageID)
	field("name", running.Name, asked.Name)
	field("description", running.Description, asked.Description)
	field("cmk-id", running.CMKID, asked.CMKID)
	field("enterprise-project-id", running.EnterpriseProjectID, asked.EnterpriseProjectID)
	field("target-region", running.TargetRegion, asked.TargetRegion)
	field("agency-name", running.AgencyName, asked.AgencyName)
	if running.KeepFailedImages != asked.KeepFailedImages {
		diffs = append(diffs, fmt.Sprintf("keep-failed %v, not %v", running.KeepFailedImages, asked.KeepFailedImages))
	}
	return strings.Join(diffs, "; ")
}

// conflictMessage says why a copy was not started: its workflow ID belongs to a copy with another
// request, which has succeeded (finished) or is running.
func conflictMessage(id, diff string, finished bool) string {
	if finished {
		return fmt.Sprintf("workflow %s already succeeded as a copy with another request (%s); nothing was copied. "+
			"`starter result %s` shows its image; give this copy another --name or --id", id, diff, id)
	}
	return fmt.Sprintf("workflow %s is a running copy with another request (%s); it was left alone. Wait for it "+
		"(`starter result %s`), cancel it, or give this copy another --name or --id", id, diff, id)
}
