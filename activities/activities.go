// Package activities is the only place that talks to IMS: it submits, waits for, verifies and
// cleans up image copies, and turns every IMS answer into a Temporal error with a stable type.
package activities

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/imscopy/imscopy/imsapi"
)

// Activities holds what every activity needs. One value serves every workflow on the worker,
// so it holds no per-copy state: that lives in activity inputs and heartbeat details.
type Activities struct {
	IMS  *imsapi.Client
	Poll PollConfig
	// Calibration, when set, is what PollJob learns from the copies it watches to their end, and
	// how its later waits use it (calibration.go). Nil: PollJob waits by its rule alone.
	Calibration *Calibration
	// Temporal is the worker's client, for the activities that talk to Temporal itself: the
	// cross-region permits (permits.go).
	Temporal client.Client
	// CrossRegionCopies is how many cross-region copies the tenant may run at once
	// (CROSS_REGION_COPIES); 0 means IMS's own limit, 5.
	CrossRegionCopies int
}

// PollConfig tunes how often the activities ask IMS about a job or an image.
type PollConfig struct {
	// Initial is the first wait, and the start of the doubling back-off used while a job's rate
	// of progress is still unknown, which stops at six times Initial. Default 10 s, Terraform's
	// first wait too: no IMS copy ends sooner, and one that IMS refuses (KMS key disabled, quota)
	// is refused by the POST itself, which SubmitCopy reports at once.
	Initial time.Duration
	// Min is the shortest wait, and the start of the back-off after a failed read. Default 1 s,
	// far below the 200 calls/s the API gateway allows per API.
	Min time.Duration
	// Max is the longest wait. Default 5 min: a long copy is asked about every few minutes while
	// its end is far. PollJob also never plans further ahead than the time it has watched
	// the job progress (planHorizon), and waits at most a minute while nothing foretells the end
	// (a job queued in INIT before the calibration has learned queues, an adopted image) or after
	// a failed read (blindWaitMax).
	Max time.Duration
	// Lag is how soon after the job's end PollJob aims to notice it: each wait of a running job is
	// Lag plus a share of the predicted remaining time (fixed, or learned by the Calibration), so
	// near the end PollJob calls every Lag. Default 8 s: a copy that took minutes is not made
	// slower by a few seconds, and calling every second near an end that IMS's coarse, slowing
	// percent cannot place precisely would cost more calls than it saves seconds. Terraform's
	// provider notices within 10 s.
	Lag time.Duration
	// Jitter spreads each wait that rests on no progress (the first, those while queued, after
	// failed reads) by up to this fraction either way, so that copies started together do not
	// poll IMS in lockstep. A wait predicted from a running job's progress is not jittered: it
	// already differs from copy to copy, and jitter would only move it off its aim. Default 0.1.
	Jitter float64
	// HeartbeatEvery is how often a waiting activity records a heartbeat. Default 10 s: with a
	// GetJob of two hung requests (2 × imsapi.DefaultRequestTimeout) between two records, the
	// longest silence stays inside the workflows' one-minute heartbeat timeouts. The SDK sends
	// records to the server at most every 0.8 × the heartbeat timeout (it holds the others back)
	// unless the worker sets worker.Options.MaxHeartbeatThrottleInterval lower; the worker sets it
	// to HeartbeatEvery (WORKER_HEARTBEAT_THROTTLE_MAX, 10 s), because a cancellation reaches an
	// activity only in the answer to a sent heartbeat.
	HeartbeatEvery time.Duration
	// VisibilityWait is how long SubmitCopy keeps looking for an image that an earlier attempt may
	// have created before it POSTs again. Default 20 s: a new image appears in IMS's list at job
	// creation, but the list is eventually consistent; POSTing too early makes a second copy.
	VisibilityWait time.Duration
}

// DefaultPollConfig returns the defaults explained on each PollConfig field.
func DefaultPollConfig() PollConfig {
	return PollConfig{
		Initial:        10 * time.Second,
		Min:            time.Second,
		Max:            5 * time.Minute,
		Lag:            8 * time.Second,
		Jitter:         0.1,
		HeartbeatEvery: 10 * time.Second,
		VisibilityWait: 20 * time.Second,
	}
}

// poll returns the configuration with every unset duration defaulted, so a zero Activities.Poll
// (a test, a worker that sets only some knobs) still polls sanely. Jitter 0 is a valid choice.
func (a *Activities) poll() PollConfig {
	p, d := a.Poll, DefaultPollConfig()
	if p == (PollConfig{}) {
		return d
	}
	for _, f := range []struct{ v, def *time.Duration }{
		{&p.Initial, &d.Initial}, {&p.Min, &d.Min}, {&p.Max, &d.Max}, {&p.Lag, &d.Lag},
		{&p.HeartbeatEvery, &d.HeartbeatEvery}, {&p.VisibilityWait, &d.VisibilityWait},
	} {
		if *f.v <= 0 {
			*f.v = *f.def
		}
	}
	if p.Max < p.Min {
		p.Max = p.Min
	}
	if p.Jitter < 0 || p.Jitter >= 1 {
		p.Jitter = d.Jitter
	}
	return p
}

// region returns the client for a region; "" means the worker's home region.
func (a *Activities) region(name string) (*imsapi.RegionClient, error) {
	if name == "" {
		return a.IMS.Home(), nil
	}
	r, err := a.IMS.Region(name)
	if err != nil {
		return nil, invalidInput(err)
	}
	return r, nil
}

// imageRegion returns the client for the region where a copy's image is: target, or the job's
// region when target is "".
func (a *Activities) imageRegion(jobRegion, target string) (*imsapi.RegionClient, error) {
	if target == "" {
		return a.region(jobRegion)
	}
	return a.region(target)
}

// heartbeatValues are heartbeat details of several values, recorded as they are: the first is the
// record an attempt leaves the next (which reads only it), the others are for people.
type heartbeatValues []any

// record records details as one heartbeat, a heartbeatValues as its values.
func record(ctx context.Context, details any) {
	if v, ok := details.(heartbeatValues); ok {
		activity.RecordHeartbeat(ctx, v...)
		return
	}
	activity.RecordHeartbeat(ctx, details)
}

// sleep waits for d, heartbeating details() at least every HeartbeatEvery so that the server
// sees the worker alive and can deliver a cancellation; it returns ctx.Err() once cancelled.
// When the worker is stopping it gives the task back at once with a retryable error: the next
// attempt resumes from the heartbeat details, so a graceful stop (a deploy) need not wait out
// WORKER_STOP_TIMEOUT for a copy that may run for hours.
func (a *Activities) sleep(ctx context.Context, d time.Duration, details func() any) error {
	every := a.poll().HeartbeatEvery
	deadline := time.Now().Add(d)
	stopping := activity.GetWorkerStopChannel(ctx)
	for {
		record(ctx, details())
		left := time.Until(deadline)
		if left <= 0 {
			return nil
		}
		step := min(left, every)
		t := time.NewTimer(step)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-stopping:
			t.Stop()
			record(ctx, details())
			return temporal.NewApplicationError("the worker is stopping; another attempt resumes from the last heartbeat", ErrWorkerStopping)
		case <-t.C:
		}
	}
}
