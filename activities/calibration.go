package activities

import (
	"slices"
	"sync"
	"time"
)

// Calibration is what a worker has learned from the copies it watched to their end: at each
// stage of a job (queued in INIT, or a tenth of its percent), how the time that was really left
// compared with what PollJob had predicted then (for a queued job, with how long it had been
// queued). The schedule's own rule (Lag plus a fixed share of the predicted time left, see
// schedule.go) must assume the worst of any cloud; learned ratios let later waits aim at what
// this cloud's jobs actually do: near the low end of the ratios seen, so that few jobs end
// before the call that was aimed at them. Nothing about IMS's progress curve is assumed: a
// cloud whose jobs slow down near the end, or queue for long, teaches large ratios at those
// stages; one whose jobs run evenly teaches ratios near 1.
//
// One Calibration serves every PollJob on a worker; it is safe for concurrent use. It lives in
// memory only: a restarted worker polls by the rule alone until it has watched enough copies
// again (calibrationMinCopies per stage).
type Calibration struct {
	mu     sync.Mutex
	stages [calibrationStages]ratioWindow
}

// The calibration's constants, chosen on the virtual-time simulation of the realistic model
// (schedule_realistic_test.go); none of them encodes the model's shape.
const (
	// calibrationStages: INIT, then RUNNING in tenths of the percent. A job's stage is a coarse
	// enough key that a few hundred copies fill every stage, fine enough that the slow tail near
	// 100 % or a long queue are learned apart from the middle.
	calibrationStages = 11
	// calibrationWindow is how many of the latest ratios each stage keeps: enough for its low
	// quantile to be steady, few enough that a change in the cloud (a busier region, larger
	// images) is learned within a few hundred copies.
	calibrationWindow = 300
	// calibrationMinCopies is how many copies must have taught a stage before waits trust it;
	// until then the rule alone decides. Copies, not ratios: one long copy calls many times in
	// the same stage, and its ratios, alike, would say little about the next copy.
	calibrationMinCopies = 30
	// calibrationQuantile is the share of learned ratios below the one a wait aims at: a call is
	// aimed so that about one job in a hundred has ended before it, per call. On the simulation
	// 0.02 saves 6 % more calls, but its 95th-percentile lag (9.0 s) comes within half a second
	// of Terraform's (9.4 s), where 0.01 keeps a second's margin (8.4 s) for what a real run adds.
	calibrationQuantile = 0.01
)

// NewCalibration returns an empty calibration: PollJob waits by its rule until it learns.
func NewCalibration() *Calibration { return &Calibration{} }

// ratioWindow is a ring of the latest ratios of one stage, and how many copies taught it.
type ratioWindow struct {
	ratios []float64
	next   int
	copies int
}

func (w *ratioWindow) add(r float64) {
	if len(w.ratios) < calibrationWindow {
		w.ratios = append(w.ratios, r)
		return
	}
	w.ratios[w.next] = r
	w.next = (w.next + 1) % calibrationWindow
}

// forecast is one prediction PollJob made, kept until the job's end shows how good it was.
type forecast struct {
	at    time.Time
	stage int
	// base is what the ratio is taken of: the predicted time left, or for a queued job the time
	// it has been queued.
	base time.Duration
}

// factor returns the learned ratio a wait at this stage should use, and false while the stage
// has too few ratios to trust. A nil Calibration never has one.
func (c *Calibration) factor(stage int) (float64, bool) {
	if c == nil {
		return 0, false
	}
	c.mu.Lock()
	w, copies := slices.Clone(c.stages[stage].ratios), c.stages[stage].copies
	c.mu.Unlock()
	if copies < calibrationMinCopies {
		return 0, false
	}
	slices.Sort(w)
	return w[int(calibrationQuantile*float64(len(w)))], true
}

// learn records how the forecasts of one job compare with its end.
func (c *Calibration) learn(forecasts []forecast, end time.Time) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var taught [calibrationStages]bool
	for _, f := range forecasts {
		if left := end.Sub(f.at); left > 0 && f.base > 0 {
			c.stages[f.stage].add(float64(left) / float64(f.base))
			taught[f.stage] = true
		}
	}
	for stage, ok := range taught {
		if ok {
			c.stages[stage].copies++
		}
	}
}
