package activities

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/imscopy/imscopy/imsapi/imsemu"
)

// benchJobSeconds draws a job duration from make bench's distribution (cmd/bench): a shifted
// log-normal with median 60 s and 5th-95th percentiles 15 s and 600 s, capped at an hour.
func benchJobSeconds(r *rand.Rand) float64 {
	return math.Min(3600, 10.909+math.Exp(math.Log(49.09)+1.5107*r.NormFloat64()))
}

// simulateJob runs the schedule in virtual time against one job that answers status(share of its
// duration d elapsed), and returns the calls made and how long after the end the last one came.
func simulateJob(p PollConfig, d time.Duration, status func(float64) (string, float64), r *rand.Rand) (calls int, lag time.Duration) {
	var s PollHeartbeat
	s.start(p, t0, r.Float64())
	now := s.NextPollAt
	for {
		calls++
		elapsed := now.Sub(t0)
		if elapsed >= d {
			return calls, elapsed - d
		}
		st, percent := status(float64(elapsed) / float64(d))
		s.observe(st, percent, "img", now)
		now = now.Add(s.nextWait(p, r.Float64()))
	}
}

func p95(xs []time.Duration) time.Duration {
	sort.Slice(xs, func(i, j int) bool { return xs[i] < xs[j] })
	return xs[len(xs)*95/100]
}

// The schedule against the emulator's realistic progress (queue wait at 0 %, changing rates,
// stalls, a slow tail, percent floored to two decimals), on 2,000 jobs of the benchmark's
// durations, next to Terraform's fixed schedule (first call after 10 s, then every 10 s) on the
// same jobs: fewer than half the calls, and a 95th-percentile lag no worse. The figures are
// logged (go test -run ScheduleOnRealistic -v ./activities); make bench measures the same on
// the real worker, server and emulator.
func TestScheduleOnRealisticProgress(t *testing.T) {
	p := DefaultPollConfig()
	jobs, jitters := rand.New(rand.NewPCG(7, 11)), rand.New(rand.NewPCG(13, 17)) // the same jobs whatever the schedule draws
	var calls, tfCalls int
	var lags, tfLags []time.Duration
	for i := range 2000 {
		secs := benchJobSeconds(jobs)
		d := time.Duration(secs * float64(time.Second))
		n, lag := simulateJob(p, d, imsemu.RealisticJob(uint64(i)+1), jitters)
		calls, lags = calls+n, append(lags, lag)
		tf := int(math.Ceil(secs / 10))
		tfCalls, tfLags = tfCalls+tf, append(tfLags, time.Duration((float64(tf*10)-secs)*float64(time.Second)))
	}
	ratio := float64(calls) / float64(tfCalls)
	t.Logf("calls per job %.1f, Terraform's %.1f (ratio %.2f); lag p95 %s, Terraform's %s",
		float64(calls)/2000, float64(tfCalls)/2000, ratio, p95(lags).Round(100*time.Millisecond), p95(tfLags).Round(100*time.Millisecond))
	assert.Less(t, ratio, 0.5)
	assert.LessOrEqual(t, p95(lags), p95(tfLags))
}
