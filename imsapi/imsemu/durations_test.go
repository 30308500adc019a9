package imsemu

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestTypicalJobsHitTheTargets(t *testing.T) {
	d := TypicalJobs
	assert.InDelta(t, 10.909, d.Shift.Seconds(), 0.001)
	assert.InDelta(t, 1.511, d.Sigma, 0.001)
	assert.InDelta(t, 60, d.Quantile(0).Seconds(), 1e-6)
	assert.InDelta(t, 15, d.Quantile(-Z95).Seconds(), 1e-6)
	assert.InDelta(t, 600, d.Quantile(Z95).Seconds(), 1e-6)
}

func TestDrawIsBoundedAndRounded(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		d := TypicalJobs.Draw(r)
		assert.GreaterOrEqual(t, d, MinJobDraw)
		assert.LessOrEqual(t, d, MaxJobDraw)
		assert.Zero(t, d%time.Millisecond)
	}
	// A narrow distribution far below the floor is lifted to it.
	tiny := FitShiftedLogNormal(100*time.Millisecond, 50*time.Millisecond, 300*time.Millisecond)
	assert.Equal(t, MinJobDraw, tiny.Draw(r))
}
