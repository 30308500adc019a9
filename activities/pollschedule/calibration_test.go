package pollschedule

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ratiosHeld is how many ratios each stage of c holds, INIT first.
func ratiosHeld(c *Calibration) []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := make([]int, calibrationStages)
	for i := range c.stages {
		n[i] = len(c.stages[i].ratios)
	}
	return n
}

// teach records one job per ratio at stage: forecast base 10 s, the end ratio*10 s later.
func teach(c *Calibration, stage int, ratios ...float64) {
	for _, r := range ratios {
		c.Learn([]Forecast{{at: t0, stage: stage, base: 10 * time.Second}}, t0.Add(time.Duration(r*float64(10*time.Second))))
	}
}

func repeat(r float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = r
	}
	return out
}

func TestCalibrationTrustsAStageOnlyOnceItHasEnoughRatios(t *testing.T) {
	c := NewCalibration()
	teach(c, 3, repeat(2, calibrationMinCopies-1)...)
	_, ok := c.factor(Forecast{stage: 3})
	assert.False(t, ok, "too few ratios: the rule decides")

	teach(c, 3, 1.5)
	k, ok := c.factor(Forecast{stage: 3})
	require.True(t, ok)
	assert.InDelta(t, 1.5, k, 1e-9, "the low end of what was seen")
	_, ok = c.factor(Forecast{stage: 4})
	assert.False(t, ok, "stages are learned apart")

	// Many ratios from one long copy are not enough.
	one := NewCalibration()
	var forecasts []Forecast
	for i := range 2 * calibrationMinCopies {
		forecasts = append(forecasts, Forecast{at: t0.Add(time.Duration(i) * time.Second), stage: 3, base: 10 * time.Second})
	}
	one.Learn(forecasts, t0.Add(time.Hour))
	_, ok = one.factor(Forecast{stage: 3})
	assert.False(t, ok, "one copy taught the stage")

	var none *Calibration
	_, ok = none.factor(Forecast{stage: 3})
	assert.False(t, ok, "no calibration, no factor")
	none.Learn([]Forecast{{at: t0, stage: 3, base: time.Second}}, t0.Add(time.Second)) // no panic
}

// The factor is the calibrationQuantile of the ratios: a handful of jobs that ended early do not
// set every later wait, one in two hundred may.
func TestCalibrationAimsAtItsLowQuantile(t *testing.T) {
	c := NewCalibration()
	for i := range calibrationWindow {
		teach(c, 5, 1+float64(i)/100) // 1.00, 1.01, ... 3.99
	}
	k, ok := c.factor(Forecast{stage: 5})
	require.True(t, ok)
	assert.InDelta(t, 1.01, k, 1e-9, "the 2nd smallest of 300")
}

// A stage keeps only the latest calibrationWindow ratios, so that a change in the cloud is
// learned within a few hundred copies.
func TestCalibrationForgetsOldRatios(t *testing.T) {
	c := NewCalibration()
	teach(c, 0, repeat(1, calibrationWindow)...)
	teach(c, 0, repeat(5, calibrationWindow)...)
	k, ok := c.factor(Forecast{stage: 0})
	require.True(t, ok)
	assert.InDelta(t, 5.0, k, 1e-9)
	assert.Equal(t, calibrationWindow, ratiosHeld(c)[0])
}

// A Forecast at or after the end teaches nothing: it would make a ratio of zero or below.
func TestCalibrationIgnoresForecastsAtTheEnd(t *testing.T) {
	c := NewCalibration()
	c.Learn([]Forecast{{at: t0, stage: 2, base: time.Second}, {at: t0.Add(time.Second), stage: 2, base: time.Second}, {at: t0, stage: 2}}, t0)
	assert.Equal(t, 0, ratiosHeld(c)[2])
}

func TestLearnedWaitsAimAtTheLearnedRatio(t *testing.T) {
	p := noJitter()
	c := NewCalibration()

	// Running at 50 %, 1 % every 2 s: 98 s left at the earliest (see remaining).
	var s Heartbeat
	s.Start(p, t0, 0.5)
	s.Observe("RUNNING", 0.5, "img", t0.Add(102*time.Second))
	f, ok := s.forecast()
	require.True(t, ok)
	assert.Equal(t, 6, f.stage, "50 % is the sixth stage after INIT")
	assert.Equal(t, 98*time.Second, f.base.Round(time.Second))
	assert.Equal(t, 4, f.reach, "98 s ahead of a copy 102 s old: between half and once its age")
	old := s
	old.WaitingSince = time.Time{}
	g, ok := old.forecast()
	require.True(t, ok)
	assert.Zero(t, g.reach, "a heartbeat from an older worker gives no age to measure the reach by")
	assert.Equal(t, p.Lag+time.Duration(predictFraction*float64(f.base)), ruleWait(&s, p, 0.5), "before learning: the rule")

	teach(c, 6, repeat(0.8, calibrationMinCopies)...)
	w, used, ok := s.NextWait(p, c, 0.5)
	require.True(t, ok)
	assert.Equal(t, f, used, "the Forecast is returned for learning")
	assert.Equal(t, p.Lag+time.Duration(0.8*float64(f.base)), w, "Lag plus the learned share of the time left")

	// Never planned further ahead than the time watched, learned or not.
	teach(c, 6, repeat(50, calibrationWindow)...)
	w, _, _ = s.NextWait(p, c, 0.5)
	assert.Equal(t, 102*time.Second, w)

	// Queued for 15 s: jobs queued that long have run at least 3 times as long again.
	var q Heartbeat
	q.Start(p, t0, 0.5)
	q.Observe("INIT", 0, "img", t0.Add(15*time.Second))
	teach(c, 0, repeat(3, calibrationMinCopies)...)
	w, used, ok = q.NextWait(p, c, 0.5)
	require.True(t, ok)
	assert.Equal(t, 0, used.stage)
	assert.Equal(t, 45*time.Second, w)

	// Learned waits while queued are bounded by Max only, not by the blind waits' minute.
	teach(c, 0, repeat(10, calibrationWindow)...)
	w, _, _ = q.NextWait(p, c, 0.5)
	assert.Equal(t, 150*time.Second, w)
	teach(c, 0, repeat(100, calibrationWindow)...)
	w, _, _ = q.NextWait(p, c, 0.5)
	assert.Equal(t, p.Max, w)
}

// Within a stage, forecasts of different reach (predicted time left against the copy's age) are
// learned apart; a reach that too few copies taught falls back on the whole stage.
func TestCalibrationLearnsEachReachApart(t *testing.T) {
	c := NewCalibration()
	near := Forecast{at: t0, stage: 7, reach: reachOf(10*time.Second, 80*time.Second), base: 10 * time.Second}
	far := Forecast{at: t0, stage: 7, reach: reachOf(40*time.Second, 20*time.Second), base: 10 * time.Second}
	require.NotEqual(t, near.reach, far.reach)
	for range calibrationMinCopies {
		c.Learn([]Forecast{near}, t0.Add(20*time.Second)) // twice what was predicted
		c.Learn([]Forecast{far}, t0.Add(5*time.Second))   // half
	}
	k, ok := c.factor(near)
	require.True(t, ok)
	assert.InDelta(t, 2.0, k, 1e-9, "its own reach's ratios, not the far forecasts' halves")
	k, ok = c.factor(far)
	require.True(t, ok)
	assert.InDelta(t, 0.5, k, 1e-9)

	other := Forecast{stage: 7, reach: reachOf(time.Hour, time.Second)}
	k, ok = c.factor(other)
	require.True(t, ok, "an untaught reach uses its stage")
	assert.InDelta(t, 0.5, k, 1e-9, "the whole stage's low end")
	k, ok = c.factor(Forecast{stage: 7})
	require.True(t, ok, "so does a Forecast of unknown reach")
	assert.InDelta(t, 0.5, k, 1e-9)
}

func TestReachIsTheDoublingsAheadOfTheCopysAge(t *testing.T) {
	assert.Equal(t, 0, reachOf(time.Second, 0), "age unknown")
	assert.Equal(t, 0, reachOf(0, time.Second), "nothing left")
	assert.Equal(t, 1, reachOf(time.Second, time.Hour), "a sixteenth or less")
	assert.Equal(t, 5, reachOf(10*time.Second, 10*time.Second), "as far ahead as the copy is old")
	assert.Equal(t, 6, reachOf(30*time.Second, 10*time.Second))
	assert.Equal(t, calibrationReaches, reachOf(time.Hour, time.Second), "eight times or more")
}

// An INIT answer in a heartbeat written before WaitingSince existed has no queue time to go by:
// the rule's doubling goes on.
func TestAQueuedJobFromAnOlderHeartbeatWaitsByTheRule(t *testing.T) {
	p := noJitter()
	c := NewCalibration()
	teach(c, 0, repeat(3, calibrationMinCopies)...)
	s := Heartbeat{Wait: 10 * time.Second}
	s.Observe("INIT", 0, "img", t0)
	w, _, ok := s.NextWait(p, c, 0.5)
	assert.False(t, ok)
	assert.Equal(t, 20*time.Second, w)
}
