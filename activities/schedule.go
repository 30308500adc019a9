package activities

import (
	"math"
	"time"
)

// PollHeartbeat is PollJob's heartbeat detail: everything it needs to carry on where a dead
// worker stopped, without polling at once and without forgetting the job's rate of progress.
type PollHeartbeat struct {
	Status     string // last status seen: the job's (INIT, RUNNING, ...) or the adopted image's
	Percent    float64
	ImageID    string
	Polls      int       // status calls made so far, failed ones included
	NextPollAt time.Time // when the next call is due; a resumed attempt sleeps until then
	// The first sample taken while the job was RUNNING and the latest one: the rate between them
	// predicts the end. A job waiting in INIT says nothing about how fast it will copy.
	FirstAt      time.Time
	FirstPercent float64
	LastAt       time.Time
	// Wait is the last wait chosen before jitter; it doubles while the rate is unknown.
	Wait time.Duration
	// Failures counts consecutive failed reads, for their back-off.
	Failures int
	// Refused counts the failed reads since the last good one whose error no retry should fix
	// (not found, auth, invalid, unknown); PollJob gives up at maxRefusedReads.
	Refused int
	// Signalled is the progress last sent to the workflow, so that only coarse changes are sent.
	Signalled JobProgress
}

// predictFraction is how much of the predicted remaining time PollJob sleeps. Sleeping all of it
// would hit the end exactly when progress is linear, but IMS's percent need not be; 0.8 lands the
// next call a fifth of the way short of the end, so each call cuts the uncertainty fivefold and the
// last one comes within about PollConfig.Min of the end: a 300 s job takes about ten calls.
const predictFraction = 0.8

// observe records one successful read.
func (s *PollHeartbeat) observe(status string, percent float64, imageID string, at time.Time) {
	s.Status, s.Percent, s.LastAt, s.Failures, s.Refused = status, percent, at, 0, 0
	if imageID != "" {
		s.ImageID = imageID
	}
	if status == "RUNNING" && s.FirstAt.IsZero() {
		s.FirstAt, s.FirstPercent = at, percent
	}
}

// remaining predicts the time left from the progress between the first and the latest sample;
// false when there is no progress to predict from yet.
func (s *PollHeartbeat) remaining() (time.Duration, bool) {
	if s.FirstAt.IsZero() || !s.LastAt.After(s.FirstAt) || s.Percent <= s.FirstPercent {
		return 0, false
	}
	rate := (s.Percent - s.FirstPercent) / s.LastAt.Sub(s.FirstAt).Seconds()
	left := math.Max(0, 1-s.Percent) / rate
	return time.Duration(left * float64(time.Second)), true
}

// nextWait chooses the wait before the next call after a successful read: a fraction of the
// predicted remaining time when there is a prediction, otherwise Initial doubling each time.
// u in [0,1) drives the jitter; callers pass a random number, tests a fixed one.
func (s *PollHeartbeat) nextWait(p PollConfig, u float64) time.Duration {
	if left, ok := s.remaining(); ok {
		s.Wait = time.Duration(predictFraction * float64(left))
	} else if s.Wait == 0 {
		s.Wait = p.Initial
	} else {
		s.Wait *= 2
	}
	s.Wait = clamp(s.Wait, p.Min, p.Max)
	return clamp(jitter(s.Wait, p.Jitter, u), p.Min, p.Max)
}

// failureWait is the back-off after the n-th consecutive failed read: Min doubling up to Max.
func failureWait(p PollConfig, n int, u float64) time.Duration {
	d := p.Min << min(n-1, 20)
	return clamp(jitter(clamp(d, p.Min, p.Max), p.Jitter, u), p.Min, p.Max)
}

// jitter spreads d by up to ±j; u in [0,1).
func jitter(d time.Duration, j, u float64) time.Duration {
	return time.Duration(float64(d) * (1 + j*(2*u-1)))
}

func clamp(d, lo, hi time.Duration) time.Duration {
	return max(lo, min(hi, d))
}
