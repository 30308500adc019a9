package imsemu

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/imscopy/imscopy/internal/testkit"
)

// newFakeClock is the emulator's injected clock, standing at the seed example's time: tests move
// it instead of sleeping.
func newFakeClock() *testkit.Clock {
	return testkit.NewClock(time.Date(2026, 11, 26, 6, 14, 27, 168_000_000, time.UTC))
}

const testJobDuration = 10 * time.Second

var (
	home = DefaultRegions[0]
	east = DefaultRegions[1]
)

// fixture is a running two-region emulator on loopback with a fake clock.
type fixture struct {
	t     *testing.T
	clock *testkit.Clock
	srv   *Server
}

func newFixture(t *testing.T, mutate ...func(*Config)) *fixture {
	t.Helper()
	clock := newFakeClock()
	cfg := Config{JobDuration: testJobDuration, Seed: 7, Now: clock.Now, Logf: t.Logf}
	for _, m := range mutate {
		m(&cfg)
	}
	srv, err := Start(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, srv.Close()) })
	return &fixture{t: t, clock: clock, srv: srv}
}

// client signs like the official Go SDK: user-agent, x-project-id and x-sdk-date, JSON bodies
// written by json.Encoder (so they end in "\n").
type client struct {
	t       testing.TB
	base    string
	project string
	ak, sk  string
	now     func() time.Time
}

func (f *fixture) client(region Region) *client {
	return &client{t: f.t, base: f.srv.Endpoints()[region.Name], project: region.ProjectID,
		ak: DefaultAK, sk: DefaultSK, now: f.clock.Now}
}

// response is an answer with its body decoded loosely.
type response struct {
	status int
	header http.Header
	raw    []byte
}

func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.raw, &m), "body: %s", r.raw)
	return m
}

// code returns the error code of either error format.
func (r response) code(t testing.TB) string {
	m := r.json(t)
	if c, ok := m["error_code"].(string); ok {
		return c
	}
	if e, ok := m["error"].(map[string]any); ok {
		return e["code"].(string)
	}
	return ""
}

func sdkBody(t testing.TB, v any) []byte {
	switch b := v.(type) {
	case nil:
		return nil
	case []byte:
		return b
	case string:
		return []byte(b)
	}
	var buf bytes.Buffer
	require.NoError(t, json.NewEncoder(&buf).Encode(v))
	return buf.Bytes()
}

func (c *client) request(method, path string, body any) *http.Request {
	c.t.Helper()
	b := sdkBody(c.t, body)
	req, err := http.NewRequest(method, c.base+path, bytes.NewReader(b))
	require.NoError(c.t, err)
	req.Header.Set("User-Agent", "huaweicloud-usdk-go/3.0")
	if c.project != "" {
		req.Header.Set("X-Project-Id", c.project)
	}
	if b != nil {
		req.Header.Set("Content-Type", "application/json;charset=UTF-8")
	}
	signRequest(req, b, c.ak, c.sk, c.now())
	return req
}

func (c *client) do(method, path string, body any) response {
	c.t.Helper()
	resp, err := http.DefaultClient.Do(c.request(method, path, body))
	require.NoError(c.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	return response{status: resp.StatusCode, header: resp.Header, raw: raw}
}

// signRequest signs every header present except content-type and names with "_", as the SDK.
// The canonical form is the package's; TestSignerVectors pins it to the SDK's published vectors.
func signRequest(req *http.Request, body []byte, ak, sk string, at time.Time) {
	date := at.UTC().Format(sdkDateFormat)
	req.Header.Set(sdkDateHeader, date)
	var signed []string
	for name := range req.Header {
		lower := strings.ToLower(name)
		if strings.HasPrefix(lower, "content-type") || strings.Contains(lower, "_") {
			continue
		}
		signed = append(signed, lower)
	}
	slices.Sort(signed)
	sig := signature(sk, date, canonicalRequest(req, body, signed))
	req.Header.Set("Authorization", signAlgorithm+" Access="+ak+", SignedHeaders="+strings.Join(signed, ";")+", Signature="+sig)
}

// copyBody is an in-region copy request body.
func copyBody(name string) map[string]any {
	return map[string]any{"name": name, "description": "test copy"}
}

// startCopy posts an in-region copy of the seed image and returns the job ID.
func (c *client) startCopy(name string) string {
	c.t.Helper()
	r := c.do("POST", "/v1/cloudimages/"+SeedImageID+"/copy", copyBody(name))
	require.Equal(c.t, 200, r.status, "body: %s", r.raw)
	return r.json(c.t)["job_id"].(string)
}

func (c *client) job(id string) map[string]any {
	c.t.Helper()
	r := c.do("GET", "/v1/cloudimages/job/"+id, nil)
	require.Equal(c.t, 200, r.status, "body: %s", r.raw)
	return r.json(c.t)
}

func (c *client) image(id string) map[string]any {
	c.t.Helper()
	r := c.do("GET", "/v2/images/"+id, nil)
	require.Equal(c.t, 200, r.status, "body: %s", r.raw)
	return r.json(c.t)
}

func entities(job map[string]any) map[string]any { return job["entities"].(map[string]any) }

// countOf sums the requests of a route in a region with a status (any status when status < 0).
func countOf(counts []RouteCount, region, route string, status int) int {
	n := 0
	for _, c := range counts {
		if c.Region == region && c.Route == route && (status < 0 || c.Status == status) {
			n += c.Count
		}
	}
	return n
}

func jsonReader(s string) *bytes.Reader { return bytes.NewReader([]byte(s)) }

func getJSON(t *testing.T, url string) any {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	var v any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&v))
	return v
}
