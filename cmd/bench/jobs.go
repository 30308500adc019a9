package main

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/imscopy/imscopy/imsapi/imsemu"
)

// jobNameStem begins the name of every copy the bench makes.
const jobNameStem = "bench"

// fixedSpread spreads a fixed duration by up to this share either way. Exact durations such as
// 300 s end on the very grid a fixed-interval poller polls on (10 s after the submit, then every
// 10 s), which would give it a lag of a few milliseconds that real jobs never give it.
const fixedSpread = 0.05

// jobDurations draws n job durations (in job time, before scaling) from imsemu.TypicalJobs, or cycles through fixed, each spread by fixedSpread, when it is not empty.
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
	for i := range out {
		out[i] = imsemu.TypicalJobs.Draw(r)
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
