package pollschedule

import (
	"math"
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
// Within a stage, the ratios are also kept apart by the forecast's reach (how far ahead the
// prediction points, against how long the copy has been going): a prediction that looks far
// ahead of a young copy errs differently from one that looks a little ahead of an old copy, and
// pooling them made every wait as cautious as the worst of both. A reach that has taught too
// little falls back on its whole stage.
//
// One Calibration serves every PollJob on a worker; it is safe for concurrent use. It lives in
// memory only: a restarted worker polls by the rule alone until it has watched enough copies
// again (calibrationMinCopies per stage).
type Calibration struct {
	mu      sync.Mutex
	stages  [calibrationStages]ratioWindow
	reaches [calibrationStages][calibrationReaches]ratioWindow
}

// The calibration's constants, chosen on the virtual-time simulation of the realistic model
// (schedule_realistic_test.go); none of them encodes the model's shape.
const (
	// calibrationStages: INIT, then RUNNING in tenths of the percent. A job's stage is a coarse
	// enough key that a few hundred copies fill every stage, fine enough that the slow tail near
	// 100 % or a long queue are learned apart from the middle.
	calibrationStages = 11
	// calibrationReaches: a forecast's reach is log2(predicted time left / the copy's age),
	// floored, from -4 (a sixteenth or less) up to 3 (eight times or more), one bucket per
	// doubling: eight buckets, so that each still fills within a few hundred copies.
	calibrationReaches = 8
	reachLowest        = -4
	// calibrationWindow is how many of the latest ratios each stage (and each reach) keeps:
	// enough for its low quantile to be steady, few enough that a change in the cloud (a busier
	// region, larger images) is learned within a few hundred copies.
	calibrationWindow = 300
	// calibrationMinCopies is how many copies must have taught a stage (or a reach) before waits
	// trust it; until then the rule alone decides (or, for a reach, its whole stage). Copies,
	// not ratios: one long copy calls many times in the same stage, and its ratios, alike, would
	// say little about the next copy.
	calibrationMinCopies = 30
	// calibrationQuantile is the share of learned ratios below the one a wait aims at: a call is
	// aimed so that about one job in two hundred has ended before it, per call. The jobs that end
	// before an aimed call are the late tail of the lag; aiming at one in a hundred put that tail
	// at the 99th percentile itself, above Terraform's (docs/benchmarks.md has the figures).
	calibrationQuantile = 0.005
)

// NewCalibration returns an empty calibration: PollJob waits by its rule until it learns.
func NewCalibration() *Calibration { return &Calibration{} }

// ratioWindow is a ring of the latest ratios of one stage (or one reach of it), and how many
// copies taught it.
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

// trusted returns a copy of the window's ratios once enough copies taught it.
func (w *ratioWindow) trusted() ([]float64, bool) {
	if w.copies < calibrationMinCopies {
		return nil, false
	}
	return slices.Clone(w.ratios), true
}

// Forecast is one prediction PollJob made, kept until the job's end shows how good it was.
type Forecast struct {
	at    time.Time
	stage int
	// reach is 1 + the reach bucket (see calibrationReaches); 0 when the copy's age is unknown
	// (a heartbeat from an older worker), when nothing is predicted left (at 99 %), or when the
	// job is queued, whose base is its age.
	reach int
	// base is what the ratio is taken of: the predicted time left, or for a queued job the time
	// it has been queued.
	base time.Duration
}

// reachOf is the reach bucket (1-based) of a prediction of left for a copy aged age.
func reachOf(left, age time.Duration) int {
	if left <= 0 || age <= 0 {
		return 0
	}
	b := int(math.Floor(math.Log2(float64(left)/float64(age)))) - reachLowest
	return 1 + min(calibrationReaches-1, max(0, b))
}

// factor returns the learned ratio a wait resting on f should use, and false while its stage has
// too few ratios to trust. A nil Calibration never has one.
func (c *Calibration) factor(f Forecast) (float64, bool) {
	if c == nil {
		return 0, false
	}
	c.mu.Lock()
	var w []float64
	var ok bool
	if f.reach > 0 {
		w, ok = c.reaches[f.stage][f.reach-1].trusted()
	}
	if !ok {
		w, ok = c.stages[f.stage].trusted()
	}
	c.mu.Unlock()
	if !ok {
		return 0, false
	}
	slices.Sort(w)
	return w[int(calibrationQuantile*float64(len(w)))], true
}

// Stage is what one stage of a calibration holds: the ratios it learned and how many copies
// taught them.
type Stage struct {
	Ratios []float64
	Copies int
}

// Stages returns what each stage holds, INIT first: what a worker has learned so far.
func (c *Calibration) Stages() []Stage {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Stage, len(c.stages))
	for i, w := range c.stages {
		out[i] = Stage{Ratios: slices.Clone(w.ratios), Copies: w.copies}
	}
	return out
}

// Learn records how the forecasts of one job compare with its end.
func (c *Calibration) Learn(forecasts []Forecast, end time.Time) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	// Each window counts this job once, however many of its forecasts it learned.
	var stageTaught [calibrationStages]bool
	var reachTaught [calibrationStages][calibrationReaches]bool
	for _, f := range forecasts {
		left := end.Sub(f.at)
		if left <= 0 || f.base <= 0 {
			continue
		}
		r := float64(left) / float64(f.base)
		c.stages[f.stage].add(r)
		stageTaught[f.stage] = true
		if f.reach > 0 {
			c.reaches[f.stage][f.reach-1].add(r)
			reachTaught[f.stage][f.reach-1] = true
		}
	}
	for stage := range calibrationStages {
		if stageTaught[stage] {
			c.stages[stage].copies++
		}
		for reach := range calibrationReaches {
			if reachTaught[stage][reach] {
				c.reaches[stage][reach].copies++
			}
		}
	}
}
