package main

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imscopy/imscopy/imsapi/imsemu"
)

func TestJobDurationsFollowTheDistribution(t *testing.T) {
	ds := jobDurations(20000, 7, nil)
	require.Equal(t, ds, jobDurations(20000, 7, nil), "the same seed gives the same jobs")
	assert.NotEqual(t, ds[:10], jobDurations(10, 8, nil), "another seed gives other jobs")
	sorted := slices.Clone(ds)
	slices.Sort(sorted)
	at := func(p float64) float64 { return sorted[int(p*float64(len(sorted)))].Seconds() }
	assert.InDelta(t, 15, at(0.05), 1.5)
	assert.InDelta(t, 60, at(0.50), 4)
	assert.InDelta(t, 600, at(0.95), 60)
	assert.LessOrEqual(t, sorted[len(sorted)-1], imsemu.MaxJobDraw)
}

func TestFixedDurationsCycle(t *testing.T) {
	fixed, err := parseDurations("10s, 60s,300s")
	require.NoError(t, err)
	got := jobDurations(4, 1, fixed[:2])
	for i, want := range []time.Duration{10 * time.Second, time.Minute, 10 * time.Second, time.Minute} {
		assert.InDelta(t, want.Seconds(), got[i].Seconds(), want.Seconds()*fixedSpread)
	}
	assert.NotEqual(t, got[0], got[2], "exact durations are spread")
	_, err = parseDurations("10s,soon")
	assert.ErrorContains(t, err, "want positive durations")
}

func TestCopyNamesCarryStrategyAndIndex(t *testing.T) {
	for _, s := range allStrategies {
		name := copyName(s, 42)
		assert.Equal(t, s, strategyOf(name))
		assert.Equal(t, 42, copyIndex(name))
	}
	assert.Equal(t, -1, copyIndex("golden-centos-7.9"))
	assert.Equal(t, "", strategyOf("golden-centos-7.9"))
}

// The draws themselves are pinned: a bench run is comparable with an earlier one of the same seed
// only while the same seed gives the same jobs, to the millisecond.
func TestJobDurationDrawsArePinned(t *testing.T) {
	ms := func(ds ...int64) []time.Duration {
		out := make([]time.Duration, len(ds))
		for i, d := range ds {
			out[i] = time.Duration(d) * time.Millisecond
		}
		return out
	}
	assert.Equal(t, ms(34576, 89819, 24469, 24292, 16682, 61124), jobDurations(6, 1, nil))
	assert.Equal(t, ms(289891, 301934, 300799), jobDurations(3, 7, []time.Duration{300 * time.Second}))
	assert.Equal(t, ms(114296, 45711, 100059), warmupDurations(3, 1))
	ds := jobDurations(20000, 7, nil)
	assert.Equal(t, ms(13843, 30565), []time.Duration{ds[19999], ds[12345]})
}
