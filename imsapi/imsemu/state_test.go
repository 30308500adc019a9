package imsemu

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Stop the emulator mid-job with a state file, start it again: the job finishes on its clock.
func TestRestartContinuesJobs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ims.json")
	clock := newFakeClock()
	cfg := Config{JobDuration: testJobDuration, Seed: 3, Now: clock.Now, StatePath: path}

	e, err := New(cfg)
	require.NoError(t, err)
	srv := httptest.NewServer(e.Handler(home.Name))
	c := &client{t: t, base: srv.URL, project: home.ProjectID, ak: DefaultAK, sk: DefaultSK, now: clock.Now}
	jobID := c.startCopy("survivor")
	clock.Advance(testJobDuration / 2)
	assert.Equal(t, "RUNNING", c.job(jobID)["status"])
	srv.Close()
	require.NoError(t, e.Close())
	info, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())

	e2, err := New(cfg)
	require.NoError(t, err)
	defer e2.Close()
	srv2 := httptest.NewServer(e2.Handler(home.Name))
	defer srv2.Close()
	c.base = srv2.URL

	job := c.job(jobID)
	assert.Equal(t, "RUNNING", job["status"], "the job continues where its clock is")
	assert.InDelta(t, 0.5, entities(job)["process_percent"], 0.001)
	clock.Advance(testJobDuration / 2)
	job = c.job(jobID)
	assert.Equal(t, "SUCCESS", job["status"])
	assert.Equal(t, "active", c.image(entities(job)["image_id"].(string))["status"])

	images := e2.Images()
	require.Len(t, images, 2, "the seed is not created again on restart")
	secondID := c.startCopy("after-restart")
	assert.NotEqual(t, jobID, secondID, "a restarted emulator does not reuse IDs")
}

func TestStateFileWrittenAfterChanges(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ims.json")
	clock := newFakeClock()
	e, err := New(Config{Now: clock.Now, StatePath: path})
	require.NoError(t, err)
	srv := httptest.NewServer(e.Handler(home.Name))
	defer srv.Close()
	c := &client{t: t, base: srv.URL, project: home.ProjectID, ak: DefaultAK, sk: DefaultSK, now: clock.Now}
	c.startCopy("persisted-soon")
	require.Eventually(t, func() bool {
		st, found, err := loadState(path)
		return err == nil && found && len(st.Images) == 2
	}, 5*time.Second, 10*time.Millisecond, "the writer saves a change without waiting for Close")
	require.NoError(t, e.Close())
}

func TestBadStateFileIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ims.json")
	require.NoError(t, os.WriteFile(path, []byte("not json"), 0o600))
	_, err := New(Config{StatePath: path})
	assert.ErrorContains(t, err, "delete it or choose another state path")
}
