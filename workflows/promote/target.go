package promote

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/imscopy/imscopy/activities/activityapi"
	"github.com/imscopy/imscopy/imsapi"
	"github.com/imscopy/imscopy/workflows/copyimage"
	"github.com/imscopy/imscopy/workflows/failures"
)

// intermediateSuffix names the plain image an encrypted target in another region is copied
// through; the name is derived, so a rerun's first hop adopts the same image.
const intermediateSuffix = "-imscopy-hop"

// PromoteTarget takes the golden image to one target: copy (one hop, or two for an encrypted
// target in another region), verify (each copy verifies itself), share, accept, and check the
// members. Each copy is a CopyImage child, durable and self-compensating. It returns the target's
// report; a failure or cancellation carries the same report as its details.
func PromoteTarget(ctx workflow.Context, in TargetInput) (TargetReport, error) {
	if in.Target < 0 || in.Target >= len(in.Plan.Targets) {
		return TargetReport{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("target %d is not in the plan's %d targets", in.Target, len(in.Plan.Targets)), activityapi.ErrInvalidInput, nil)
	}
	t := in.Plan.Targets[in.Target]
	r := &targetRun{
		in: in, t: t, stepStart: workflow.Now(ctx),
		logger: log.With(workflow.GetLogger(ctx), "Region", t.Region, "Name", t.ImageName(in.Plan)),
		report: TargetReport{Region: t.Region, Name: t.ImageName(in.Plan), WorkflowID: workflow.GetInfo(ctx).WorkflowExecution.ID,
			Status: StatusRunning, Step: StepCopy},
	}
	if err := workflow.SetQueryHandler(ctx, ProgressQuery, func() (TargetReport, error) { return r.report, nil }); err != nil {
		return TargetReport{}, err
	}
	if err := r.run(ctx); err != nil {
		return r.report, r.failure(err)
	}
	r.enter(ctx, StepDone)
	r.report.Status = StatusDone
	r.logger.Info("Target done", "ImageID", r.report.ImageID)
	return r.report, nil
}

// targetRun is one target's state, shared by its steps and its progress query.
type targetRun struct {
	in        TargetInput
	t         Target
	logger    log.Logger
	report    TargetReport
	stepStart time.Time
}

func (r *targetRun) run(ctx workflow.Context) error {
	plan, t := r.in.Plan, r.t
	final := copyimage.Input{Region: t.Region, SourceImageID: plan.Source.ImageID, Name: t.ImageName(plan),
		Description: t.ImageDescription(plan), CMKID: t.CMKID, EnterpriseProjectID: t.EnterpriseProjectID,
		KeepFailedImages: r.in.KeepFailedImages}
	switch {
	case !t.CrossRegion(plan):
		if err := r.copy(ctx, "copy", final, RoleFinal); err != nil {
			return err
		}
	case t.CMKID == "":
		final.Region, final.TargetRegion, final.AgencyName = plan.Source.Region, t.Region, plan.AgencyName
		if err := r.copy(ctx, "copy", final, RoleFinal); err != nil {
			return err
		}
	default:
		if err := r.twoHops(ctx, final); err != nil {
			return err
		}
	}
	if len(t.ShareWith) == 0 {
		return nil
	}
	r.enter(ctx, StepShare)
	if err := r.share(ctx); err != nil {
		return err
	}
	if t.Accepts() {
		r.enter(ctx, StepAccept)
		if err := r.accept(ctx); err != nil {
			return err
		}
	}
	r.enter(ctx, StepMembers)
	return r.checkMembers(ctx)
}

// twoHops copies an encrypted target in another region: plain across regions under an
// intermediate name, then in the target region with the key under the final name, then deletes
// the intermediate image, which is also deleted (or kept, if asked) when the second hop fails.
func (r *targetRun) twoHops(ctx workflow.Context, final copyimage.Input) error {
	plan, t := r.in.Plan, r.t
	// The final image's lineage names the intermediate, which is gone once the target is done: a
	// rerun looks for the final image by itself, or it would copy both hops again.
	var found activityapi.FoundImage
	if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, readOptions), activityapi.NameFindReencrypted,
		activityapi.FindReencryptedInput{Region: t.Region, Name: final.Name, CMKID: final.CMKID,
			IntermediateName: intermediateName(final.Name), SourceImageID: plan.Source.ImageID}).Get(ctx, &found); err != nil {
		return err
	}
	if found.Status == "active" {
		// Verified when it was made; its source, the intermediate, is gone, so it cannot be again.
		r.report.Images = append(r.report.Images, ImageRecord{ID: found.ID, Region: t.Region, Role: RoleFinal, Fate: FateKept})
		r.report.ImageID, r.report.Adopted = found.ID, true
		return nil
	}
	if found.ID == "" {
		hop := copyimage.Input{Region: plan.Source.Region, TargetRegion: t.Region, AgencyName: plan.AgencyName,
			SourceImageID: plan.Source.ImageID, Name: intermediateName(final.Name), Description: final.Description,
			KeepFailedImages: r.in.KeepFailedImages}
		if err := r.copy(ctx, "hop", hop, RoleIntermediate); err != nil {
			return err
		}
	} else {
		// A second hop under way when an earlier run stopped: its copy adopts it.
		r.report.Images = append(r.report.Images, ImageRecord{ID: found.SourceImageID, Region: t.Region, Role: RoleIntermediate, Fate: FateKept})
	}
	intermediate := len(r.report.Images) - 1
	r.enter(ctx, StepReencrypt)
	final.SourceImageID = r.report.Images[intermediate].ID
	err := r.copy(ctx, "reencrypt", final, RoleFinal)
	if err != nil && r.in.KeepFailedImages {
		r.report.Images[intermediate].Fate = FateKept
		return err
	}
	// Deleted whether the second hop succeeded or failed, and after a cancel too.
	dctx, cancel := workflow.NewDisconnectedContext(ctx)
	defer cancel()
	derr := workflow.ExecuteActivity(workflow.WithActivityOptions(dctx, deleteOptions), activityapi.NameCleanupCopy,
		activityapi.CleanupInput{Region: t.Region, ImageID: r.report.Images[intermediate].ID}).Get(dctx, nil)
	if derr != nil {
		r.report.Images[intermediate].Fate = FateLeft
		r.logger.Error("Could not delete the intermediate image; delete it by hand", "ImageID", r.report.Images[intermediate].ID, "Error", derr)
		if err == nil {
			return fmt.Errorf("deleting intermediate image %s in %s: %w", r.report.Images[intermediate].ID, t.Region, derr)
		}
		return err
	}
	r.report.Images[intermediate].Fate = FateDeleted
	return err
}

// intermediateName is the final name with intermediateSuffix, shortened to fit IMS's 128
// characters.
func intermediateName(final string) string {
	runes := []rune(final)
	if keep := imsapi.MaxNameLen - len(intermediateSuffix); len(runes) > keep {
		runes = runes[:keep]
	}
	return string(runes) + intermediateSuffix
}

// copy runs one CopyImage child and records its image and job; a failed copy's image was deleted
// by the copy itself unless failed images are kept.
func (r *targetRun) copy(ctx workflow.Context, suffix string, in copyimage.Input, role string) error {
	opts := workflow.ChildWorkflowOptions{
		WorkflowID: r.report.WorkflowID + "/" + suffix,
		// The child deletes what it half-made when cancelled; the target waits for that.
		WaitForCancellation: true,
	}
	var res copyimage.Result
	err := workflow.ExecuteChildWorkflow(workflow.WithChildOptions(ctx, opts), copyimage.WorkflowName, in).Get(ctx, &res)
	if err != nil {
		var app *temporal.ApplicationError
		var f activityapi.CopyFailure
		if errors.As(err, &app) && app.HasDetails() && app.Details(&f) != nil {
			f = activityapi.CopyFailure{}
		}
		fate := FateDeleted
		if r.in.KeepFailedImages {
			fate = FateKept
		}
		// The copy says what it could not delete; "deleted" is only for what it did.
		if left, ok := failures.LeftBehindOf(err); ok {
			fate = FateLeft
			if left.Kept {
				fate = FateKept
			}
			f.ImageID = cmp.Or(left.ImageID, f.ImageID)
		}
		if f.ImageID != "" {
			r.report.Images = append(r.report.Images, ImageRecord{ID: f.ImageID, Region: in.ImageRegion(), Role: role, Fate: fate})
		}
		if f.JobID != "" {
			r.report.JobIDs = append(r.report.JobIDs, f.JobID)
		}
		return err
	}
	r.report.Images = append(r.report.Images, ImageRecord{ID: res.ImageID, Region: in.ImageRegion(), Role: role, Fate: FateKept})
	if res.JobID != "" {
		r.report.JobIDs = append(r.report.JobIDs, res.JobID)
	}
	if role == RoleFinal {
		r.report.ImageID, r.report.Adopted = res.ImageID, res.Adopted
	}
	return nil
}

// share adds the missing members and waits for the member job.
func (r *targetRun) share(ctx workflow.Context) error {
	var res activityapi.ShareResult
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, shareOptions), activityapi.NameShareImage,
		activityapi.ShareInput{Region: r.t.Region, ImageID: r.report.ImageID, Projects: r.t.ShareWith}).Get(ctx, &res)
	if err != nil || res.JobID == "" {
		return err
	}
	r.report.JobIDs = append(r.report.JobIDs, res.JobID)
	return workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, memberJobOptions), activityapi.NamePollJob,
		activityapi.PollJobInput{Region: r.t.Region, JobID: res.JobID, MemberJob: true}).Get(ctx, nil)
}

// accept accepts the share for every member still pending, on the recipients' task queue when the
// plan names one.
func (r *targetRun) accept(ctx workflow.Context) error {
	members, err := r.members(ctx)
	if err != nil {
		return err
	}
	opts := acceptOptions
	if r.t.AcceptQueue != "" {
		opts.TaskQueue = r.t.AcceptQueue
	}
	actx := workflow.WithActivityOptions(ctx, opts)
	for _, m := range members {
		if m.Status != string(imsapi.MemberPending) || !slices.Contains(r.t.ShareWith, m.ProjectID) {
			continue
		}
		if err := workflow.ExecuteActivity(actx, activityapi.NameAcceptShare,
			activityapi.AcceptInput{Region: r.t.Region, ImageID: r.report.ImageID, ProjectID: m.ProjectID}).Get(ctx, nil); err != nil {
			return err
		}
	}
	return nil
}

// checkMembers records the members list; when the plan accepts, every project must have accepted.
// Without accept the target is done with its members pending: the report names who must accept.
func (r *targetRun) checkMembers(ctx workflow.Context) error {
	members, err := r.members(ctx)
	if err != nil {
		return err
	}
	r.report.Members = members
	if !r.t.Accepts() {
		return nil
	}
	var notAccepted []string
	for _, p := range r.t.ShareWith {
		status := "missing"
		for _, m := range members {
			if m.ProjectID == p {
				status = m.Status
			}
		}
		if status != string(imsapi.MemberAccepted) {
			notAccepted = append(notAccepted, p+" is "+status)
		}
	}
	if len(notAccepted) > 0 {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("after the accept, the members list says %v; "+
			"a rejected share must be accepted by that project itself", notAccepted), activityapi.ErrShareFailed, nil)
	}
	return nil
}

func (r *targetRun) members(ctx workflow.Context) ([]Member, error) {
	var states []activityapi.MemberState
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, readOptions), activityapi.NameListImageMembers,
		activityapi.MembersInput{Region: r.t.Region, ImageID: r.report.ImageID}).Get(ctx, &states)
	out := make([]Member, 0, len(states))
	for _, s := range states {
		out = append(out, Member{ProjectID: s.ProjectID, Status: s.Status})
	}
	return out, err
}

// enter starts a step and records how long the previous one took.
func (r *targetRun) enter(ctx workflow.Context, step string) {
	now := workflow.Now(ctx)
	r.report.Steps = append(r.report.Steps, StepTime{Step: r.report.Step, Seconds: now.Sub(r.stepStart).Seconds()})
	r.report.Step, r.stepStart = step, now
}

// failure records err in the report and returns the target's error, which carries the report: a
// cancellation stays a cancellation; anything else is non-retryable with the cause's type, and
// IMS's code and reason when the cause had them.
func (r *targetRun) failure(err error) error {
	r.report.Error = err.Error()
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		r.report.ErrorType, r.report.Error = app.Type(), app.Message()
		var f activityapi.CopyFailure
		var s activityapi.ShareFailure
		var ims activityapi.IMSFailure
		switch {
		case app.Type() == activityapi.ErrCopyFailed && app.Details(&f) == nil:
			r.report.ErrorCode, r.report.FailReason = f.ErrorCode, f.FailReason
		case app.Type() == activityapi.ErrShareFailed && app.HasDetails() && app.Details(&s) == nil:
			r.report.ErrorCode, r.report.FailReason = s.ErrorCode, s.FailReason
		case app.HasDetails() && app.Details(&ims) == nil:
			r.report.ErrorCode = ims.Code
		}
	}
	if left, ok := failures.LeftBehindOf(err); ok && left.ImageID == "" {
		// No image record can say it: the error must.
		r.report.Error += "; " + left.Summary()
	}
	if temporal.IsCanceledError(err) {
		r.report.Status = StatusCancelled
		r.logger.Info("Target cancelled", "Step", r.report.Step)
		return temporal.NewCanceledError(r.report)
	}
	r.report.Status = StatusFailed
	if r.report.ErrorType == "" {
		r.report.ErrorType = failures.ErrInternal
	}
	r.logger.Error("Target failed", "Step", r.report.Step, "Error", err)
	msg := fmt.Sprintf("target %s (%s) failed while %s: %s", r.report.Region, r.report.Name, r.report.Step, r.report.Error)
	return temporal.NewApplicationErrorWithOptions(msg, r.report.ErrorType,
		temporal.ApplicationErrorOptions{NonRetryable: true, Details: []any{r.report}})
}
