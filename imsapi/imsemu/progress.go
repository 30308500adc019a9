package imsemu

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// ProgressModel is how a copy job's process_percent moves between its start and its end.
type ProgressModel string

const (
	// ProgressLinear (the default) queues for a twentieth of the job (at most 2 s) and then
	// climbs at a constant rate: easy to reason about in tests.
	ProgressLinear ProgressModel = ""
	// ProgressRealistic is what a poller must cope with on a real cloud: a queue wait at 0 %
	// (INIT), a rate that changes from stretch to stretch, stalls where the percentage does not
	// move, and a slow tail near 100 %. Each job draws its own shape from the emulator's seed, and
	// still ends exactly at its duration, so a benchmark's jobs take the same time under any model.
	ProgressRealistic ProgressModel = "realistic"
)

// JobModel shapes copy jobs beyond Config.JobDuration. The zero value keeps the defaults.
type JobModel struct {
	Progress ProgressModel
	// DurationFor, when set and answering more than zero, is a new copy job's duration, chosen by
	// the target image's name instead of drawn from JobDuration..JobDurationMax: a benchmark that
	// replays the same named copies under several strategies gets the same jobs every time.
	DurationFor func(imageName string) time.Duration
}

func (m JobModel) validate() error {
	switch m.Progress {
	case ProgressLinear, ProgressRealistic:
		return nil
	}
	return fmt.Errorf("imsemu: progress model %q is unknown; use %q (or empty for linear)", m.Progress, ProgressRealistic)
}

// The realistic shape's ranges, as shares of the job's duration or of 100 %. Real copies spend
// seconds to minutes queued, move unevenly while data is copied, and crawl through the last
// percent while the image is registered; these ranges give that shape without claiming to be
// measurements of IMS.
const (
	queueShareMin, queueShareMax = 0.03, 0.15 // INIT at 0 %
	tailShareMin, tailShareMax   = 0.15, 0.30 // time spent on the last stretch
	tailStartMin, tailStartMax   = 0.90, 0.97 // the percentage where the tail begins
	segmentsMin, segmentsMax     = 4, 7       // stretches of differing rate before the tail
	stallChance                  = 0.25       // a stretch that does not move at all
	rateMin, rateMax             = 0.3, 2.0   // relative rate of a moving stretch
)

// knot is one corner of a job's progress curve: at share t of the duration, share p is done.
type knot struct{ t, p float64 }

// progressCurve is a monotone piecewise-linear map from elapsed share to done share. Its first
// knot ends the queue wait; its last is (1, 1).
type progressCurve []knot

// newProgressCurve draws a realistic curve from seed; the same seed always gives the same curve,
// so a job's progress survives a restart from the state file, which stores only the seed.
func newProgressCurve(seed uint64) progressCurve {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	between := func(lo, hi float64) float64 { return lo + (hi-lo)*r.Float64() }

	queue := between(queueShareMin, queueShareMax)
	tailStartsAt := 1 - between(tailShareMin, tailShareMax)
	tailFrom := between(tailStartMin, tailStartMax)

	n := segmentsMin + r.IntN(segmentsMax-segmentsMin+1)
	times, gains := make([]float64, n), make([]float64, n)
	var timeSum, gainSum float64
	for i := range n {
		times[i] = between(0.5, 1.5)
		if r.Float64() >= stallChance {
			gains[i] = times[i] * between(rateMin, rateMax)
		}
		timeSum += times[i]
		gainSum += gains[i]
	}
	if gainSum == 0 { // every stretch stalled: let the first one carry the copy
		gains[0], gainSum = times[0], times[0]
	}

	curve := progressCurve{{queue, 0}}
	t, p := queue, 0.0
	for i := range n {
		t += (tailStartsAt - queue) * times[i] / timeSum
		p = min(p+tailFrom*gains[i]/gainSum, tailFrom) // min: no rounding past the tail's start
		curve = append(curve, knot{t, p})
	}
	curve[len(curve)-1] = knot{tailStartsAt, tailFrom} // no rounding drift at the joint
	return append(curve, knot{1, 1})
}

// at is the done share at elapsed share t, 0 during the queue wait.
func (c progressCurve) at(t float64) float64 {
	if t <= c[0].t {
		return 0
	}
	for i := 1; i < len(c); i++ {
		if t <= c[i].t {
			a, b := c[i-1], c[i]
			return a.p + (b.p-a.p)*(t-a.t)/(b.t-a.t)
		}
	}
	return 1
}

// queueWait is how long the job stays in INIT at 0 %.
func (j *job) queueWait() time.Duration {
	if j.curve == nil {
		return j.initPhase()
	}
	return time.Duration(j.curve[0].t * float64(j.Duration))
}

// doneShare is the share of the copy done after elapsed, before IMS's rounding.
func (j *job) doneShare(elapsed time.Duration) float64 {
	t := float64(elapsed) / float64(j.Duration)
	if j.curve == nil {
		return t
	}
	return j.curve.at(t)
}

// failPercent is where a failing job's percentage stops.
func (j *job) failPercent() float64 {
	if j.curve == nil {
		return j.FailAt
	}
	return j.curve.at(j.FailAt)
}

// newJobShape chooses a new copy job's duration and progress seed. The caller holds e.mu.
func (e *Emulator) newJobShape(imageName string) (time.Duration, uint64) {
	d := time.Duration(0)
	if e.cfg.Jobs.DurationFor != nil {
		d = e.cfg.Jobs.DurationFor(imageName)
	}
	if d <= 0 {
		d = e.jobRand.between(e.cfg.JobDuration, e.cfg.JobDurationMax)
	}
	var seed uint64
	if e.cfg.Jobs.Progress == ProgressRealistic {
		seed = e.jobRand.uint64() | 1 // never 0, which means linear
	}
	return d, seed
}

func (s *stream) uint64() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.r.Uint64()
}

// RealisticJob returns what IMS would answer about a job drawn by the realistic model from seed
// at elapsed share t of its duration (0 <= t < 1): INIT during the queue wait, then RUNNING with
// the floored percent. Tests of a poll schedule run it against many such jobs in virtual time.
func RealisticJob(seed uint64) func(t float64) (status string, percent float64) {
	c := newProgressCurve(seed)
	return func(t float64) (string, float64) {
		if t <= c[0].t {
			return jobInit, 0
		}
		return jobRunning, floorPercent(c.at(t))
	}
}
