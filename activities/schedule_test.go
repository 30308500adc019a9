package activities

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 11, 26, 6, 0, 0, 0, time.UTC)

func noJitter() PollConfig {
	p := DefaultPollConfig()
	p.Jitter = 0
	return p
}

func TestWaitDoublesFromInitialUntilProgressIsSeen(t *testing.T) {
	p := noJitter()
	var s PollHeartbeat
	s.observe("INIT", 0, "", t0)
	var waits []time.Duration
	for range 6 {
		waits = append(waits, s.nextWait(p, 0.5))
	}
	assert.Equal(t, []time.Duration{3 * time.Second, 6 * time.Second, 12 * time.Second, 24 * time.Second, 48 * time.Second, time.Minute}, waits)
	assert.True(t, s.FirstAt.IsZero(), "a job waiting in INIT says nothing about its speed")
}

func TestWaitIsPredictedFromProgress(t *testing.T) {
	p := noJitter()
	p.Max = 10 * time.Minute
	var s PollHeartbeat
	s.observe("RUNNING", 0.10, "img", t0)
	s.observe("RUNNING", 0.20, "", t0.Add(10*time.Second)) // 1% a second: 80 s left
	assert.Equal(t, "img", s.ImageID, "a read without the image ID keeps the one already known")
	assert.Equal(t, 64*time.Second, s.nextWait(p, 0.5))

	s.observe("RUNNING", 0.995, "", t0.Add(89500*time.Millisecond)) // 0.5 s left
	assert.Equal(t, p.Min, s.nextWait(p, 0.5), "never below Min")

	p.Max = time.Minute
	s.observe("RUNNING", 0.11, "", t0.Add(100*time.Second)) // a slow job: hours left
	assert.Equal(t, p.Max, s.nextWait(p, 0.5), "never above Max")
}

func TestJitterStaysWithinBounds(t *testing.T) {
	p := DefaultPollConfig()
	p.Jitter = 0.2
	for _, u := range []float64{0, 0.25, 0.5, 0.75, 0.999} {
		s := PollHeartbeat{Wait: 5 * time.Second}
		w := s.nextWait(p, u) // doubles to 10 s, then jitter
		assert.GreaterOrEqual(t, w, 8*time.Second, "u=%v", u)
		assert.LessOrEqual(t, w, 12*time.Second, "u=%v", u)
	}
	s := PollHeartbeat{Wait: 5 * time.Second}
	assert.NotEqual(t, s.nextWait(p, 0), (&PollHeartbeat{Wait: 5 * time.Second}).nextWait(p, 0.999))
}

func TestFailureWaitBacksOff(t *testing.T) {
	p := noJitter()
	var got []time.Duration
	for n := 1; n <= 7; n++ {
		got = append(got, failureWait(p, n, 0.5))
	}
	assert.Equal(t, []time.Duration{1 * time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 32 * time.Second, time.Minute}, got)
	assert.Equal(t, p.Max, failureWait(p, 1000, 0.5), "no overflow after many failures")
}

// simulate runs the schedule against a job whose percent rises linearly over d after the first
// wait, and returns the calls made and how long after the end the last call came.
func simulate(p PollConfig, d time.Duration) (calls int, lag time.Duration) {
	var s PollHeartbeat
	now := t0.Add(p.Initial)
	for {
		calls++
		elapsed := now.Sub(t0)
		if elapsed >= d {
			return calls, elapsed - d
		}
		s.observe("RUNNING", float64(elapsed)/float64(d), "img", now)
		now = now.Add(s.nextWait(p, 0.5))
	}
}

// The Terraform provider polls every 10 s after a 10 s delay: 6 calls for a 60 s job, 31 for a
// 300 s one, 360 for an hour, each with up to 10 s of lag. The predicted schedule must do at least
// as well on calls and far better on lag at once.
func TestScheduleBeatsFixedIntervalPolling(t *testing.T) {
	p := noJitter()
	for _, c := range []struct {
		job      time.Duration
		maxCalls int
	}{{10 * time.Second, 4}, {60 * time.Second, 6}, {300 * time.Second, 10}, {time.Hour, 3600/60 + 6}} {
		t.Run(fmt.Sprint(c.job), func(t *testing.T) {
			calls, lag := simulate(p, c.job)
			assert.LessOrEqual(t, calls, c.maxCalls)
			assert.LessOrEqual(t, lag, p.Min, "the end is noticed within Min")
		})
	}
}

func TestZeroPollConfigGetsDefaults(t *testing.T) {
	a := &Activities{}
	assert.Equal(t, DefaultPollConfig(), a.poll())
	a.Poll = PollConfig{Min: 50 * time.Millisecond, Max: 10 * time.Millisecond}
	p := a.poll()
	require.Equal(t, 50*time.Millisecond, p.Min)
	assert.Equal(t, p.Min, p.Max, "Max below Min is raised to Min")
	assert.Equal(t, DefaultPollConfig().HeartbeatEvery, p.HeartbeatEvery)
	assert.Zero(t, p.Jitter, "Jitter 0 is a choice, not unset")
}
