package activities

import (
	"context"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/imscopy/imscopy/imsapi"
)

// SubmitCopyInput is one in-region copy request, sent to Region ("" = the worker's home region).
type SubmitCopyInput struct {
	Region  string
	Request imsapi.CopyRequest
}

// SubmitCopyResult is either a new job (JobID set, ImageID learned later from the job) or an
// image an earlier attempt or run already created (Adopted, ImageID set, JobID empty).
type SubmitCopyResult struct {
	JobID   string
	ImageID string
	Adopted bool
	// AdoptedStatus is the adopted image's status when it was found. An image that was already
	// active may be the result of an earlier, finished copy, so the workflow must not delete it.
	AdoptedStatus string
}

// SubmitHeartbeat is SubmitCopy's heartbeat detail: when an attempt was about to POST. The next
// attempt reads it to know how long a copy it may have started could still be invisible.
type SubmitHeartbeat struct {
	Attempt int32
	PostAt  time.Time
}

// SubmitCopy starts an in-region copy exactly once in effect. IMS has no idempotency token, so on
// every attempt it first looks for an image this same request already created and adopts it, and
// only then POSTs. After an attempt that may have reached IMS it keeps looking for up to
// PollConfig.VisibilityWait, because a new image can take that long to show in IMS's list.
func (a *Activities) SubmitCopy(ctx context.Context, in SubmitCopyInput) (SubmitCopyResult, error) {
	if err := in.Request.Validate(); err != nil {
		return SubmitCopyResult{}, invalidInput(err)
	}
	r, err := a.region(in.Region)
	if err != nil {
		return SubmitCopyResult{}, err
	}
	logger := activity.GetLogger(ctx)
	info := activity.GetInfo(ctx)
	var prev SubmitHeartbeat
	hasPrev := activity.HasHeartbeatDetails(ctx) && activity.GetHeartbeatDetails(ctx, &prev) == nil
	lookUntil := visibilityDeadline(time.Now(), info.Attempt, prev, hasPrev, a.poll().VisibilityWait)
	// The POST time is carried from attempt to attempt, and recorded before anything can fail: a
	// failed attempt's last heartbeat reaches the next one, which then knows whether any attempt
	// POSTed, instead of waiting out the visibility delay after failures that never copied.
	beat := SubmitHeartbeat{Attempt: info.Attempt}
	if hasPrev {
		beat.PostAt = prev.PostAt
	}
	activity.RecordHeartbeat(ctx, beat)

	for {
		img, found, err := findCopy(ctx, r, in.Request)
		wait := time.Until(lookUntil)
		switch {
		case err != nil && (wait <= 0 || !imsapi.ClassOf(err).Retryable()):
			return SubmitCopyResult{}, fromIMS(err)
		case err != nil:
			// One failed read while waiting for visibility is not a reason to start the wait over.
			logger.Warn("Looking for an earlier attempt's copy failed; looking again", "Error", err)
		case found:
			logger.Info("Adopting the image an earlier attempt created", "ImageID", img.ID, "Status", img.Status)
			return SubmitCopyResult{ImageID: img.ID, Adopted: true, AdoptedStatus: img.Status}, nil
		case wait <= 0:
		default:
			logger.Info("No copy visible yet; an earlier attempt may have created one, looking again", "Wait", wait)
		}
		if err == nil && wait <= 0 {
			break
		}
		if err := a.sleep(ctx, min(wait, a.poll().Min), func() any { return beat }); err != nil {
			return SubmitCopyResult{}, err
		}
	}

	beat.PostAt = time.Now()
	// Flushed before the POST: if this worker dies after IMS accepts the copy, the next attempt
	// learns that a copy may exist and looks for it before copying again.
	activity.RecordHeartbeat(ctx, beat)
	// Once sent, the POST is seen through even if the activity is cancelled meanwhile: its answer
	// is the only record of the job, and the workflow needs the job ID to clean up after a cancel.
	jobID, err := r.CopyInRegion(context.WithoutCancel(ctx), in.Request)
	if err != nil {
		return SubmitCopyResult{}, fromIMS(err)
	}
	logger.Info("Copy submitted", "JobID", jobID)
	return SubmitCopyResult{JobID: jobID}, nil
}

// visibilityDeadline is until when SubmitCopy keeps looking for an earlier attempt's copy before
// it POSTs. A first attempt has nothing to wait for. When the previous attempt's record arrived,
// it says whether any attempt POSTed and when, and the wait runs from then (or is none). Without
// that record (its worker died with it), any earlier attempt may just have POSTed, so the wait
// runs from now.
func visibilityDeadline(now time.Time, attempt int32, prev SubmitHeartbeat, hasPrev bool, wait time.Duration) time.Time {
	switch {
	case attempt <= 1 && !(hasPrev && !prev.PostAt.IsZero()):
		return time.Time{}
	case hasPrev && (attempt <= 1 || prev.Attempt == attempt-1):
		if prev.PostAt.IsZero() {
			return time.Time{}
		}
		return prev.PostAt.Add(wait)
	}
	return now.Add(wait)
}

// findCopy looks for an image that this same request created: exact name, owned by the region's
// project, descended from the source, and not killed or deleted. When several match (a person
// copied by hand too), the oldest is taken so that every attempt picks the same one.
func findCopy(ctx context.Context, r *imsapi.RegionClient, req imsapi.CopyRequest) (imsapi.Image, bool, error) {
	images, err := r.ListImages(ctx, imsapi.ListFilter{Name: req.Name, Owner: r.ProjectID()})
	if err != nil {
		return imsapi.Image{}, false, err
	}
	var matches []imsapi.Image
	for _, img := range images {
		if img.Name == req.Name && isCopyOf(img, r.Name(), req.SourceImageID) && img.Status != "killed" && img.Status != "deleted" {
			matches = append(matches, img)
		}
	}
	if len(matches) == 0 {
		return imsapi.Image{}, false, nil
	}
	slices.SortFunc(matches, func(x, y imsapi.Image) int {
		if c := strings.Compare(x.CreatedAt, y.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(x.ID, y.ID)
	})
	return matches[0], true, nil
}

// isCopyOf reports whether img descends from source; ims-api.md §13 records the lineage fields.
func isCopyOf(img imsapi.Image, region, source string) bool {
	return img.OriginalImageName == source || img.DataOrigin == "image,"+region+","+source
}
