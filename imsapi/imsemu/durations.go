package imsemu

import (
	"math"
	"math/rand/v2"
	"time"
)

// TypicalJobs is the distribution of copy-job durations imscopy's benchmarks and schedule tests
// draw from: a median of a minute, with 5th and 95th percentiles of 15 s and 10 minutes. It is a
// working assumption about IMS, not a measurement of it (docs/benchmarks.md). Each job's progress
// within its duration is the progress model's (ProgressRealistic); a benchmark gives the emulator
// the durations it drew through JobModel.DurationFor.
//
// Its numbers are part of every benchmark's comparability: the same seed must keep giving the
// same durations, so neither the parameters nor the way a draw is made may change
// (cmd/bench's TestJobDurationDrawsArePinned).
var TypicalJobs = FitShiftedLogNormal(TypicalJobMedian, typicalJobP5, typicalJobP95)

const (
	// TypicalJobMedian is TypicalJobs' median, also the duration of a job the benchmark did not
	// draw for (a promotion's intermediate images).
	TypicalJobMedian = 60 * time.Second
	typicalJobP5     = 15 * time.Second
	typicalJobP95    = 600 * time.Second

	// MinJobDraw and MaxJobDraw bound a draw. The upper cut (about 1 draw in 500) bounds a
	// benchmark's wall time.
	MinJobDraw = time.Second
	MaxJobDraw = time.Hour

	// Z95 is the standard normal's 95th percentile.
	Z95 = 1.6448536269514722
)

// ShiftedLogNormal is the distribution of d = Shift + exp(Mu + Sigma*Z), Z standard normal, in
// seconds. A plain log-normal has two parameters and cannot have a given median and 5th-95th
// range at once when the range is lopsided (15 s is 4x below a 60 s median, 600 s is 10x above
// it); the shift, a floor every job takes, is the third parameter that makes it fit exactly.
type ShiftedLogNormal struct {
	Shift     time.Duration
	Mu, Sigma float64 // of the log of the unshifted part, in seconds
}

// FitShiftedLogNormal is the ShiftedLogNormal with the given median and 5th and 95th percentiles.
// With a = exp(Mu) and r = exp(Z95*Sigma) the three conditions are
//
//	Shift + a = median, Shift + a/r = p5, Shift + a*r = p95
//	=> r = (p95-median)/(median-p5), a = (median-p5)/(1-1/r), Shift = median - a.
//
// For TypicalJobs: r = 12, a = 49.09 s, Shift = 10.91 s, Sigma = ln 12/Z95 = 1.511.
func FitShiftedLogNormal(median, p5, p95 time.Duration) ShiftedLogNormal {
	m, lo, hi := median.Seconds(), p5.Seconds(), p95.Seconds()
	r := (hi - m) / (m - lo)
	a := (m - lo) / (1 - 1/r)
	return ShiftedLogNormal{
		Shift: time.Duration((m - a) * float64(time.Second)),
		Mu:    math.Log(a),
		Sigma: math.Log(r) / Z95,
	}
}

// Quantile is the duration at standard-normal score z.
func (d ShiftedLogNormal) Quantile(z float64) time.Duration {
	return d.Shift + time.Duration(math.Exp(d.Mu+d.Sigma*z)*float64(time.Second))
}

// Draw is one duration drawn with r (one NormFloat64), kept within MinJobDraw..MaxJobDraw and
// rounded to the millisecond.
func (d ShiftedLogNormal) Draw(r *rand.Rand) time.Duration {
	return min(max(d.Quantile(r.NormFloat64()), MinJobDraw), MaxJobDraw).Round(time.Millisecond)
}
