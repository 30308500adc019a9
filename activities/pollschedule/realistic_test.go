package pollschedule

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/imscopy/imscopy/imsapi/imsemu"
	"github.com/imscopy/imscopy/internal/rank"
)

// benchJobSeconds draws a job duration from make bench's distribution, imsemu.TypicalJobs.
func benchJobSeconds(r *rand.Rand) float64 {
	return imsemu.TypicalJobs.Draw(r).Seconds()
}

// simulateJob runs the schedule in virtual time against one job that answers status(share of its
// duration d elapsed), and returns the calls made and how long after the end the last one came.
// A calibration, when given, learns from the job's end as PollJob's does.
func simulateJob(p Config, c *Calibration, d time.Duration, status func(float64) (string, float64), r *rand.Rand) (calls int, lag time.Duration) {
	cp := &benchCopy{d: d, status: status}
	runTogether(p, c, []*benchCopy{cp}, r)
	return cp.calls, cp.lag
}

// terraform is Terraform's provider on a job of d: a call 10 s after the start, then every 10 s
// until one sees the end.
func terraform(d time.Duration) (calls int, lag time.Duration) {
	calls = int(math.Ceil(d.Seconds() / 10))
	return calls, time.Duration(calls)*10*time.Second - d
}

func p95(xs []time.Duration) time.Duration { return percentile(xs, 95) }

// percentile sorts xs and takes its percentile as make bench reports it (nearest rank).
func percentile(xs []time.Duration, p int) time.Duration {
	slices.Sort(xs)
	return rank.Percentile(xs, float64(p))
}

// realisticRun is the schedule on n jobs of the benchmark's durations and the realistic model,
// next to Terraform's fixed schedule (first call after 10 s, then every 10 s) on the same jobs.
type realisticRun struct {
	calls, tfCalls int
	lags, tfLags   []time.Duration
}

func runRealistic(p Config, c *Calibration, n int, seed uint64) realisticRun {
	jobs, jitters := rand.New(rand.NewPCG(seed, 11)), rand.New(rand.NewPCG(seed, 17)) // the same jobs whatever the schedule draws
	var run realisticRun
	for i := range n {
		secs := benchJobSeconds(jobs)
		d := time.Duration(secs * float64(time.Second))
		calls, lag := simulateJob(p, c, d, imsemu.RealisticJob(seed*1_000_000+uint64(i)+1), jitters)
		tfCalls, tfLag := terraform(d)
		run.calls, run.lags = run.calls+calls, append(run.lags, lag)
		run.tfCalls, run.tfLags = run.tfCalls+tfCalls, append(run.tfLags, tfLag)
	}
	return run
}

func (r realisticRun) ratio() float64 { return float64(r.calls) / float64(r.tfCalls) }

func (r realisticRun) String() string {
	n := float64(len(r.lags))
	return fmt.Sprintf("calls per job %.2f, Terraform's %.2f (ratio %.3f); lag p95 %s, Terraform's %s; p99 %s, Terraform's %s",
		float64(r.calls)/n, float64(r.tfCalls)/n, r.ratio(), p95(r.lags).Round(100*time.Millisecond), p95(r.tfLags).Round(100*time.Millisecond),
		percentile(r.lags, 99).Round(100*time.Millisecond), percentile(r.tfLags, 99).Round(100*time.Millisecond))
}

// The schedule against the emulator's realistic progress (queue wait at 0 %, changing rates,
// stalls, a slow tail, percent floored to two decimals), on 2,000 jobs of the benchmark's
// durations, for three seeds of jobs. By its rule alone (a fresh worker): fewer than half of
// Terraform's calls, and 95th- and 99th-percentile lags no worse. Once the calibration has learned
// from 2,000 earlier jobs: at most a third of Terraform's calls, still with both lags no worse.
// The figures are logged (go test -run ScheduleOnRealistic -v ./activities); make bench measures
// the same on the real worker, server and emulator.
func TestScheduleOnRealisticProgress(t *testing.T) {
	p := DefaultConfig()
	for _, seed := range []uint64{7, 11, 21} {
		rule := runRealistic(p, nil, 2000, seed)
		t.Logf("seed %d, rule alone: %s", seed, rule)
		assert.Less(t, rule.ratio(), 0.5)
		assert.LessOrEqual(t, p95(rule.lags), p95(rule.tfLags))
		assert.LessOrEqual(t, percentile(rule.lags, 99), percentile(rule.tfLags, 99), "seed %d: the rule's late tail", seed)

		c := NewCalibration()
		runRealistic(p, c, 2000, seed+1)
		learned := runRealistic(p, c, 2000, seed)
		t.Logf("seed %d, calibrated on 2,000 earlier jobs: %s", seed, learned)
		assert.LessOrEqual(t, learned.ratio(), 1.0/3)
		assert.LessOrEqual(t, p95(learned.lags), p95(learned.tfLags))
		// Aiming at a low quantile lets a few calls come after the end: the calls saved must
		// not be paid for with a longer tail of late notices than Terraform's.
		assert.LessOrEqual(t, percentile(learned.lags, 99), percentile(learned.tfLags, 99), "seed %d: the calibrated late tail", seed)
	}
}

// benchCopy is one simulated copy: its job, and its PollJob's state.
type benchCopy struct {
	d         time.Duration
	status    func(float64) (string, float64)
	s         Heartbeat
	forecasts []Forecast
	next      time.Duration // since the copies started: when its next call is due
	calls     int
	lag       time.Duration
	done      bool
}

// runTogether runs copies that all started at once, as make bench starts them, in virtual time:
// calls are made in time order, and the calibration learns from a copy when its end is seen, so
// that a long copy plans with only what the copies that ended before its call taught.
func runTogether(p Config, c *Calibration, copies []*benchCopy, r *rand.Rand) {
	for _, cp := range copies {
		cp.s.Start(p, t0, r.Float64())
		cp.next = cp.s.NextPollAt.Sub(t0)
	}
	for {
		var cur *benchCopy
		for _, cp := range copies {
			if !cp.done && (cur == nil || cp.next < cur.next) {
				cur = cp
			}
		}
		if cur == nil {
			return
		}
		cur.calls++
		if cur.next >= cur.d {
			cur.done, cur.lag = true, cur.next-cur.d
			c.Learn(cur.forecasts, t0.Add(cur.d))
			continue
		}
		st, percent := cur.status(float64(cur.next) / float64(cur.d))
		cur.s.Observe(st, percent, "img", t0.Add(cur.next))
		wait, f, ok := cur.s.NextWait(p, c, r.Float64())
		if ok {
			cur.forecasts = append(cur.forecasts, f)
		}
		cur.next += wait
	}
}

// benchLikeRun is one make bench run of the schedule in virtual time: a worker first watches the
// warm-up's 300 copies of 20-120 s to their end, then 200 copies of the benchmark's durations
// start at once, next to Terraform's schedule on the same jobs. Both lags get the same
// distribution of Temporal's overhead (the workflow's close after the last call; a log-normal of
// median 1 s), which the real bench adds too and which spreads both tails alike.
func benchLikeRun(p Config, seed uint64) realisticRun {
	c := NewCalibration()
	durations, jitters := rand.New(rand.NewPCG(seed, 5)), rand.New(rand.NewPCG(seed, 17))
	warmup := make([]*benchCopy, 300)
	for i := range warmup {
		d := time.Duration((20 + 100*durations.Float64()) * float64(time.Second))
		warmup[i] = &benchCopy{d: d, status: imsemu.RealisticJob(seed*1_000_000 + 500_000 + uint64(i))}
	}
	runTogether(p, c, warmup, jitters)

	jobs, overheads := rand.New(rand.NewPCG(seed, 11)), rand.New(rand.NewPCG(seed, 23))
	copies := make([]*benchCopy, 200)
	for i := range copies {
		d := time.Duration(benchJobSeconds(jobs) * float64(time.Second))
		copies[i] = &benchCopy{d: d, status: imsemu.RealisticJob(seed*1_000_000 + uint64(i) + 1)}
	}
	runTogether(p, c, copies, jitters)
	overhead := func() time.Duration {
		return time.Duration(math.Exp(0.5*overheads.NormFloat64()) * float64(time.Second))
	}
	var run realisticRun
	for _, cp := range copies {
		tfCalls, tfLag := terraform(cp.d)
		run.calls, run.tfCalls = run.calls+cp.calls, run.tfCalls+tfCalls
		run.lags = append(run.lags, cp.lag+overhead())
		run.tfLags = append(run.tfLags, tfLag+overhead())
	}
	return run
}

// make bench compares adaptive with Terraform on one run of 200 copies, whose few long jobs and
// few late calls move its call ratio and its p99 lag from seed to seed. This runs 200 such runs
// in virtual time and logs how many single runs meet each of issue 13's goals (calls at most a
// third of Terraform's, p95 and p99 lag at most Terraform's), which is what one make bench seed
// can show (docs/benchmarks.md). The median run keeps at most a third of Terraform's calls and a
// p95 and a p99 no worse than Terraform's; single runs still miss one goal or another, the calls
// most often (a run's few long jobs decide Terraform's count).
func TestScheduleInRunsLikeMakeBench(t *testing.T) {
	const runs = 200
	var ratios, p95s, p99s []float64 // p95 and p99: adaptive's minus Terraform's, in seconds
	ratioMissed, p95Missed, p99Missed, allMet := 0, 0, 0, 0
	for run := range runs {
		r := benchLikeRun(DefaultConfig(), uint64(2000+run))
		d95 := (p95(r.lags) - p95(r.tfLags)).Seconds()
		d99 := (percentile(r.lags, 99) - percentile(r.tfLags, 99)).Seconds()
		ratios, p95s, p99s = append(ratios, r.ratio()), append(p95s, d95), append(p99s, d99)
		if r.ratio() > 1.0/3 {
			ratioMissed++
		}
		if d95 > 0 {
			p95Missed++
		}
		if d99 > 0 {
			p99Missed++
		}
		if r.ratio() <= 1.0/3 && d95 <= 0 && d99 <= 0 {
			allMet++
		}
	}
	median := func(xs []float64) float64 { sort.Float64s(xs); return xs[len(xs)/2] }
	t.Logf("%d runs of 200 copies started together after a 300-copy warm-up: median call ratio %.3f (above 1/3 in %d runs); p95 lag minus Terraform's: median %+.2f s (above 0 in %d runs); p99: median %+.2f s (above 0 in %d runs); all three goals met in %d runs",
		runs, median(ratios), ratioMissed, median(p95s), p95Missed, median(p99s), p99Missed, allMet)
	assert.LessOrEqual(t, median(ratios), 1.0/3)
	assert.LessOrEqual(t, median(p95s), 0.0)
	assert.LessOrEqual(t, median(p99s), 0.0)
}
