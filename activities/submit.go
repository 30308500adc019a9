package activities

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/imscopy/imscopy/activities/pollschedule"
	"github.com/imscopy/imscopy/imsapi"
	"github.com/imscopy/imscopy/imsapi/imsclient"
)

// adopted is the result of adopting img, found by an attempt of the submit first scheduled at since.
func adopted(img imsapi.Image, since time.Time) SubmitCopyResult {
	from := AdoptedFromEarlierCopy
	if madeSince(img, since) {
		from = AdoptedFromThisCopy
	}
	return SubmitCopyResult{ImageID: img.ID, Adopted: true, AdoptedStatus: img.Status, AdoptedFrom: from, AdoptedCreatedAt: img.CreatedAt}
}

// SubmitCopy starts an in-region copy exactly once in effect. IMS has no idempotency token, so on
// every attempt it first looks for an image this same request already created and adopts it, and
// only then POSTs. After an attempt that may have reached IMS it keeps looking for up to
// PollConfig.VisibilityWait, because a new image can take that long to show in IMS's list. Every
// error it returns carries a SubmitFailure saying whether a copy may exist without a job ID to
// show for it.
func (a *Activities) SubmitCopy(ctx context.Context, in SubmitCopyInput) (SubmitCopyResult, error) {
	info := activity.GetInfo(ctx)
	var prev SubmitHeartbeat
	hasPrev := activity.HasHeartbeatDetails(ctx) && activity.GetHeartbeatDetails(ctx, &prev) == nil
	beat := SubmitHeartbeat{Attempt: info.Attempt, PostAt: lastPost(time.Now(), info.Attempt, prev, hasPrev), Since: info.ScheduledTime}
	if hasPrev && !prev.Since.IsZero() && prev.Since.Before(beat.Since) {
		beat.Since = prev.Since
	}
	// The attempt's first heartbeat, which the SDK sends at once: the record the next attempt gets
	// if this worker dies before the attempt ends.
	activity.RecordHeartbeat(ctx, beat)
	res, err := a.submit(ctx, in, &beat)
	for n := 1; err != nil && beat.PostAt.IsZero() && retryableHere(ctx, err); n++ {
		// No POST can have gone out, so this attempt goes on instead of ending: between Temporal's
		// attempts a cancellation reaches no code and carries no record, and the workflow would
		// have to look for a copy that cannot exist; here it is answered with PostAt zero.
		wait := pollschedule.FailureWait(a.pollConfig().Config, n, rand.Float64())
		var app *temporal.ApplicationError
		if errors.As(err, &app) && app.NextRetryDelay() > 0 {
			wait = app.NextRetryDelay()
		}
		activity.GetLogger(ctx).Warn("Submitting the copy failed before any POST; trying again", "Error", err, "Wait", wait)
		retry := SubmitRetry{Tries: n, LastFailure: err.Error(), NextAt: time.Now().Add(wait)}
		if errors.As(err, &app) {
			retry.LastFailure = app.Message()
		}
		if serr := a.sleep(ctx, wait, func() any { return heartbeatValues{beat, retry} }); serr != nil {
			err = serr
			break
		}
		res, err = a.submit(ctx, in, &beat)
	}
	if err != nil {
		beat.Ended = true
		// The SDK flushes a held-back heartbeat when an attempt fails, so the next attempt gets it.
		activity.RecordHeartbeat(ctx, beat)
		return SubmitCopyResult{}, submitFailed(err, beat.PostAt)
	}
	return res, nil
}

func (a *Activities) submit(ctx context.Context, in SubmitCopyInput, beat *SubmitHeartbeat) (SubmitCopyResult, error) {
	if err := in.Validate(); err != nil {
		return SubmitCopyResult{}, invalidInput(err)
	}
	r, err := a.region(in.Region)
	if err != nil {
		return SubmitCopyResult{}, err
	}
	// t is where the new image is made and looked for: the target region of a cross-region copy.
	t, err := a.imageRegion(in.Region, in.TargetRegion)
	if err != nil {
		return SubmitCopyResult{}, err
	}
	logger := activity.GetLogger(ctx)
	var lookUntil, killedSince time.Time
	if !beat.PostAt.IsZero() {
		// An earlier attempt may have POSTed: its copy may be listed late, or may have failed
		// already, leaving a killed image that is this copy's result and must not be copied again.
		lookUntil, killedSince = beat.PostAt.Add(a.pollConfig().VisibilityWait), beat.Since
	}
	look := copyLookup{sourceRegion: r.Name(), until: lookUntil, killedSince: killedSince}
	img, found, err := a.lookForCopy(ctx, t, in.Request, look, func() any { return *beat })
	switch {
	case err != nil:
		return SubmitCopyResult{}, err
	case found && img.Status == imageKilled:
		logger.Warn("An earlier attempt's copy failed while its answer was lost; not copying again", "ImageID", img.ID)
		return adopted(img, beat.Since), nil
	case found:
		res := adopted(img, beat.Since)
		logger.Info("Adopting an existing copy of the same request", "ImageID", img.ID, "Status", img.Status,
			"CreatedAt", img.CreatedAt, "From", res.AdoptedFrom)
		return res, nil
	}

	earlierPost := beat.PostAt
	beat.PostAt = time.Now()
	// Held back by the SDK's throttle until the attempt ends, so it reaches the next attempt only if
	// this one returns; after a crash the next attempt learns of this POST from Ended being false.
	activity.RecordHeartbeat(ctx, *beat)
	// Once sent, the POST is seen through even if the activity is cancelled meanwhile: its answer
	// is the only record of the job, and the workflow needs the job ID to clean up after a cancel.
	jobID, err := post(context.WithoutCancel(ctx), r, in)
	if err != nil {
		if refused(err) {
			beat.PostAt = earlierPost
		}
		return SubmitCopyResult{}, fromIMS(err)
	}
	logger.Info("Copy submitted", "JobID", jobID)
	return SubmitCopyResult{JobID: jobID}, nil
}

// post sends the copy's one non-idempotent request.
func post(ctx context.Context, r *imsclient.RegionClient, in SubmitCopyInput) (string, error) {
	if in.CrossRegion() {
		return r.CopyCrossRegion(ctx, in.CrossRegionRequest())
	}
	return r.CopyInRegion(ctx, in.Request)
}

// retryHeadroom is the time one more submit may take: a list and a POST, each of at most two
// requests of imsapi.DefaultRequestTimeout. A retry inside the attempt starts only with that much
// of the attempt's time left, so the attempt ends with its own error rather than timing out, which
// would leave the next attempt unsure whether a POST went out.
const retryHeadroom = 90 * time.Second

// retryableHere says whether SubmitCopy retries err inside its attempt: an error a retry can fix,
// with time left for one.
func retryableHere(ctx context.Context, err error) bool {
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || app.NonRetryable() || slices.Contains(NonRetryableErrorTypes, app.Type()) ||
		app.Type() == ErrWorkerStopping {
		return false
	}
	deadline, ok := ctx.Deadline()
	return !ok || time.Until(deadline) > retryHeadroom
}

// lastPost is when an earlier attempt last sent a POST that may have created the copy; zero when
// none did. Only the previous attempt's ended record is complete. When it is missing (its worker
// died before sending any), older (an attempt in between left none) or not ended (its worker died
// or hung, holding back the record of its POST), a POST may have gone out at any moment until now.
func lastPost(now time.Time, attempt int32, prev SubmitHeartbeat, hasPrev bool) time.Time {
	switch {
	case !hasPrev && attempt <= 1:
		return time.Time{}
	case hasPrev && prev.Attempt == attempt-1 && prev.Ended:
		return prev.PostAt
	}
	return now
}

// refused reports whether IMS (or its gateway) answered a POST with a refusal, which creates
// nothing: a 4xx other than 408. A 5xx, a timeout or a lost answer may follow a POST that took
// effect.
func refused(err error) bool {
	var e *imsapi.Error
	return errors.As(err, &e) && e.Status >= 400 && e.Status < 500 && e.Class != imsapi.ClassTransient
}

// copyLookup says how long and for what lookForCopy looks.
type copyLookup struct {
	// sourceRegion is the source image's region, which the copy's lineage names.
	sourceRegion string
	// until is when to stop looking for a copy that is not listed yet; zero looks once.
	until time.Time
	// killedSince, when set, also matches a killed image made at or after it: the failed result
	// of a POST this copy may have sent since then. Zero matches no killed image.
	killedSince time.Time
}

// IMS's statuses of an image that a copy's job will never finish (docs/ims-api.md section 5.3).
const (
	imageKilled  = "killed"
	imageDeleted = "deleted"
)

// lookForCopy runs findCopy until it finds the copy or until look.until passes, looking every
// PollConfig.Min and heartbeating details. A failed read is tolerated while time is left if a
// retry can fix it: one bad answer must not cut short a wait that a possible POST made necessary.
func (a *Activities) lookForCopy(ctx context.Context, r *imsclient.RegionClient, req imsapi.CopyRequest,
	look copyLookup, details func() any) (imsapi.Image, bool, error) {
	logger := activity.GetLogger(ctx)
	for {
		img, found, err := findCopy(ctx, r, req, look)
		wait := time.Until(look.until)
		switch {
		case found:
			return img, true, nil
		case err != nil && (wait <= 0 || !imsapi.ClassOf(err).Retryable()):
			return imsapi.Image{}, false, fromIMS(err)
		case err != nil:
			logger.Warn("Looking for the copy failed; looking again", "Error", err, "Wait", wait)
		case wait <= 0:
			return imsapi.Image{}, false, nil
		default:
			logger.Info("No copy visible yet; a POST may have created one, looking again", "Wait", wait)
		}
		if err := a.sleep(ctx, min(wait, a.pollConfig().Min), details); err != nil {
			return imsapi.Image{}, false, err
		}
	}
}

// findCopy looks in r for an image that this same request created: exact name, owned by r's
// project, descended from the source (in look.sourceRegion), encrypted with the requested KMS key
// (or none, as asked), and not deleted. A killed image matches only when it was made at or after
// look.killedSince, and only when no live image does. When several match (a person copied by
// hand too), the oldest is taken so that every attempt picks the same one.
func findCopy(ctx context.Context, r *imsclient.RegionClient, req imsapi.CopyRequest, look copyLookup) (imsapi.Image, bool, error) {
	images, err := r.ListImages(ctx, imsapi.ListFilter{Name: req.Name, Owner: r.ProjectID()})
	if err != nil {
		return imsapi.Image{}, false, err
	}
	var live, killed []imsapi.Image
	for _, img := range images {
		if img.Name != req.Name || !isCopyOf(img, look.sourceRegion, req.SourceImageID) || img.CMKID != req.CMKID {
			continue
		}
		switch img.Status {
		case imageDeleted:
		case imageKilled:
			if madeSince(img, look.killedSince) {
				killed = append(killed, img)
			}
		default:
			live = append(live, img)
		}
	}
	if len(live) == 0 {
		live = killed
	}
	if len(live) == 0 {
		return imsapi.Image{}, false, nil
	}
	return slices.MinFunc(live, func(x, y imsapi.Image) int {
		if c := strings.Compare(x.CreatedAt, y.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(x.ID, y.ID)
	}), true, nil
}

// madeSince reports whether img was created at or after since. IMS gives created_at to the
// second, so since is cut to the second too; an unreadable created_at proves nothing and does
// not match.
func madeSince(img imsapi.Image, since time.Time) bool {
	if since.IsZero() {
		return false
	}
	created, ok := imsapi.ParseJobTime(img.CreatedAt)
	return ok && !created.Before(since.Truncate(time.Second))
}

// isCopyOf reports whether img descends from source; docs/ims-api.md section 5.3 records the lineage fields.
func isCopyOf(img imsapi.Image, region, source string) bool {
	return img.OriginalImageName == source || img.DataOrigin == "image,"+region+","+source
}
