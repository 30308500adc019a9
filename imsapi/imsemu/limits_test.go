package imsemu

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRunningJobLimit(t *testing.T) {
	f := newFixture(t)
	c := f.client(home)
	for i := range 40 {
		c.startCopy(fmt.Sprintf("job-%d", i))
	}
	r := c.do("POST", "/v1/cloudimages/"+SeedImageID+"/copy", copyBody("one-too-many"))
	assert.Equal(t, 400, r.status)
	assert.Equal(t, "IMG.0060", r.code(t))

	f.clock.Advance(testJobDuration) // the running jobs end, freeing the slots
	c.startCopy("after-the-wave")
}

func TestPrivateImageQuota(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Limits.RunningJobsPerProject = -1 })
	c := f.client(home)
	for i := range 49 { // the seed image is the 50th
		c.startCopy(fmt.Sprintf("img-%d", i))
	}
	r := c.do("POST", "/v1/cloudimages/"+SeedImageID+"/copy", copyBody("over-quota"))
	assert.Equal(t, 400, r.status)
	assert.Equal(t, "IMG.0015", r.code(t))

	// The quota is per project and region: the other region still has room.
	cross := map[string]any{"name": "elsewhere", "region": east.Name, "project_name": east.Name, "agency_name": "a"}
	assert.Equal(t, 200, c.do("POST", "/v1/cloudimages/"+SeedImageID+"/cross_region_copy", cross).status)

	// Deleting an image frees quota.
	f.clock.Advance(testJobDuration)
	victim := f.srv.Jobs()[0].ImageID
	require.Equal(t, 204, c.do("DELETE", "/v2/images/"+victim, nil).status)
	c.startCopy("fits-again")
}

func TestCrossRegionCopyLimit(t *testing.T) {
	f := newFixture(t)
	c := f.client(home)
	cross := func(name string) response {
		body := map[string]any{"name": name, "region": east.Name, "project_name": east.Name, "agency_name": "a"}
		return c.do("POST", "/v1/cloudimages/"+SeedImageID+"/cross_region_copy", body)
	}
	for i := range 5 {
		require.Equal(t, 200, cross(fmt.Sprintf("x-%d", i)).status)
	}
	r := cross("sixth")
	assert.Equal(t, 400, r.status)
	assert.Equal(t, "IMG.0149", r.code(t))
	c.startCopy("in-region copies are not limited by it")

	assert.Equal(t, 5, f.srv.PeakCrossRegionCopies(), "five ran at once; the refused sixth never ran")

	f.clock.Advance(testJobDuration)
	assert.Equal(t, 200, cross("after").status)
	assert.Equal(t, 5, f.srv.PeakCrossRegionCopies(), "the peak is kept after the copies end")
	peaks := c.do("GET", "/_emulator/peaks", nil)
	require.Equal(t, 200, peaks.status)
	assert.JSONEq(t, `{"cross_region_copies":5}`, string(peaks.raw))
}

func TestThrottle(t *testing.T) {
	f := newFixture(t, func(c *Config) {
		c.Faults.ThrottlePerSecond = 3
		c.Faults.RetryAfter = 1500 * time.Millisecond
	})
	c := f.client(home)
	for range 3 {
		assert.Equal(t, 200, c.do("GET", "/v2/cloudimages", nil).status)
	}
	r := c.do("GET", "/v2/cloudimages", nil)
	require.Equal(t, 429, r.status)
	body := r.json(t)
	assert.Equal(t, "APIGW.0308", body["error_code"])
	assert.Contains(t, body["error_msg"], "The throttling threshold has been reached")
	assert.Equal(t, r.header.Get("X-Request-Id"), body["request_id"])
	assert.Equal(t, "2", r.header.Get("Retry-After"), "whole seconds, rounded up")

	assert.Equal(t, 200, c.do("GET", "/v2/images/"+SeedImageID, nil).status, "each API has its own bucket")
	f.clock.Advance(time.Second)
	assert.Equal(t, 200, c.do("GET", "/v2/cloudimages", nil).status, "tokens refill with time")
}

func TestThrottleWithoutRetryAfter(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Faults.ThrottlePerSecond = 1 })
	c := f.client(home)
	c.do("GET", "/v2/cloudimages", nil)
	r := c.do("GET", "/v2/cloudimages", nil)
	require.Equal(t, 429, r.status)
	assert.Empty(t, r.header.Get("Retry-After"), "IMS documents no Retry-After; off by default")
}

func TestDuplicateNameKnob(t *testing.T) {
	f := newFixture(t)
	c := f.client(home)
	c.startCopy("twin")
	c.startCopy("twin") // allowed by default, as in the console

	f.srv.SetFaults(Faults{DuplicateNameError: true})
	r := c.do("POST", "/v1/cloudimages/"+SeedImageID+"/copy", copyBody("twin"))
	assert.Equal(t, 400, r.status)
	assert.Equal(t, "IMG.0009", r.code(t))
	c.startCopy("unique")
}
