package pollschedule

import (
	"encoding/json"
	"math"
	"time"

	"github.com/imscopy/imscopy/internal/strictjson"
)

// Heartbeat is PollJob's heartbeat detail: everything it needs to carry on where a dead
// worker stopped, without polling at once and without forgetting the job's rate of progress.
// Clients read the job's live percent from it (DescribeWorkflowExecution's pending activity), so
// its JSON keys are a contract (docs/api.md): snake_case, times in RFC 3339, the wait in seconds.
// It reads the legacy form too (the Go names, the wait in nanoseconds), which a worker of the
// version before wrote: an attempt resumed from such a heartbeat keeps its schedule.
type Heartbeat struct {
	Status     string    `json:"status"`  // last status seen: the job's (INIT, RUNNING, ...) or the adopted image's
	Percent    float64   `json:"percent"` // 0..1, IMS's process_percent
	ImageID    string    `json:"image_id"`
	Polls      int       `json:"polls"`        // status calls made so far, failed ones included
	NextPollAt time.Time `json:"next_poll_at"` // when the next call is due; a resumed attempt sleeps until then
	// The last moment the job was known at 0 % (the wait's start or its last INIT answer), the
	// latest answer, and the latest one whose percent was below the latest's: the rates between
	// them predict the end.
	FirstAt      time.Time `json:"first_at"`
	FirstPercent float64   `json:"first_percent"`
	LastAt       time.Time `json:"last_at"`
	PrevAt       time.Time `json:"prev_at"`
	PrevPercent  float64   `json:"prev_percent"`
	// WaitingSince is when the wait began: how long a job has been queued is measured from it.
	// Zero in a heartbeat written by an older worker.
	WaitingSince time.Time `json:"waiting_since"`
	// Wait is the last wait chosen before jitter; it doubles while the rate is unknown. Its JSON is
	// wait_seconds (see MarshalJSON).
	Wait time.Duration `json:"-"`
	// Failures counts consecutive failed reads, for their back-off.
	Failures int `json:"failures"`
	// Refused counts the failed reads since the last good one whose error no retry should fix
	// (not found, auth, invalid, unknown); PollJob gives up at maxRefusedReads.
	Refused int `json:"refused"`
}

// heartbeatFields is Heartbeat without its JSON methods.
type heartbeatFields Heartbeat

// MarshalJSON writes the documented keys, the wait in seconds.
func (s Heartbeat) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		heartbeatFields
		WaitSeconds float64 `json:"wait_seconds"`
	}{heartbeatFields(s), s.Wait.Seconds()})
}

// UnmarshalJSON reads the documented keys and the legacy form. Unknown keys are ignored: a
// heartbeat is the worker's own record, read back by a worker that may be older or newer.
func (s *Heartbeat) UnmarshalJSON(data []byte) error {
	v := struct {
		*heartbeatFields
		WaitSeconds *float64 `json:"wait_seconds"`
		Wait        *int64   `json:"Wait"` // legacy: nanoseconds
	}{heartbeatFields: (*heartbeatFields)(s)}
	data, err := strictjson.GoNames(data, v.heartbeatFields)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	switch {
	case v.WaitSeconds != nil:
		s.Wait = time.Duration(math.Round(*v.WaitSeconds * float64(time.Second)))
	case v.Wait != nil:
		s.Wait = time.Duration(*v.Wait)
	}
	return nil
}

// The schedule's constants. Why these, measured against the emulator's realistic progress model
// (queue wait at 0 %, stretches of changing rate, stalls, a slow tail): see TestScheduleOnRealisticProgress.
const (
	// predictFraction of the predicted remaining time is slept, on top of Config.Lag. Much less
	// than all of it, because IMS's rate changes from stretch to stretch: a job that speeds up
	// must not end long before the next call. It is what a worker uses until its calibration
	// has learned better. It must keep the rule alone within Terraform's p95 and p99 lag on the
	// realistic model (TestScheduleOnRealisticProgress); docs/benchmarks.md has the figures of
	// this share and of its neighbours.
	predictFraction = 0.4
	// tailFrom is the percent from which the end is predicted from the latest rate instead of the
	// average since the job was last at 0 %. Copies slow down near 100 %, and the average rate of
	// the fast middle would predict an end that keeps not coming, one call every Lag; this close
	// to the end the rate has little room left to change.
	tailFrom = 0.9
	// percentStep is the precision of IMS's process_percent (two decimals, 0.40), which IMS floors:
	// up to one step more than it says may be done, so the earliest end it allows is one step
	// nearer than its figure. Without this, near 99 % a prediction would aim up to a whole step's
	// time past an end that may be at hand.
	percentStep = 0.01
	// planHorizon bounds how far ahead a prediction is trusted: no wait longer than the job has
	// been watched since it was last at 0 %. A rate seen over a few percent says little about the
	// next hour: a job that stalled, then sped up, would end early in a long wait, and how far the
	// wait reached past that end is how late the copy notices it. The bound caps that lateness at
	// the job's own age, so a copy is never noticed more than twice as late as it has run.
	planHorizon = 1.0
	// tailHorizon is planHorizon from tailFrom on: no tail wait longer than a fifth of the time
	// watched. The tail's rate is read over the last step or two, so a slow step predicts a long
	// wait for an end that may be a second away.
	tailHorizon = 0.2
)

// start begins a fresh wait at now. SubmitCopy created the job a moment ago, so it was at 0 %
// now: the first RUNNING answer already tells its rate.
func (s *Heartbeat) Start(p Config, now time.Time, u float64) {
	s.FirstAt, s.FirstPercent, s.WaitingSince = now, 0, now
	s.NextPollAt = now.Add(jitter(p.Initial, p.Jitter, u))
}

// observe records one successful read.
func (s *Heartbeat) Observe(status string, percent float64, imageID string, at time.Time) {
	if status == "RUNNING" && s.Status == "RUNNING" && percent > s.Percent {
		s.PrevAt, s.PrevPercent = s.LastAt, s.Percent
	}
	s.Status, s.Percent, s.LastAt, s.Failures, s.Refused = status, percent, at, 0, 0
	if imageID != "" {
		s.ImageID = imageID
	}
	switch {
	case status == "INIT":
		// Nothing is copied yet: the average rate is measured from the last moment at 0 %.
		s.FirstAt, s.FirstPercent = at, 0
	case status == "RUNNING" && s.FirstAt.IsZero():
		// Only a heartbeat written by an older worker, whose wait kept no start, gets here.
		s.FirstAt, s.FirstPercent = at, percent
	}
}

// remaining predicts the time left until the earliest end the answers allow; false when there is
// no progress to predict from yet. Below tailFrom the rate is the average since the job was last
// known at 0 %, which rides out stalls and bursts; from tailFrom on it is the latest rate.
func (s *Heartbeat) remaining() (time.Duration, bool) {
	from, fromPercent := s.FirstAt, s.FirstPercent
	tail := s.Percent >= tailFrom && !s.PrevAt.IsZero()
	if tail {
		from, fromPercent = s.PrevAt, s.PrevPercent
	}
	if from.IsZero() || !s.LastAt.After(from) || s.Percent <= fromPercent {
		return 0, false
	}
	// The floored figures may hide up to one more step done: take the fastest rate the answers
	// allow, or a job seen at 1 % after ten seconds would be predicted to need a quarter of an
	// hour when it may need one minute. In the tail too, where a rate is read over a step or two:
	// read as floored, a tick from 0.92 to 0.93 can look twice as slow as it was, and the few
	// jobs so misread forced the calibration's low quantile, which every tail wait aims at, down
	// to nearly nothing.
	gain := s.Percent - fromPercent + percentStep
	rate := gain / s.LastAt.Sub(from).Seconds()
	// A day bounds the figure so that a tiny rate cannot overflow a Duration; any wait is far shorter.
	left := math.Min(math.Max(0, 1-s.Percent-percentStep)/rate, 24*3600)
	return time.Duration(left * float64(time.Second)), true
}

// forecast is the prediction the next wait rests on, if there is one: for a running job the
// predicted time left, for a queued one the time it has been queued.
func (s *Heartbeat) forecast() (Forecast, bool) {
	if s.Status == "INIT" {
		if s.WaitingSince.IsZero() || !s.LastAt.After(s.WaitingSince) {
			return Forecast{}, false
		}
		return Forecast{at: s.LastAt, stage: 0, base: s.LastAt.Sub(s.WaitingSince)}, true
	}
	left, ok := s.remaining()
	if !ok {
		return Forecast{}, false
	}
	f := Forecast{at: s.LastAt, stage: 1 + min(9, max(0, int(s.Percent*10))), base: left}
	if !s.WaitingSince.IsZero() {
		f.reach = reachOf(left, s.LastAt.Sub(s.WaitingSince))
	}
	return f, true
}

// nextWait chooses the wait before the next call after a successful read, and returns the
// forecast it rested on (ok false when there was none) for the calibration to learn from.
//
// A running job's wait is Lag plus a share of the predicted time left: the share the calibration
// learned for this stage (or this reach of it), or predictFraction until it has; either way
// never more than planHorizon (tailHorizon in the tail) times as far ahead as the job has been
// watched progressing. A
// queued job's wait is the learned multiple of the time queued, once learned. With no
// prediction or nothing learned for a queued job, Initial doubles each time, up to blindWaitMax.
// Only waits that do not rest on a running job's progress are jittered, so that copies started
// together do not call together; u in [0,1) drives the jitter; callers pass a random number,
// tests a fixed one.
func (s *Heartbeat) NextWait(p Config, c *Calibration, u float64) (time.Duration, Forecast, bool) {
	f, ok := s.forecast()
	k, learned, aimed := 0.0, false, false
	if ok && f.base > 0 {
		k, learned = c.factor(f)
	}
	switch {
	case learned && f.stage == 0:
		// A queued job cannot end before it runs: how long queued jobs ran after queueing this
		// long is all there is to go by. Not bounded by the blind waits' minute: if this cloud's
		// queues said little about how long its copies run, what it taught would be a small
		// multiple; bounding it anyway cost long copies a call a minute through their queue.
		s.Wait = durationUpTo(k*float64(f.base), p.Max)
	case ok && f.stage > 0:
		share := predictFraction
		if learned {
			share = k
		}
		h := planHorizon
		if s.Percent >= tailFrom {
			h = tailHorizon
		}
		horizon := max(p.Lag, time.Duration(h*float64(s.LastAt.Sub(s.FirstAt))))
		s.Wait, aimed = min(p.Lag+durationUpTo(share*float64(f.base), p.Max), horizon), true
	case s.Wait == 0:
		s.Wait = p.Initial
	default:
		// Nothing to predict from (a job queued in INIT before queues are learned, an adopted
		// image): the end may come at any time, so the doubling stops at blindWaitMax.
		s.Wait = min(2*s.Wait, p.blindWaitMax())
	}
	s.Wait = clamp(s.Wait, p.Min, p.Max)
	if aimed {
		// Not jittered: a prediction already differs from copy to copy as their progress does,
		// and jitter would only move a call off its aim, half the time past the end it aims at.
		return s.Wait, f, ok
	}
	return clamp(jitter(s.Wait, p.Jitter, u), p.Min, p.Max), f, ok
}

// durationUpTo converts ns to a Duration no longer than top: a learned ratio times a long base
// could pass the largest Duration, whose conversion would wrap to a negative wait.
func durationUpTo(ns float64, top time.Duration) time.Duration {
	return time.Duration(math.Min(ns, float64(top)))
}

// blindWaitMax is the longest wait while nothing foretells the end (no rate to predict from, a
// queue not learned yet), and after failed reads: blindWaits times the first wait (a minute at
// the defaults), so that a copy whose end nothing foretold is noticed within one. A multiple of
// Initial rather than a fixed minute, so that make bench, which divides every interval by its
// time scale, scales this one too.
func (p Config) blindWaitMax() time.Duration {
	return min(p.Max, blindWaits*p.Initial)
}

const blindWaits = 6

// failureWait is the back-off after the n-th consecutive failed read: Min doubling up to
// blindWaitMax. A failed read says nothing about the job, whose end may be near, so the
// back-off stops at a minute even when predicted waits may be longer.
func FailureWait(p Config, n int, u float64) time.Duration {
	top := p.blindWaitMax()
	d := p.Min << min(n-1, 20)
	return clamp(jitter(clamp(d, p.Min, top), p.Jitter, u), p.Min, top)
}

// jitter spreads d by up to ±j; u in [0,1).
func jitter(d time.Duration, j, u float64) time.Duration {
	return time.Duration(float64(d) * (1 + j*(2*u-1)))
}

func clamp(d, lo, hi time.Duration) time.Duration {
	return max(lo, min(hi, d))
}
