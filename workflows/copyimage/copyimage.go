// Package copyimage is the CopyImage workflow: one durable image copy, in a region or to another,
// exactly once in effect. Its contract (input, result, progress, names) is api.go. Workflow code
// only: everything that talks to IMS is an activity (package activities).
package copyimage

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/imscopy/imscopy/activities/activityapi"
	"github.com/imscopy/imscopy/workflows/failures"
	"github.com/imscopy/imscopy/workflows/permit"
	"github.com/imscopy/imscopy/workflows/rawinput"
)

// CopyImage copies an image within a region, durably: Validate, SubmitCopy, PollJob, VerifyImage.
// When it fails or is cancelled after IMS created an image, it deletes that image (unless asked to
// keep it) and returns an error that carries IMS's reason.
//
// Go callers start it by this function (client.ExecuteWorkflow(ctx, opts, copyimage.CopyImage, in)):
// the client checks their Input against it and sends it as JSON under WorkflowName. The worker runs
// copyImagePayload under that name, which decodes the JSON itself.
func CopyImage(ctx workflow.Context, in Input) (Result, error) {
	return copyImage(ctx, in, nil)
}

// copyImagePayload is CopyImage as registered: it takes the input as the client sent it and
// decodes it with DecodeInput, so that input another language wrote with an unknown key or of the
// wrong shape fails the copy as InvalidInput naming the key, before any activity. Decoded by the
// SDK, a misspelt key would vanish (an unencrypted copy for a misspelt cmk_id) and a wrong shape
// would fail with the SDK's own decoding error.
func copyImagePayload(ctx workflow.Context, input converter.RawValue) (Result, error) {
	// workflowcheck follows encoding/json into reflect's and the runtime's internals (a panic's
	// stack, the garbage collector) and calls it non-deterministic; decoding the same bytes always
	// gives the same Input, as the SDK's own decoding of workflow arguments does.
	in, err := rawinput.Decode(input.Payload(), DecodeInput, "the copy's input", "give one JSON object with the copy's keys (region, source_image_id, name, ...)") //workflowcheck:ignore
	return copyImage(ctx, in, err)
}

// copyImage runs a copy whose input was decoded, or failed to decode with inputErr.
func copyImage(ctx workflow.Context, in Input, inputErr error) (Result, error) {
	c := &copyRun{
		in:     in,
		logger: log.With(workflow.GetLogger(ctx), "Region", in.Region, "SourceImageID", in.SourceImageID, "Name", in.Name),
	}
	if err := c.setup(ctx); err != nil {
		return Result{}, err
	}
	if inputErr != nil {
		return Result{}, c.invalid(ctx, inputErr)
	}
	return c.run(ctx)
}

// copyRun is one copy's state, shared by its steps and its progress query.
type copyRun struct {
	in       Input
	logger   log.Logger
	progress Progress
	phases   []PhaseTime
	adopted  bool
	// adoptedFrom and imageCreatedAt say which copy made an adopted image, and when.
	adoptedFrom, imageCreatedAt string
	// owned says whether the image is this copy's to delete on failure. An adopted image that was
	// already active may be an earlier, finished copy that someone relies on: it is never deleted.
	owned bool
	// lostPost says that SubmitCopy returned no result although a POST may have created a copy, so
	// the compensation must look for it by its request, killed ones made since submitAt included.
	lostPost bool
	submitAt time.Time
	// jobEnded says that the copy saw its IMS job end (PollJob answered, or the clean-up deleted
	// its image, which IMS allows only then): a cross-region copy's permit may go back at once.
	jobEnded bool
}

func (c *copyRun) setup(ctx workflow.Context) error {
	now := workflow.Now(ctx)
	c.progress = Progress{Phase: PhaseValidating, StartedAt: now, PhaseStartedAt: now}
	return workflow.SetQueryHandler(ctx, ProgressQuery, func() (Progress, error) { return c.progress, nil })
}

func (c *copyRun) run(ctx workflow.Context) (Result, error) {
	if err := c.in.Validate(); err != nil {
		return Result{}, c.invalid(ctx, err)
	}

	if c.in.CrossRegion() {
		// IMS runs at most a few cross-region copies per tenant and refuses more (IMG.0149): hold
		// one of the tenant's permits from before the POST until this copy has ended.
		c.enter(ctx, PhaseAwaitingPermit)
		held, err := permit.Acquire(ctx, permit.KeyOf(c.in.Region, c.in.TargetRegion))
		defer func() {
			c.awaitJobEnd(ctx)
			permit.Release(ctx, held)
		}()
		if err != nil {
			return Result{}, c.compensateAndFail(ctx, err)
		}
	}

	c.enter(ctx, PhaseSubmitting)
	c.submitAt = workflow.Now(ctx)
	var sub activityapi.SubmitCopyResult
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, submitOptions), activityapi.NameSubmitCopy,
		activityapi.SubmitCopyInput{Region: c.in.Region, Request: c.in.CopyRequest(), TargetRegion: c.in.TargetRegion,
			AgencyName: c.in.AgencyName}).Get(ctx, &sub)
	if err != nil {
		c.lostPost, c.owned = mayHavePosted(err), true
		return Result{}, c.compensateAndFail(ctx, err)
	}
	c.progress.JobID, c.progress.ImageID, c.adopted = sub.JobID, sub.ImageID, sub.Adopted
	c.adoptedFrom, c.imageCreatedAt = sub.AdoptedFrom, sub.AdoptedCreatedAt
	if sub.Adopted && c.adoptedFrom == "" {
		c.adoptedFrom = AdoptedFromUnknown // adopted by a worker of the version before it said
	}
	c.owned = !sub.Adopted || sub.AdoptedStatus != "active"
	c.logger.Info("Copy submitted", "JobID", sub.JobID, "ImageID", sub.ImageID, "Adopted", sub.Adopted)
	if ctx.Err() != nil {
		// Cancelled while the POST was in flight: the job exists, so undo it.
		return Result{}, c.compensateAndFail(ctx, temporal.NewCanceledError())
	}

	c.enter(ctx, PhasePolling)
	if err := c.poll(ctx); err != nil {
		return Result{}, c.compensateAndFail(ctx, err)
	}

	c.enter(ctx, PhaseVerifying)
	err = workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, verifyOptions), activityapi.NameVerifyImage,
		c.verifyInput()).Get(ctx, nil)
	if err != nil {
		return Result{}, c.compensateAndFail(ctx, err)
	}

	c.enter(ctx, PhaseSucceeded)
	c.logger.Info("Copy succeeded", "ImageID", c.progress.ImageID)
	return Result{ImageID: c.progress.ImageID, JobID: c.progress.JobID, Adopted: c.adopted, AdoptedFrom: c.adoptedFrom,
		ImageCreatedAt: c.imageCreatedAt, Phases: c.phases}, nil
}

// invalid fails the copy for its input, before any activity.
func (c *copyRun) invalid(ctx workflow.Context, err error) error {
	c.enter(ctx, PhaseFailed)
	c.progress.LastError = err.Error()
	return activityapi.InvalidInput(err, "fix it and start the copy again (the input's keys: docs/api.md)", activityapi.RuleDetail(err)...)
}

// poll waits for PollJob. The job's percent while it copies is not sent here: it is in PollJob's
// heartbeat details, which the starter reads from the pending activity, so the history stays the
// same length however long the job takes. When PollJob ends, its result or its failure (a
// CopyFailure's percent, a timeout's or a cancellation's last heartbeat) says how far the job
// got, and the progress keeps that. Only the progress query reads it; waiting for a cancelled
// PollJob to say it is versioned (pollPercentOnCancel), since it changes when the compensation is
// scheduled.
func (c *copyRun) poll(ctx workflow.Context) error {
	opts := pollOptions
	if workflow.GetVersion(ctx, pollPercentOnCancel, workflow.DefaultVersion, 1) == 1 {
		// A cancelled PollJob stops at its next heartbeat and ends with that heartbeat; waiting for
		// it keeps how far the job got in the progress. It costs the compensation at most one
		// heartbeat's wait, small beside its own wait for IMS to stop the job.
		opts.WaitForCancellation = true
	}
	var res activityapi.PollJobResult
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, opts), activityapi.NamePollJob,
		activityapi.PollJobInput{Region: c.in.Region, JobID: c.progress.JobID, ImageID: c.progress.ImageID,
			ImageRegion: c.in.TargetRegion}).Get(ctx, &res)
	if err != nil {
		var app *temporal.ApplicationError
		var timeout *temporal.TimeoutError
		var canceled *temporal.CanceledError
		var f activityapi.CopyFailure
		var beat activityapi.PollHeartbeat
		switch {
		case errors.As(err, &app) && app.Type() == activityapi.ErrCopyFailed:
			c.jobEnded = true
			if app.Details(&f) == nil {
				if f.ImageID != "" {
					c.progress.ImageID = f.ImageID
				}
				// How far the job got stays in the progress: the heartbeat that said so is gone.
				c.progress.Percent = f.Percent
			}
		case errors.As(err, &timeout) && timeout.HasLastHeartbeatDetails() && timeout.LastHeartbeatDetails(&beat) == nil:
			c.progress.Percent = beat.Percent
		case errors.As(err, &canceled) && canceled.HasDetails() && canceled.Details(&beat) == nil:
			c.progress.Percent = beat.Percent
		}
		return err
	}
	c.jobEnded = true
	c.progress.ImageID, c.progress.Percent, c.progress.Polls = res.ImageID, 1, res.Polls
	return nil
}

// pollPercentOnCancel is the version of CopyImage that, cancelled while PollJob waits, waits for
// PollJob to stop and keeps the percent it ends with; copies started before went on at once and
// replay without it.
const pollPercentOnCancel = "poll-percent-on-cancel"

// permitUntilJobEnd is the version of CopyImage that keeps a cross-region copy's permit until
// its IMS job has ended; copies that released it at their own end replay without it.
const permitUntilJobEnd = "permit-until-job-end"

// awaitJobEnd waits, before a cross-region copy gives its permit back, for its IMS job to end
// when the copy ends while the job may still run: cancelled with KeepFailedImages, or its
// clean-up failed. IMS counts a running job against the tenant's limit whatever became of the
// workflow, so releasing earlier would let the next copy meet IMG.0149. The wait is PollJob in a
// context the cancellation does not reach; its outcome is only that the job has ended.
func (c *copyRun) awaitJobEnd(ctx workflow.Context) {
	if c.jobEnded || c.progress.JobID == "" {
		return
	}
	if workflow.GetVersion(ctx, permitUntilJobEnd, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return
	}
	c.logger.Info("Waiting for the cross-region job to end before giving its permit back", "JobID", c.progress.JobID)
	dctx, cancel := workflow.NewDisconnectedContext(ctx)
	defer cancel()
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(dctx, pollOptions), activityapi.NamePollJob,
		activityapi.PollJobInput{Region: c.in.Region, JobID: c.progress.JobID, ImageID: c.progress.ImageID,
			ImageRegion: c.in.TargetRegion}).Get(dctx, nil)
	c.logger.Info("The cross-region job has ended; giving its permit back", "JobID", c.progress.JobID, "Outcome", err)
}

// verifyInput is what the new image must be: a cross-region copy's image is in the target region,
// its source in the copy's.
func (c *copyRun) verifyInput() activityapi.VerifyImageInput {
	in := activityapi.VerifyImageInput{Region: c.in.Region, ImageID: c.progress.ImageID, SourceImageID: c.in.SourceImageID,
		Name: c.in.Name, CMKID: c.in.CMKID}
	if c.in.CrossRegion() {
		in.Region, in.SourceRegion = c.in.TargetRegion, c.in.Region
	}
	return in
}

// enter starts a phase and records how long the previous one took.
func (c *copyRun) enter(ctx workflow.Context, phase string) {
	now := workflow.Now(ctx)
	c.phases = append(c.phases, PhaseTime{Phase: c.progress.Phase, Duration: now.Sub(c.progress.PhaseStartedAt)})
	c.progress.Phase, c.progress.PhaseStartedAt = phase, now
}

// compensateAndFail compensates (deletes the copy's image, in a context the cancellation does not
// reach) and returns the error the workflow ends with (endingError).
func (c *copyRun) compensateAndFail(ctx workflow.Context, err error) error {
	failedIn := c.progress.Phase
	c.progress.LastError = err.Error()
	if temporal.IsCanceledError(err) {
		c.logger.Info("Copy cancelled", "Phase", failedIn)
	} else {
		c.logger.Error("Copy failed", "Phase", failedIn, "Error", err)
	}
	known := c.progress.JobID != "" || c.progress.ImageID != ""
	// left is what the copy leaves in IMS, named in its failure so every way of reading the end
	// can say which image still costs quota and what to do.
	var left *failures.LeftBehind
	switch {
	case !known && !c.lostPost:
	case !c.owned:
		c.logger.Info("Leaving the adopted image in place: it was active before this copy", "ImageID", c.progress.ImageID)
	case c.in.KeepFailedImages:
		c.logger.Info("Keeping the failed copy's image for inspection", "ImageID", c.progress.ImageID, "LostPost", c.lostPost)
		left = c.leftBehind()
		left.Kept = true
	default:
		c.enter(ctx, PhaseCompensating)
		in := activityapi.CleanupInput{Region: c.in.Region, JobID: c.progress.JobID, ImageID: c.progress.ImageID,
			ImageRegion: c.in.TargetRegion}
		if !known {
			req := c.in.CopyRequest()
			in.Lost, in.LostSince = &req, c.submitAt
			c.logger.Info("The submit may have created a copy without telling its job; looking for it to delete it")
		}
		dctx, cancel := workflow.NewDisconnectedContext(ctx)
		defer cancel()
		cerr := workflow.ExecuteActivity(workflow.WithActivityOptions(dctx, cleanupOptions), activityapi.NameCleanupCopy, in).Get(dctx, nil)
		c.jobEnded = cerr == nil
		if cerr != nil {
			left = c.leftBehind()
			left.CleanupError = failures.Reason(cerr)
			c.logger.Error("Could not delete the failed copy's image; delete it by hand", "ImageID", left.ImageID, "Error", cerr)
			c.progress.LastError += "; " + left.Summary()
		}
	}
	c.enter(ctx, PhaseFailed)
	return c.endingError(failedIn, err, left)
}

// leftBehind names what the copy may leave in IMS. An image the clean-up learned from the job
// after the workflow last heard of it is not known here; the job then says which it is.
func (c *copyRun) leftBehind() *failures.LeftBehind {
	return &failures.LeftBehind{ImageID: c.progress.ImageID, Region: c.in.ImageRegion(), Name: c.in.Name,
		JobID: c.progress.JobID, Since: c.submitAt}
}

// mayHavePosted reports whether a SubmitCopy that returned no result may still have created a copy.
// Its own errors say so (SubmitFailure.PostAt). An error without that record (a timeout, a worker
// lost mid-attempt, a cancellation between attempts) proves nothing, so it counts as yes: looking
// for a copy that is not there costs a few list calls, while missing one leaves an orphan image that
// costs quota and money, and CleanupCopy never deletes an active image that may be someone's.
func mayHavePosted(err error) bool {
	f, ok := activityapi.SubmitFailureOf(err)
	return !ok || !f.PostAt.IsZero()
}

// endingError is the error the workflow ends with: a cancellation stays a cancellation; anything
// else becomes a non-retryable application error whose type is the activity's and whose message
// leads with what failed, so that the starter can print one line with IMS's reason in it. What the
// copy left behind is the cancellation's detail, or the failure's cause.
func (c *copyRun) endingError(phase string, err error, left *failures.LeftBehind) error {
	if temporal.IsCanceledError(err) {
		if left != nil {
			return temporal.NewCanceledError(*left)
		}
		return err
	}
	msg := fmt.Sprintf("copy of image %s to %q in %s failed while %s", c.in.SourceImageID, c.in.Name, c.in.ImageRegion(), phase)
	var cause error
	if left != nil {
		cause = failures.LeftBehindError(*left)
	}
	return failures.Wrap(msg, err, cause)
}
