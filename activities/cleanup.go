package activities

import (
	"context"
	"math/rand/v2"

	"go.temporal.io/sdk/activity"

	"github.com/imscopy/imscopy/imsapi"
)

// CleanupInput names the copy to undo: its image, or the job that will name it.
type CleanupInput struct {
	Region  string
	JobID   string
	ImageID string // "" when the workflow never learned it; CleanupCopy then asks the job
}

// CleanupCopy deletes the image of a failed or cancelled copy; it is the workflow's compensation.
// It learns the image from the job when ImageID is empty, waits while IMS refuses the delete
// because the job still runs (IMG.0090), and is idempotent: an image already gone is success.
func (a *Activities) CleanupCopy(ctx context.Context, in CleanupInput) error {
	r, err := a.region(in.Region)
	if err != nil {
		return err
	}
	logger := activity.GetLogger(ctx)
	p := a.poll()
	imageID := in.ImageID
	if imageID == "" && activity.HasHeartbeatDetails(ctx) {
		// A previous attempt already learned the image; asking the job again would only cost a call.
		_ = activity.GetHeartbeatDetails(ctx, &imageID)
	}
	waits := 0
	wait := func() error {
		waits++
		return a.sleep(ctx, failureWait(p, waits, rand.Float64()), func() any { return imageID })
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
		err := r.DeleteImage(ctx, imageID)
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
