package activities

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imscopy/imscopy/imsapi/imsemu"
)

func TestJobEndIsKeptBetweenTheLastTwoCalls(t *testing.T) {
	running, done := t0, t0.Add(10*time.Second)
	for _, c := range []struct {
		endTime string
		want    time.Time
	}{
		{"2026-11-26T06:00:04.500Z", t0.Add(4500 * time.Millisecond)},
		{"2026-11-26T05:59:00.000Z", running}, // IMS's clock behind ours
		{"2026-11-26T06:01:00.000Z", done},    // ahead
	} {
		end, ok := jobEnd(c.endTime, running, done)
		require.True(t, ok, c.endTime)
		assert.Equal(t, c.want, end, c.endTime)
	}
	_, ok := jobEnd("", running, done)
	assert.False(t, ok, "no end time")
	_, ok = jobEnd("2026-11-26T06:00:04.500Z", time.Time{}, done)
	assert.False(t, ok, "no call found it running")
}

var t0 = time.Date(2026, 11, 26, 6, 0, 0, 0, time.UTC)

// PollJob feeds the worker's calibration from a real job's end, over HTTP.
func TestPollJobLearnsFromTheJobsEnd(t *testing.T) {
	clock := newIMSClock()
	srv, a := startIMS(t, imsemu.Config{JobDuration: time.Minute, Now: clock.Now})
	a.Calibration = NewCalibration()
	jobID := submit(t, a, "golden-learn")
	// Each read of the job moves IMS's clock on by a quarter of the job, however long PollJob
	// waits: it finds the job queued, then copying three times, then done.
	clock.step(srv, imsemu.RouteShowJobProgress, 15*time.Second)

	v, err := newActivityEnv(a).ExecuteActivity(a.PollJob, PollJobInput{Region: home, JobID: jobID})
	res := pollResult(t, v, err)

	assert.Equal(t, "SUCCESS", res.Status)
	total := 0
	for stage, w := range a.Calibration.Stages() {
		total += len(w.Ratios)
		if len(w.Ratios) > 0 {
			assert.Equal(t, 1, w.Copies, "stage %d: one copy taught it", stage)
		}
		for _, r := range w.Ratios {
			assert.Positive(t, r, "stage %d", stage)
		}
	}
	assert.Positive(t, total, "the job's forecasts were learned")
}
