package activities

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"

	"github.com/imscopy/imscopy/activities/pollschedule"
	"github.com/imscopy/imscopy/imsapi"
	"github.com/imscopy/imscopy/imsapi/imsclient"
)

// statusRead is one answer about the copy, from the job or from the image.
type statusRead struct {
	status, imageID, beginTime, endTime string
	percent                             float64
	done                                bool
	failure                             *CopyFailure
	failedPairs                         []imsapi.MemberResult // a member job's pairs that failed
}

// PollJob waits for the copy to finish, heartbeating. It polls at intervals predicted from the
// job's progress, checkpoints its schedule in heartbeat details so that a retry after a worker
// crash carries on instead of starting over, and retries failed reads inside its loop so that one
// bad answer never fails a copy: even an answer no retry should fix (a 401, a 404, a 400, a body
// that does not decode) fails it only after maxRefusedReads of them since the last good read. A
// job that ends in FAIL is a non-retryable CopyFailed error.
//
// A PollJob that ends before the job succeeded says how far the job got: the CopyFailure carries
// the percent of IMS's failing answer, and a cancellation carries PollJob's last heartbeat as its
// detail. The server drops an activity's heartbeat when it ends, so this is all the workflow, and
// every reader of the copy's progress after its end, learns of it. It is PollJob's own doing so
// that no worker can leave it out.
func (a *Activities) PollJob(ctx context.Context, in PollJobInput) (PollJobResult, error) {
	r, ir, err := a.pollRegions(in)
	if err != nil {
		return PollJobResult{}, err
	}
	p := a.pollConfig()
	logger := activity.GetLogger(ctx)
	s := resumeWait(ctx, p, in.ImageID)
	// The forecasts this attempt made, for the calibration to learn from at the job's end. An
	// attempt that resumes after a crash starts a new list: losing a few is harmless.
	var forecasts []pollschedule.Forecast
	var runningAt time.Time // the latest read that found the job not yet done

	for {
		if err := a.sleep(ctx, time.Until(s.NextPollAt), func() any { return s }); err != nil {
			return PollJobResult{}, pollStopped(err, s)
		}
		read, err := a.readStatus(ctx, r, ir, in)
		if err != nil && ctx.Err() != nil {
			// s is still the last heartbeat: the read that was cut short changed nothing.
			return PollJobResult{}, pollStopped(ctx.Err(), s)
		}
		s.Polls++
		now := time.Now()
		if err != nil {
			if err := readFailed(&s, p, err, now, logger); err != nil {
				return PollJobResult{}, err
			}
			continue
		}
		known := s.Percent // how far the job had got before this read
		s.Observe(read.status, read.percent, read.imageID, now)
		switch {
		case read.failure != nil && in.MemberJob:
			return PollJobResult{}, shareFailed(in.JobID, read.failure, read.failedPairs)
		case read.failure != nil:
			f := *read.failure
			if f.Percent == 0 {
				// The answer gave no percent (a killed image has none, and an absent
				// process_percent reads as 0): a job does not go back, so the last one known stands.
				f.Percent = known
			}
			return PollJobResult{}, copyFailed(f)
		case read.done && in.MemberJob:
			logger.Info("Member job finished", "JobID", in.JobID, "Polls", s.Polls)
			return PollJobResult{Status: read.status, BeginTime: read.beginTime, EndTime: read.endTime, Polls: s.Polls}, nil
		case read.done && s.ImageID == "":
			return PollJobResult{}, temporal.NewApplicationErrorWithOptions(
				fmt.Sprintf("IMS reports job %s succeeded but names no image; report it to Huawei Cloud support", in.JobID),
				ErrIMSUnknown, temporal.ApplicationErrorOptions{NonRetryable: true})
		case read.done:
			logger.Info("Copy finished", "ImageID", s.ImageID, "Polls", s.Polls)
			if end, ok := jobEnd(read.endTime, runningAt, now); ok {
				a.Calibration.Learn(forecasts, end)
			}
			return PollJobResult{ImageID: s.ImageID, Status: read.status, BeginTime: read.beginTime, EndTime: read.endTime, Polls: s.Polls}, nil
		}
		wait, f, ok := s.NextWait(p.Config, a.Calibration, rand.Float64())
		if ok {
			forecasts = append(forecasts, f)
		}
		runningAt, s.NextPollAt = now, now.Add(wait)
	}
}

// pollRegions checks that in names something to wait for and returns the clients of the job's
// region and of the region the image is made in.
func (a *Activities) pollRegions(in PollJobInput) (job, image *imsclient.RegionClient, err error) {
	if in.JobID == "" && in.ImageID == "" {
		return nil, nil, invalidInput(errors.New("nothing to wait for: neither a job ID nor an image ID was given"))
	}
	if in.JobID != "" {
		if err := imsapi.ValidateJobID(in.JobID); err != nil {
			return nil, nil, invalidInput(err)
		}
	}
	if job, err = a.region(in.Region); err != nil {
		return nil, nil, err
	}
	if image, err = a.imageRegion(in.Region, in.ImageRegion); err != nil {
		return nil, nil, err
	}
	return job, image, nil
}

// resumeWait is the wait PollJob goes on with: the one an earlier attempt recorded in its last
// heartbeat, so that a new worker neither polls at once nor forgets the job's rate; or, when
// there is none or it cannot be read, a fresh one starting now.
func resumeWait(ctx context.Context, p PollConfig, imageID string) PollHeartbeat {
	logger := activity.GetLogger(ctx)
	var s PollHeartbeat
	if activity.HasHeartbeatDetails(ctx) {
		if err := activity.GetHeartbeatDetails(ctx, &s); err != nil {
			logger.Warn("Ignoring unreadable heartbeat details; polling from the start", "Error", err)
			s = PollHeartbeat{}
		} else {
			logger.Info("Resuming the wait", "Polls", s.Polls, "Status", s.Status, "NextPollAt", s.NextPollAt)
		}
	}
	if s.NextPollAt.IsZero() {
		s.Start(p.Config, time.Now(), rand.Float64())
	}
	if s.ImageID == "" {
		s.ImageID = imageID
	}
	return s
}

// readFailed records a failed read in s and plans the next one after the failure back-off (or
// IMS's Retry-After, if longer). It returns the error PollJob ends with once maxRefusedReads
// reads in a row were refused in a way no retry fixes; nil to read again.
func readFailed(s *PollHeartbeat, p PollConfig, err error, now time.Time, logger log.Logger) error {
	s.Failures++
	if !imsapi.ClassOf(err).Retryable() {
		s.Refused++
		if s.Refused >= maxRefusedReads {
			return fromIMS(err)
		}
	}
	wait := pollschedule.FailureWait(p.Config, s.Failures, rand.Float64())
	var ierr *imsapi.Error
	if errors.As(err, &ierr) && ierr.RetryAfter > wait {
		wait = ierr.RetryAfter
	}
	s.NextPollAt = now.Add(wait)
	logger.Warn("Reading the copy's status failed; trying again", "Error", err, "Failures", s.Failures, "Wait", wait)
	return nil
}

// pollStopped is err, why PollJob stopped before the job ended, as PollJob returns it. A
// cancellation (context.Canceled) becomes a CanceledError whose detail is beat, PollJob's last
// heartbeat: Temporal records that detail with the cancellation for the workflow. Any other
// error is returned as it is: a deadline's timeout already carries the last heartbeat that
// reached the server, and a stopping worker's task is retried from it.
func pollStopped(err error, beat PollHeartbeat) error {
	if errors.Is(err, context.Canceled) {
		return temporal.NewCanceledError(beat)
	}
	return err
}

// jobEnd is when the job ended, by this worker's clock: IMS's end_time, kept between the last
// call that found the job running and the one that found it done, so that a skew between the
// two clocks cannot teach the calibration more than the calls themselves show. False when IMS
// gave no readable end time or no earlier call bounds it.
func jobEnd(endTime string, runningAt, doneAt time.Time) (time.Time, bool) {
	end, ok := imsapi.ParseJobTime(endTime)
	if !ok || runningAt.IsZero() {
		return time.Time{}, false
	}
	if end.Before(runningAt) {
		end = runningAt
	}
	if end.After(doneAt) {
		end = doneAt
	}
	return end, true
}

// maxRefusedReads is how many reads since the last good one may fail with an error no retry
// should fix before PollJob gives up. One such answer about a job that is copying is more likely odd (a 401 while
// the clock resyncs, a 404 while the new job propagates) than final, and failing the copy would
// delete an image IMS may be finishing. Five, with the failure back-off (Min doubling), span about
// 15 s at the defaults: enough to ride out a blip, short enough that a real refusal (revoked
// credentials) reaches a person quickly.
const maxRefusedReads = 5

// readStatus asks IMS once about the copy: the job (in r) when known, otherwise the adopted image
// (in ir).
func (a *Activities) readStatus(ctx context.Context, r, ir *imsclient.RegionClient, in PollJobInput) (statusRead, error) {
	if in.JobID == "" {
		img, err := ir.GetImage(ctx, in.ImageID)
		if err != nil {
			return statusRead{}, err
		}
		read := statusRead{status: img.Status, imageID: img.ID}
		switch img.Status {
		case "active":
			read.done, read.percent = true, 1
		case imageKilled:
			read.failure = &CopyFailure{ImageID: img.ID, ReasonLost: true}
		case imageDeleted:
			read.failure = &CopyFailure{ImageID: img.ID, ErrorCode: "image deleted",
				FailReason: "the image was deleted while it was being copied"}
		}
		return read, nil
	}
	job, err := r.GetJob(ctx, in.JobID)
	if err != nil {
		return statusRead{}, err
	}
	read := statusRead{status: string(job.Status), imageID: job.ImageID, beginTime: job.BeginTime, endTime: job.EndTime, percent: job.Percent}
	switch job.Status {
	case imsapi.JobSuccess:
		read.done, read.percent = true, 1
	case imsapi.JobFail:
		read.failure = &CopyFailure{JobID: in.JobID, ImageID: job.ImageID, ErrorCode: job.ErrorCode, FailReason: job.FailReason,
			Percent: job.Percent}
	}
	for _, pair := range job.MemberResults {
		if pair.Status != "success" {
			read.failedPairs = append(read.failedPairs, pair)
		}
	}
	if in.MemberJob && read.done && len(read.failedPairs) > 0 {
		// IMS ends a member job in SUCCESS when only some of its pairs failed (docs/ims-api.md section 6).
		read.done, read.failure = false, &CopyFailure{JobID: in.JobID}
	}
	return read, nil
}
