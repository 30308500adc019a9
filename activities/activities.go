// Package activities is the only place that talks to IMS: it submits, waits for, verifies and
// cleans up image copies, and turns every IMS answer into a Temporal error with a stable type.
package activities

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/imscopy/imscopy/activities/pollschedule"
	"github.com/imscopy/imscopy/imsapi/imsclient"
)

// Activities holds what every activity needs. One value serves every workflow on the worker,
// so it holds no per-copy state: that lives in activity inputs and heartbeat details.
type Activities struct {
	IMS  *imsclient.Client
	Poll PollConfig
	// Calibration, when set, is what PollJob learns from the copies it watches to their end, and
	// how its later waits use it (pollschedule). Nil: PollJob waits by its rule alone.
	Calibration *Calibration
	// Temporal is the worker's client, for the activities that talk to Temporal itself: the
	// cross-region permits (permits.go).
	Temporal client.Client
	// CrossRegionCopies is how many cross-region copies the tenant may run at once
	// (CROSS_REGION_COPIES); 0 means IMS's own limit, 5.
	CrossRegionCopies int
}

// Calibration is what a worker's PollJobs learn from the copies they watch to their end.
type Calibration = pollschedule.Calibration

// NewCalibration returns an empty calibration: PollJob waits by its rule until it learns.
func NewCalibration() *Calibration { return pollschedule.NewCalibration() }

// pollConfig is Activities.Poll with every unset duration defaulted, so a zero Activities.Poll
// (a test, a worker that sets only some knobs) still polls sanely. Jitter 0 is a valid choice.
func (a *Activities) pollConfig() PollConfig {
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
func (a *Activities) region(name string) (*imsclient.RegionClient, error) {
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
func (a *Activities) imageRegion(jobRegion, target string) (*imsclient.RegionClient, error) {
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
	every := a.pollConfig().HeartbeatEvery
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
