package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imscopy/imscopy/imsapi/imsemu"
)

func TestLowerBoundIsTheLongestJobOrTheSharedTotal(t *testing.T) {
	s := time.Second
	assert.Equal(t, 100*s, lowerBound([]time.Duration{100 * s, 10 * s, 10 * s}, 5), "one long job")
	assert.Equal(t, 60*s, lowerBound([]time.Duration{50 * s, 50 * s, 50 * s, 50 * s, 50 * s, 50 * s}, 5), "300 s over 5 slots")
}

// Every plan the bench deals is one the workflow accepts, with each target once, under its own
// name (which gives the emulator its duration), in a region other than the source's.
func TestPromotionPlansAreValidAndCoverEveryTarget(t *testing.T) {
	o, err := parsePromotionFlags([]string{"-targets", "14", "-promotions", "4"})
	require.NoError(t, err)
	plans := promotionPlans(o, runnerImscopy)
	require.Len(t, plans, 4)
	seen := map[int]bool{}
	for _, p := range plans {
		require.NoError(t, p.Validate())
		for _, tg := range p.Targets {
			assert.NotEqual(t, p.Source.Region, tg.Region)
			assert.Equal(t, runnerImscopy, strategyOf(tg.Name))
			seen[copyIndex(tg.Name)] = true
		}
	}
	assert.Len(t, seen, 14)
}

func TestReleaseDurationsFollowTheRegionAndStayInTheirSpread(t *testing.T) {
	o, err := parsePromotionFlags([]string{"-targets", "30", "-image-copy", "600s"})
	require.NoError(t, err)
	d := promotionDurations(o)
	require.Len(t, d, 30)
	for i, got := range d {
		want := 600 * regionFactors[i%len(regionFactors)]
		assert.InDelta(t, want, got.Seconds(), want*releaseSpread+0.001, "target %d in %s", i, targetRegion(i))
	}
	assert.Equal(t, d, promotionDurations(o), "seeded")
}

// A slot freed at 10 s and taken at 14 s is a 4 s hand-off; copies of the first wave waited for none.
func TestMeanHandoff(t *testing.T) {
	t0 := time.Unix(0, 0)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	jobs := []imsemu.AdminJob{
		{Begin: at(0), End: at(10)}, {Begin: at(0), End: at(20)},
		{Begin: at(14), End: at(30)}, {Begin: at(21), End: at(40)},
	}
	assert.Equal(t, 2500*time.Millisecond, meanHandoff(jobs, 2))
	assert.Equal(t, time.Duration(0), meanHandoff(jobs, 4))
}

func TestPromotionFlagsRefuseWhatCannotRun(t *testing.T) {
	for _, args := range [][]string{{"-targets", "0"}, {"-runners", "terraform"}, {"-job-model", "gaussian"}, {"-scale", "0"}, {"extra"}} {
		_, err := parsePromotionFlags(args)
		assert.Error(t, err, "%v", args)
	}
}
