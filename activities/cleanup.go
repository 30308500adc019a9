package activities

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/imscopy/imscopy/activities/pollschedule"
	"github.com/imscopy/imscopy/imsapi"
	"github.com/imscopy/imscopy/imsapi/imsclient"
)

// CleanupCopy deletes the image of a failed or cancelled copy; it is the workflow's compensation.
// It learns the image from the job when ImageID is empty, or finds it by its request after a lost
// POST; it waits while IMS refuses the delete because the job still runs (IMG.0090), and is
// idempotent: an image already gone is success.
func (a *Activities) CleanupCopy(ctx context.Context, in CleanupInput) error {
	r, err := a.region(in.Region)
	if err != nil {
		return err
	}
	ir, err := a.imageRegion(in.Region, in.ImageRegion)
	if err != nil {
		return err
	}
	logger := activity.GetLogger(ctx)
	p := a.pollConfig()
	imageID := in.ImageID
	if imageID == "" && activity.HasHeartbeatDetails(ctx) {
		// A previous attempt already learned the image; asking the job again would only cost a call.
		_ = activity.GetHeartbeatDetails(ctx, &imageID)
	}
	if imageID == "" && in.JobID == "" && in.Lost != nil {
		if imageID, err = a.lookForLostCopy(ctx, r.Name(), ir, in); err != nil || imageID == "" {
			return err
		}
		activity.RecordHeartbeat(ctx, imageID)
	}
	waits := 0
	wait := func() error {
		waits++
		return a.sleep(ctx, pollschedule.FailureWait(p.Config, waits, rand.Float64()), func() any { return imageID })
	}
	for {
		if imageID == "" {
			if in.JobID == "" {
				logger.Info("Nothing to clean up: the copy never got a job or an image")
				return nil
			}
			job, err := r.GetJob(ctx, in.JobID)
			switch {
			case imsapi.ClassOf(err) == imsapi.ClassNotFound:
				logger.Info("Nothing to clean up: IMS does not know the job", "JobID", in.JobID)
				return nil
			case err != nil:
				return fromIMS(err)
			case job.ImageID != "":
				imageID = job.ImageID
				activity.RecordHeartbeat(ctx, imageID)
			case job.Status.Terminal():
				logger.Info("Nothing to clean up: the job ended without creating an image", "JobID", in.JobID, "Status", job.Status)
				return nil
			default:
				// The job has not created its image yet; it will, and then that image must go.
				if err := wait(); err != nil {
					return err
				}
			}
			continue
		}
		err := ir.DeleteImage(ctx, imageID)
		switch imsapi.ClassOf(err) {
		case imsapi.ClassNotFound:
			err = nil
		case imsapi.ClassBusy:
			logger.Info("IMS refuses the delete while the copy job runs; waiting", "ImageID", imageID)
			if err := wait(); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return fromIMS(err)
		}
		logger.Info("Deleted the copy's image", "ImageID", imageID)
		return nil
	}
}

// lostLookupWaits bounds the look-up for a lost POST's copy, in visibility waits since CleanupCopy
// was first scheduled: a cancelled copy must end saying what it could not check, not keep listing
// a dead endpoint for the clean-up's two days. An image it knows of is still waited for.
const lostLookupWaits = 6

// lookForLostCopy finds the copy of in.Lost, looking again after failed reads until the bound.
func (a *Activities) lookForLostCopy(ctx context.Context, sourceRegion string, ir *imsclient.RegionClient, in CleanupInput) (string, error) {
	p := a.pollConfig()
	giveUp := activity.GetInfo(ctx).ScheduledTime.Add(lostLookupWaits * p.VisibilityWait)
	for n := 1; ; n++ {
		look := copyLookup{sourceRegion: sourceRegion, until: time.Now().Add(p.VisibilityWait), killedSince: in.LostSince}
		imageID, err := a.findLostCopy(ctx, ir, *in.Lost, look)
		if err == nil || !retryableApp(err) {
			return imageID, err
		}
		if !time.Now().Before(giveUp) {
			return "", temporal.NewNonRetryableApplicationError(fmt.Sprintf("could not look for an image named %q that the copy's "+
				"lost request may have made: %s", in.Lost.Name, appMessage(err)), ErrLostCopyUnchecked, err)
		}
		if err := a.sleep(ctx, min(pollschedule.FailureWait(p.Config, n, rand.Float64()), time.Until(giveUp)), func() any { return "" }); err != nil {
			return "", err
		}
	}
}

// retryableApp says whether an activity error may be fixed by trying again.
func retryableApp(err error) bool {
	var app *temporal.ApplicationError
	return errors.As(err, &app) && !app.NonRetryable()
}

// appMessage is an activity error's own message.
func appMessage(err error) string {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return app.Message()
	}
	return err.Error()
}

// findLostCopy looks in r, until look.until, for the copy a lost POST may have
// created, by SubmitCopy's adoption rule (findCopy), killed ones made since included. It returns
// "" when there is nothing to delete: no copy appeared, or the one found is active, which may be
// an earlier, finished copy that someone relies on rather than the lost POST's.
func (a *Activities) findLostCopy(ctx context.Context, r *imsclient.RegionClient, req imsapi.CopyRequest, look copyLookup) (string, error) {
	logger := activity.GetLogger(ctx)
	img, found, err := a.lookForCopy(ctx, r, req, look, func() any { return "" })
	switch {
	case err != nil:
		return "", err
	case !found:
		logger.Info("Nothing to clean up: no copy of the request appeared", "Name", req.Name)
		return "", nil
	case img.Status == "active":
		logger.Warn("Leaving an active copy of the request in place: it may be an earlier, finished copy; "+
			"delete it by hand if it is the failed copy's", "ImageID", img.ID, "Name", req.Name)
		return "", nil
	}
	logger.Info("Found the copy a lost POST created", "ImageID", img.ID, "Status", img.Status)
	return img.ID, nil
}
