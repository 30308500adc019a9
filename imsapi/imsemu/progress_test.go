package imsemu

import (
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every drawn curve has the promised shape: a queue at 0 %, then climbs that never go back, a
// slow tail, and the end at exactly 100 % of the duration.
func TestRealisticCurveShape(t *testing.T) {
	stalls := 0
	for seed := uint64(1); seed <= 500; seed++ {
		c := newProgressCurve(seed)
		require.Equal(t, c, newProgressCurve(seed), "the same seed draws the same curve")
		assert.GreaterOrEqual(t, c[0].t, queueShareMin)
		assert.LessOrEqual(t, c[0].t, queueShareMax)
		assert.Zero(t, c[0].p)
		assert.Equal(t, knot{1, 1}, c[len(c)-1])
		tail := c[len(c)-2]
		assert.GreaterOrEqual(t, tail.p, tailStartMin, "the tail starts late in the percentage")
		assert.GreaterOrEqual(t, 1-tail.t, tailShareMin, "and takes a good share of the time")
		// The tail's rate is below the average rate before it: near 100 % IMS crawls.
		assert.Less(t, (1-tail.p)/(1-tail.t), tail.p/(tail.t-c[0].t))
		for i := 1; i < len(c); i++ {
			assert.Greater(t, c[i].t, c[i-1].t)
			assert.GreaterOrEqual(t, c[i].p, c[i-1].p)
			if c[i].p == c[i-1].p {
				stalls++
			}
		}
		assert.Zero(t, c.at(c[0].t/2))
		assert.Equal(t, 1.0, c.at(1))
	}
	assert.Positive(t, stalls, "some curves stall")
}

// A realistic job queues in INIT, runs with a percentage that never goes back and never shows
// 100 % early, and succeeds exactly at its duration, which DurationFor chose by name.
func TestRealisticJobOverTheWire(t *testing.T) {
	durations := map[string]time.Duration{"short": 10 * time.Second, "long": 100 * time.Second}
	f := newFixture(t, func(c *Config) {
		c.Jobs = JobModel{Progress: ProgressRealistic, DurationFor: func(name string) time.Duration { return durations[name] }}
	})
	c := f.client(home)
	short, long := c.startCopy("short"), c.startCopy("long")
	c.startCopy("other")

	assert.Equal(t, "INIT", c.job(long)["status"], "a new job waits in the queue")
	last := 0.0
	for step := 1; step < 100; step++ {
		f.clock.Advance(time.Second)
		job := c.job(long)
		if step < 3 { // the queue is at least 3 % of the job
			assert.Equal(t, "INIT", job["status"])
		}
		if job["status"] == "RUNNING" {
			p := entities(job)["process_percent"].(float64)
			assert.GreaterOrEqual(t, p, last)
			assert.Less(t, p, 1.0)
			last = p
		}
	}
	assert.GreaterOrEqual(t, last, tailStartMin, "by 99 %% of the time the job is in its tail")
	f.clock.Advance(time.Second)
	assert.Equal(t, "SUCCESS", c.job(long)["status"])
	assert.Equal(t, "SUCCESS", c.job(short)["status"])

	byName := map[string]AdminJob{}
	for _, j := range f.srv.Jobs() {
		byName[j.ImageName] = j
	}
	assert.Equal(t, 10*time.Second, byName["short"].Duration)
	assert.Equal(t, 100*time.Second, byName["long"].Duration)
	assert.Equal(t, testJobDuration, byName["other"].Duration, "names DurationFor does not know keep JobDuration")
}

// The curve is drawn from a seed stored with the job, so a restart from the state file shows the
// same percentage at the same instant.
func TestRealisticProgressSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ims.json")
	clock := newFakeClock()
	cfg := Config{JobDuration: 100 * time.Second, Seed: 5, Now: clock.Now, StatePath: path, Jobs: JobModel{Progress: ProgressRealistic}}
	e, err := New(cfg)
	require.NoError(t, err)
	srv := httptest.NewServer(e.Handler(home.Name))
	c := &client{t: t, base: srv.URL, project: home.ProjectID, ak: DefaultAK, sk: DefaultSK, now: clock.Now}
	jobID := c.startCopy("survivor")
	clock.Advance(40 * time.Second)
	before := entities(c.job(jobID))["process_percent"]
	srv.Close()
	require.NoError(t, e.Close())

	e2, err := New(cfg)
	require.NoError(t, err)
	defer e2.Close()
	srv2 := httptest.NewServer(e2.Handler(home.Name))
	defer srv2.Close()
	c.base = srv2.URL
	assert.Equal(t, before, entities(c.job(jobID))["process_percent"])
}

func TestUnknownProgressModelRefused(t *testing.T) {
	_, err := New(Config{Jobs: JobModel{Progress: "bumpy"}})
	require.ErrorContains(t, err, `progress model "bumpy" is unknown`)
}
