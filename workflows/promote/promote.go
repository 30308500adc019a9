package promote

import (
	"errors"
	"fmt"
	"strings"

	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/imscopy/imscopy/activities/activityapi"
	"github.com/imscopy/imscopy/workflows/failures"
	"github.com/imscopy/imscopy/workflows/rawinput"
)

// PromoteImage runs a plan: it checks the whole plan (every rule, then IMS's facts with reads only),
// then runs one PromoteTarget child per target, all at once, each with an ID derived from the
// promotion and the target so that a rerun finds them. Targets are independent: one's failure
// never stops, cancels or undoes another, nor touches the source. It returns the report; with any
// target failed it fails with ErrPromotionFailed and the whole report as its details, so a
// pipeline step fails while every finished target stays finished.
//
// Go callers may start it by this function; the worker runs promoteImagePayload under
// WorkflowName, which decodes the input itself.
func PromoteImage(ctx workflow.Context, in Input) (Report, error) {
	return promoteImage(ctx, in, nil)
}

// promoteImagePayload is PromoteImage as registered: it decodes the input as the client sent it
// with DecodeInput, so that a key another language misspelt (a target's cmkid) fails the promotion
// as InvalidInput naming it, before anything is checked or copied, instead of vanishing.
func promoteImagePayload(ctx workflow.Context, input converter.RawValue) (Report, error) {
	// workflowcheck follows encoding/json into reflect's and the runtime's internals and calls it
	// non-deterministic; decoding the same bytes always gives the same Input.
	in, err := rawinput.Decode(input.Payload(), DecodeInput, "the promotion's input", "give one JSON object, {\"plan\": {...}}") //workflowcheck:ignore
	return promoteImage(ctx, in, err)
}

// promoteImage runs a promotion whose input was decoded, or failed to decode with inputErr.
func promoteImage(ctx workflow.Context, in Input, inputErr error) (Report, error) {
	id := workflow.GetInfo(ctx).WorkflowExecution.ID
	logger := log.With(workflow.GetLogger(ctx), "PromotionID", id)
	report := Report{PromotionID: id}
	for _, t := range in.Plan.Targets {
		report.Targets = append(report.Targets, TargetReport{Region: t.Region, Name: t.ImageName(in.Plan),
			WorkflowID: TargetID(id, in.Plan, t), Status: StatusRunning, Step: StepCheck})
	}
	if err := workflow.SetQueryHandler(ctx, ProgressQuery, func() (Progress, error) {
		return Progress{PromotionID: id, Targets: report.Targets}, nil
	}); err != nil {
		return Report{}, err
	}
	if inputErr != nil {
		return report, activityapi.InvalidInput(inputErr, "fix it and start the promotion again (the input's keys: docs/api.md)", activityapi.RuleDetail(inputErr)...)
	}
	if err := in.Plan.Validate(); err != nil {
		return report, activityapi.InvalidInput(err, "fix the plan and start the promotion again", activityapi.RuleDetail(err)...)
	}
	if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, readOptions), activityapi.NameCheckPromotion,
		checkInput(in.Plan)).Get(ctx, nil); err != nil {
		return report, refused(err)
	}

	futures := make([]workflow.ChildWorkflowFuture, len(in.Plan.Targets))
	for i, t := range in.Plan.Targets {
		opts := workflow.ChildWorkflowOptions{WorkflowID: report.Targets[i].WorkflowID, WaitForCancellation: true}
		futures[i] = workflow.ExecuteChildWorkflow(workflow.WithChildOptions(ctx, opts), TargetWorkflowName,
			TargetInput{Plan: in.Plan, Target: i, KeepFailedImages: in.KeepFailedImages})
		report.Targets[i].Step = StepCopy
		logger.Info("Target started", "Region", t.Region, "WorkflowID", report.Targets[i].WorkflowID)
	}
	// Each target's report replaces its placeholder as it ends, so the progress query shows it.
	sel := workflow.NewSelector(ctx)
	for i, f := range futures {
		sel.AddFuture(f, func(f workflow.Future) { report.Targets[i] = targetReport(ctx, f, report.Targets[i]) })
	}
	for range futures {
		sel.Select(ctx)
	}

	if ctx.Err() != nil {
		logger.Info("Promotion cancelled")
		return report, temporal.NewCanceledError(report)
	}
	if n := report.Failed(); n > 0 {
		logger.Error("Promotion failed", "FailedTargets", n)
		return report, temporal.NewApplicationErrorWithOptions(failureMessage(report), ErrPromotionFailed,
			temporal.ApplicationErrorOptions{NonRetryable: true, Details: []any{report}})
	}
	logger.Info("Promotion done", "Targets", len(report.Targets))
	return report, nil
}

// targetReport reads what a target's child returned: its report, from its result or from its
// error's details; a child that ended without one (terminated, timed out) is reported failed with
// its error.
func targetReport(ctx workflow.Context, f workflow.Future, placeholder TargetReport) TargetReport {
	var tr TargetReport
	err := f.Get(ctx, &tr)
	if err == nil {
		return tr
	}
	var app *temporal.ApplicationError
	var canceled *temporal.CanceledError
	switch {
	case errors.As(err, &app) && app.HasDetails() && app.Details(&tr) == nil:
		return tr
	case errors.As(err, &canceled) && canceled.HasDetails() && canceled.Details(&tr) == nil:
		return tr
	}
	placeholder.Status, placeholder.Error = StatusFailed, err.Error()
	if temporal.IsCanceledError(err) {
		placeholder.Status = StatusCancelled
	}
	return placeholder
}

// failureMessage names every failed target, its step and its reason, in one line.
func failureMessage(r Report) string {
	var failed []string
	for _, t := range r.Targets {
		if t.Status != StatusDone {
			failed = append(failed, fmt.Sprintf("%s (%s) %s while %s: %s", t.Region, t.Name, t.Status, t.Step, t.Error))
		}
	}
	return fmt.Sprintf("promotion %s: %d of %d targets did not finish: %s; the finished targets stay; "+
		"fix the cause and start the same plan again to resume the others", r.PromotionID, len(failed), len(r.Targets), strings.Join(failed, "; "))
}

func checkInput(p Plan) activityapi.CheckPromotionInput {
	in := activityapi.CheckPromotionInput{SourceRegion: p.Source.Region, SourceImageID: p.Source.ImageID}
	for _, t := range p.Targets {
		in.Targets = append(in.Targets, activityapi.CheckTarget{Region: t.Region, ShareWith: t.ShareWith})
	}
	return in
}

// refused fails the promotion whose check against IMS failed; nothing was written.
func refused(err error) error {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return temporal.NewApplicationErrorWithOptions("the plan was refused before anything was copied: "+app.Message(), app.Type(),
			temporal.ApplicationErrorOptions{NonRetryable: true})
	}
	return temporal.NewNonRetryableApplicationError("the plan could not be checked: "+err.Error(), failures.ErrInternal, nil)
}
