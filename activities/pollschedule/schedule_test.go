package pollschedule

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 11, 26, 6, 0, 0, 0, time.UTC)

func noJitter() Config {
	p := DefaultConfig()
	p.Jitter = 0
	return p
}

func TestWaitDoublesFromInitialUntilProgressIsSeen(t *testing.T) {
	p := noJitter()
	var s Heartbeat
	s.Observe("INIT", 0, "", t0)
	var waits []time.Duration
	for range 6 {
		waits = append(waits, ruleWait(&s, p, 0.5))
	}
	assert.Equal(t, []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second, time.Minute, time.Minute, time.Minute}, waits, "a minute at most while nothing foretells the end")
	_, ok := s.remaining()
	assert.False(t, ok, "a job waiting in INIT says nothing about its speed")
}

func TestWaitIsPredictedFromProgress(t *testing.T) {
	p := noJitter()
	var s Heartbeat
	s.Observe("RUNNING", 0.10, "img", t0)
	// 49 % in 100 s, or up to 50 % as IMS floors the figure: 1 % every 2 s, 40 steps to the
	// earliest end (0.99 may already be 1.00 minus a step), so 80 s left at the earliest.
	s.Observe("RUNNING", 0.59, "", t0.Add(100*time.Second))
	assert.Equal(t, "img", s.ImageID, "a read without the image ID keeps the one already known")
	assert.Equal(t, p.Lag+32*time.Second, ruleWait(&s, p, 0.5), "Lag plus 0.4 of the time left")

	s.Observe("RUNNING", 0.99, "", t0.Add(180*time.Second)) // may end at any moment
	assert.Equal(t, p.Lag, ruleWait(&s, p, 0.5), "near the end, every Lag")

	s = Heartbeat{}
	s.Observe("RUNNING", 0.10, "", t0)
	s.Observe("RUNNING", 0.20, "", t0.Add(20*time.Second)) // about 140 s left, but watched for 20 s
	assert.Equal(t, 20*time.Second, ruleWait(&s, p, 0.5), "never planned further ahead than the time watched")

	s = Heartbeat{}
	s.Observe("RUNNING", 0.10, "", t0)
	s.Observe("RUNNING", 0.90, "", t0.Add(100*time.Second))
	s.Observe("RUNNING", 0.91, "", t0.Add(200*time.Second)) // the tail's latest step is slow: minutes left
	assert.Equal(t, 40*time.Second, ruleWait(&s, p, 0.5), "in the tail, never further ahead than a fifth of the 200 s watched")

	s = Heartbeat{}
	s.Observe("RUNNING", 0.10, "", t0)
	s.Observe("RUNNING", 0.11, "", t0.Add(1000*time.Second)) // a slow job: hours left
	assert.Equal(t, p.Max, ruleWait(&s, p, 0.5), "never above Max")

	p.Lag = 0
	s.Observe("RUNNING", 0.99, "", t0.Add(time.Hour))
	assert.Equal(t, p.Min, ruleWait(&s, p, 0.5), "never below Min")
}

// A job that waited in INIT copied nothing until after its last INIT answer: the average rate is
// measured from there, so the first RUNNING answer already predicts.
func TestTheRateIsMeasuredFromTheLastMomentAtZero(t *testing.T) {
	var s Heartbeat
	s.Observe("INIT", 0, "", t0)
	s.Observe("INIT", 0, "", t0.Add(30*time.Second))
	s.Observe("RUNNING", 0.09, "img", t0.Add(40*time.Second)) // up to 10 % in 10 s
	left, ok := s.remaining()
	require.True(t, ok)
	assert.Equal(t, 90*time.Second, left.Round(time.Second), "89 steps to the earliest end at 1 % a second")
}

// A copy slows down near 100 %: from tailFrom on, the latest rate predicts the end, not the
// average of the fast middle, which would call every Lag through a tail of minutes.
func TestTheSlowTailIsPredictedFromTheLatestRate(t *testing.T) {
	var s Heartbeat
	s.Observe("RUNNING", 0.01, "img", t0)
	s.Observe("RUNNING", 0.91, "", t0.Add(90*time.Second))  // 1 % a second so far
	s.Observe("RUNNING", 0.91, "", t0.Add(100*time.Second)) // then nothing for 10 s
	s.Observe("RUNNING", 0.92, "", t0.Add(120*time.Second)) // 1 % in 20 s since the last 0.91
	assert.Equal(t, t0.Add(100*time.Second), s.PrevAt, "the rate is taken from the last sample before the tick")
	left, ok := s.remaining()
	require.True(t, ok)
	// Up to 2 % in those 20 s, as IMS floors both figures: 7 steps left at 10 s a step.
	assert.Equal(t, 70*time.Second, left.Round(time.Second), "the earliest end the answers allow")
}

// A wait that rests on a running job's progress is aimed, not jittered; blind waits are.
func TestOnlyBlindWaitsAreJittered(t *testing.T) {
	p := DefaultConfig()
	p.Jitter = 0.2
	running := func() *Heartbeat {
		var s Heartbeat
		s.Start(p, t0, 0.5)
		s.Observe("RUNNING", 0.5, "img", t0.Add(102*time.Second))
		return &s
	}
	assert.Equal(t, p.Lag+time.Duration(predictFraction*float64(98*time.Second)), ruleWait(running(), p, 0), "98 s left at the earliest")
	assert.Equal(t, ruleWait(running(), p, 0), ruleWait(running(), p, 0.999))
	queued := func() *Heartbeat {
		var s Heartbeat
		s.Start(p, t0, 0.5)
		s.Observe("INIT", 0, "img", t0.Add(10*time.Second))
		return &s
	}
	assert.NotEqual(t, ruleWait(queued(), p, 0), ruleWait(queued(), p, 0.999))
	c := NewCalibration()
	teach(c, 0, repeat(3, calibrationMinCopies)...)
	learned := func(u float64) time.Duration { w, _, _ := queued().NextWait(p, c, u); return w }
	assert.NotEqual(t, learned(0), learned(0.999), "a learned wait while queued rests on no progress either")
}

func TestJitterStaysWithinBounds(t *testing.T) {
	p := DefaultConfig()
	p.Jitter = 0.2
	for _, u := range []float64{0, 0.25, 0.5, 0.75, 0.999} {
		s := Heartbeat{Wait: 5 * time.Second}
		w := ruleWait(&s, p, u) // doubles to 10 s, then jitter
		assert.GreaterOrEqual(t, w, 8*time.Second, "u=%v", u)
		assert.LessOrEqual(t, w, 12*time.Second, "u=%v", u)
	}
	s := Heartbeat{Wait: 5 * time.Second}
	assert.NotEqual(t, ruleWait(&s, p, 0), ruleWait(&Heartbeat{Wait: 5 * time.Second}, p, 0.999))
}

func TestFailureWaitBacksOff(t *testing.T) {
	p := noJitter()
	var got []time.Duration
	for n := 1; n <= 7; n++ {
		got = append(got, FailureWait(p, n, 0.5))
	}
	assert.Equal(t, []time.Duration{1 * time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 32 * time.Second, time.Minute}, got)
	assert.Equal(t, time.Minute, FailureWait(p, 1000, 0.5), "no overflow after many failures")
}

// simulate runs the schedule against a job whose percent rises linearly over d from the wait's
// start, and returns the calls made and how long after the end the last call came.
func simulate(p Config, d time.Duration) (calls int, lag time.Duration) {
	linear := func(t float64) (string, float64) { return "RUNNING", t }
	return simulateJob(p, nil, d, linear, rand.New(rand.NewPCG(1, 1)))
}

// The Terraform provider polls every 10 s after a 10 s delay: 6 calls for a 60 s job, 30 for a
// 300 s one, 360 for an hour, each with up to 10 s of lag. On a job whose percent rises evenly the
// predicted schedule must do as well on calls, far better on long jobs (an hour: a tenth of the
// calls), and notice the end within Lag.
func TestScheduleBeatsFixedIntervalPolling(t *testing.T) {
	p := noJitter()
	for _, c := range []struct {
		job      time.Duration
		maxCalls int
	}{{10 * time.Second, 1}, {60 * time.Second, 6}, {300 * time.Second, 10}, {time.Hour, 36}} {
		t.Run(fmt.Sprint(c.job), func(t *testing.T) {
			calls, lag := simulate(p, c.job)
			assert.LessOrEqual(t, calls, c.maxCalls)
			assert.LessOrEqual(t, lag, p.Lag, "the end is noticed within Lag")
		})
	}
}

// ruleWait is nextWait without a calibration: the schedule's rule alone.
func ruleWait(s *Heartbeat, p Config, u float64) time.Duration {
	w, _, _ := s.NextWait(p, nil, u)
	return w
}
