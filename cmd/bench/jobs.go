package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// The default job-duration distribution: a shifted log-normal, d = shift + exp(mu + sigma*Z).
// A plain log-normal has two parameters and cannot hit a median of 60 s and a 5th-95th range of
// 15 s-600 s at once (the range is 4x below the median but 10x above it). Adding a shift, a floor
// every copy takes, solves the three conditions exactly:
//
//	shift + a = 60, shift + a/r = 15, shift + a*r = 600, where a = exp(mu), r = exp(1.645*sigma)
//	=> r = (600-60)/(60-15) = 12, a = 45/(1-1/12) = 49.09 s, shift = 10.91 s, sigma = ln 12/1.645 = 1.511.
const (
	medianJob   = 60 * time.Second
	p5Job       = 15 * time.Second
	p95Job      = 600 * time.Second
	z95         = 1.6448536269514722 // the standard normal's 95th percentile
	maxJobDraw  = time.Hour          // longer draws (about 1 in 500) are cut here to bound a run's wall time
	minJobDraw  = time.Second
	jobNameStem = "bench"
)

// shiftedLogNormal is the fitted distribution.
type shiftedLogNormal struct {
	shift     time.Duration
	mu, sigma float64 // of the log of the unshifted part, in seconds
}

// fitShiftedLogNormal solves the three conditions above for any median and 5th/95th percentiles.
func fitShiftedLogNormal(median, p5, p95 time.Duration) shiftedLogNormal {
	m, lo, hi := median.Seconds(), p5.Seconds(), p95.Seconds()
	r := (hi - m) / (m - lo)
	a := (m - lo) / (1 - 1/r)
	return shiftedLogNormal{
		shift: time.Duration((m - a) * float64(time.Second)),
		mu:    math.Log(a),
		sigma: math.Log(r) / z95,
	}
}

// quantile is the duration at standard-normal score z.
func (d shiftedLogNormal) quantile(z float64) time.Duration {
	return d.shift + time.Duration(math.Exp(d.mu+d.sigma*z)*float64(time.Second))
}

// fixedSpread spreads a fixed duration by up to this share either way. Exact durations such as
// 300 s end on the very grid a fixed-interval poller polls on (10 s after the submit, then every
// 10 s), which would give it a lag of a few milliseconds that real jobs never give it.
const fixedSpread = 0.05

// jobDurations draws n job durations (in job time, before scaling) from the seeded default
// distribution, or cycles through fixed, each spread by fixedSpread, when it is not empty.
func jobDurations(n int, seed uint64, fixed []time.Duration) []time.Duration {
	out := make([]time.Duration, n)
	r := rand.New(rand.NewPCG(seed, 0x6a6f62))
	if len(fixed) > 0 {
		for i := range out {
			spread := 1 + fixedSpread*(2*r.Float64()-1)
			out[i] = time.Duration(float64(fixed[i%len(fixed)]) * spread).Round(time.Millisecond)
		}
		return out
	}
	dist := fitShiftedLogNormal(medianJob, p5Job, p95Job)
	for i := range out {
		out[i] = min(max(dist.quantile(r.NormFloat64()), minJobDraw), maxJobDraw).Round(time.Millisecond)
	}
	return out
}

// The warm-up's job durations: short, so that it takes a minute or two at the usual scales, and
// unrelated to the measured ones, so that the calibration learns nothing about those jobs but
// how this cloud's jobs progress.
const (
	warmupStrategy = "warmup"
	warmupShortest = 20 * time.Second
	warmupLongest  = 120 * time.Second
)

// warmupDurations draws the warm-up's n job durations (job time) from their own seeded stream.
func warmupDurations(n int, seed uint64) []time.Duration {
	r := rand.New(rand.NewPCG(seed, 0x7761726d))
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = (warmupShortest + time.Duration(r.Float64()*float64(warmupLongest-warmupShortest))).Round(time.Millisecond)
	}
	return out
}

// parseDurations reads -job-duration's comma list, e.g. "10s,60s,300s".
func parseDurations(s string) ([]time.Duration, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []time.Duration
	for _, part := range strings.Split(s, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(part))
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("-job-duration %q: want positive durations like 10s,60s,300s", s)
		}
		out = append(out, d)
	}
	return out, nil
}

// copyName is the image name (and, with the strategy, the workflow ID) of copy i. The emulator
// gives every copy named "...-<i>" the i-th duration, whichever strategy runs it.
func copyName(strategy string, i int) string {
	return fmt.Sprintf("%s-%s-%d", jobNameStem, strategy, i)
}

// copyIndex is the inverse of copyName: the index, or -1 for a name the bench did not make.
func copyIndex(name string) int {
	if !strings.HasPrefix(name, jobNameStem+"-") {
		return -1
	}
	i, err := strconv.Atoi(name[strings.LastIndexByte(name, '-')+1:])
	if err != nil {
		return -1
	}
	return i
}

// strategyOf is the strategy named in a copy's name or workflow ID, "" if none.
func strategyOf(name string) string {
	rest, ok := strings.CutPrefix(name, jobNameStem+"-")
	if !ok {
		return ""
	}
	if i := strings.LastIndexByte(rest, '-'); i > 0 {
		return rest[:i]
	}
	return ""
}
