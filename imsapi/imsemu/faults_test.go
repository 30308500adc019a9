package imsemu

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptrace"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLostResponse(t *testing.T) {
	f := newFixture(t, func(c *Config) {
		c.Faults.Routes = map[string]RouteFault{RouteCopyInRegion: {LostResponseRate: 1}}
	})
	c := f.client(home)
	_, err := http.DefaultClient.Do(c.request("POST", "/v1/cloudimages/"+SeedImageID+"/copy", copyBody("lost")))
	require.Error(t, err, "the connection closes without a response")

	copies := 0
	for _, img := range f.srv.Images() {
		if img.Name == "lost" {
			copies++
		}
	}
	assert.Equal(t, 1, copies, "the copy took effect exactly once")
	assert.Equal(t, 1, countOf(f.srv.Counts(), home.Name, RouteCopyInRegion, 0), "lost responses count as status 0")
}

func TestInjectedErrors(t *testing.T) {
	f := newFixture(t)
	c := f.client(home)
	f.srv.SetFaults(Faults{Routes: map[string]RouteFault{
		RouteAll:             {ErrorRate: 1, ErrorStatus: 503, ErrorCode: "APIGW.0201"},
		RouteCopyInRegion:    {ErrorRate: 1, ErrorStatus: 400, ErrorCode: "IMG.0060"},
		RouteGlanceShowImage: {},
	}})

	r := c.do("POST", "/v1/cloudimages/"+SeedImageID+"/copy", copyBody("refused"))
	assert.Equal(t, 400, r.status)
	assert.Equal(t, "IMG.0060", r.json(t)["error"].(map[string]any)["code"], "IMS codes get IMS's body")

	r = c.do("GET", "/v2/cloudimages", nil)
	assert.Equal(t, 503, r.status, "\"*\" covers routes without their own entry")
	body := r.json(t)
	assert.Equal(t, "APIGW.0201", body["error_code"], "APIGW codes get the gateway's body")
	assert.Equal(t, r.header.Get("X-Request-Id"), body["request_id"])

	assert.Equal(t, 200, c.do("GET", "/v2/images/"+SeedImageID, nil).status, "a route's own entry overrides \"*\"")
	for _, img := range f.srv.Images() {
		assert.NotEqual(t, "refused", img.Name, "an injected error is answered instead of serving")
	}
}

func TestInjectedThrottle(t *testing.T) {
	f := newFixture(t, func(c *Config) {
		c.Faults.Routes = map[string]RouteFault{RouteAll: {ThrottleRate: 1}}
	})
	r := f.client(home).do("GET", "/v2/images/"+SeedImageID, nil)
	assert.Equal(t, 429, r.status)
	assert.Equal(t, "APIGW.0308", r.json(t)["error_code"], "throttling is the gateway's answer")
}

func TestInjectedErrorDefaults(t *testing.T) {
	f := newFixture(t, func(c *Config) {
		c.Faults.Routes = map[string]RouteFault{RouteListImages: {ErrorRate: 1, ErrorStatus: 429}}
		c.Faults.RetryAfter = 3 * time.Second
	})
	r := f.client(home).do("GET", "/v2/cloudimages", nil)
	assert.Equal(t, 429, r.status)
	assert.Equal(t, "APIGW.0308", r.code(t))
	assert.Equal(t, "3", r.header.Get("Retry-After"))
}

func TestInjectedErrorRateIsSeeded(t *testing.T) {
	outcomes := func() []int {
		f := newFixture(t, func(c *Config) {
			c.Faults.Routes = map[string]RouteFault{RouteListImages: {ErrorRate: 0.5, ErrorStatus: 500}}
		})
		c := f.client(home)
		var out []int
		for range 20 {
			out = append(out, c.do("GET", "/v2/cloudimages", nil).status)
		}
		return out
	}
	first := outcomes()
	assert.Equal(t, first, outcomes(), "the same seed gives the same faults")
	assert.Contains(t, first, 500)
	assert.Contains(t, first, 200)
}

func TestLatencyHonoursCancellation(t *testing.T) {
	f := newFixture(t, func(c *Config) {
		c.Faults.Routes = map[string]RouteFault{RouteShowJobProgress: {Latency: time.Hour}}
	})
	c := f.client(home)
	jobID := c.startCopy("slow")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Leave once the request is on the wire, so the emulator is waiting when the client goes.
	trace := &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { cancel() }}
	req := c.request("GET", "/v1/cloudimages/job/"+jobID, nil).WithContext(httptrace.WithClientTrace(ctx, trace))
	_, err := http.DefaultClient.Do(req)
	require.Error(t, err)
	require.Eventually(t, func() bool {
		return countOf(f.srv.Counts(), home.Name, RouteShowJobProgress, statusClientGone) == 1
	}, 5*time.Second, 10*time.Millisecond, "the emulator stops waiting when the client leaves")
}

func TestVisibilityDelay(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Faults.VisibilityDelay = 5 * time.Second })
	c := f.client(home)
	c.startCopy("eventually")
	listed := func() int {
		return len(c.do("GET", "/v2/cloudimages?name=eventually", nil).json(t)["images"].([]any))
	}
	assert.Equal(t, 0, listed(), "not yet visible in the list")
	f.clock.Advance(5 * time.Second)
	assert.Equal(t, 1, listed())
}

func TestAdminAPI(t *testing.T) {
	f := newFixture(t)
	admin := AdminClient{BaseURL: f.srv.Endpoints()[east.Name]} // any region's listener serves it
	ctx := context.Background()
	want := Faults{
		Routes: map[string]RouteFault{
			RouteAll:          {ErrorRate: 0.25, ErrorStatus: 503, ErrorCode: "APIGW.0201", Latency: 1500 * time.Millisecond},
			RouteCopyInRegion: {LostResponseRate: 0.5, ThrottleRate: 0.1},
		},
		JobFailureRate: 0.1, MemberFailureRate: 0.2, VisibilityDelay: 2 * time.Second, RetryAfter: time.Second,
		DuplicateNameError: true, ThrottlePerSecond: 50,
	}
	require.NoError(t, admin.SetFaults(ctx, want))
	got, err := admin.Faults(ctx)
	require.NoError(t, err)
	assert.Equal(t, want, got)
	assert.Equal(t, want, f.srv.Faults())

	raw, err := json.Marshal(want)
	require.NoError(t, err)
	assert.Contains(t, string(raw), `"latency":"1.5s"`, "durations are Go duration strings")

	err = admin.SetFaults(ctx, Faults{JobFailureRate: 2})
	assert.ErrorContains(t, err, "between 0 and 1")
	req, _ := http.NewRequest("PUT", admin.BaseURL+"/_emulator/faults", jsonReader(`{"routes":{"NoSuchRoute":{}}}`))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 400, resp.StatusCode)

	f.srv.SetFaults(Faults{})
	c := f.client(home)
	c.startCopy("observed")
	images, err := admin.Images(ctx)
	require.NoError(t, err)
	require.Len(t, images, 2)
	assert.Equal(t, SeedImageID, images[0].ID)
	assert.Equal(t, "observed", images[1].Name)
	assert.Equal(t, SeedImageID, images[1].OriginalImageName)
	assert.Equal(t, "queued", images[1].Status)

	jobs, err := admin.Jobs(ctx)
	require.NoError(t, err)
	require.Len(t, jobs, 1)
	assert.Equal(t, images[1].ID, jobs[0].ImageID)
	assert.Equal(t, home.Name, jobs[0].Region)

	counts, err := admin.Counts(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, countOf(counts, home.Name, RouteCopyInRegion, 200))

	rawImages := getJSON(t, admin.BaseURL+"/_emulator/images")
	first := rawImages.([]any)[1].(map[string]any)
	for _, key := range []string{"id", "name", "region", "owner", "status", "original_image_name", "data_origin", "cmk_id", "created_at"} {
		assert.Contains(t, first, key)
	}
}
