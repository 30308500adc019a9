package main

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// The emulator's middleware counts both job-status APIs per job and keeps when the latest call
// came: the one a poller made when it saw the end.
func TestJobCallsKeepTheLatestStatusCall(t *testing.T) {
	c := newJobCalls()
	h := c.wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	before := time.Now()
	for _, path := range []string{"/v1/cloudimages/job/j1", "/v1/p1/jobs/j1", "/v1/cloudimages/j1", "/v1/p1/jobs/j2/x"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, path, nil))
	}
	assert.Equal(t, 2, c.get("j1"), "ShowJobProgress and ShowJob count; other paths do not")
	assert.False(t, c.lastAt("j1").Before(before))
	assert.True(t, c.lastAt("j2").IsZero())
}

func TestNoticeLagIsInJobTime(t *testing.T) {
	end := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	assert.Equal(t, 10*time.Second, noticeLag(end.Add(2*time.Second), end, 5))
	assert.Zero(t, noticeLag(end.Add(-time.Second), end, 5), "a call before the end noticed nothing")
}
