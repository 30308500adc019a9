package activities

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/imscopy/imscopy/activities/pollschedule"
	"github.com/imscopy/imscopy/imsapi"
	"github.com/imscopy/imscopy/imsapi/imsclient"
	"github.com/imscopy/imscopy/imsapi/imsemu"
	"github.com/imscopy/imscopy/internal/testkit"
	"github.com/imscopy/imscopy/internal/testkit/emutest"
)

const home = "cn-north-4"

// testPoll keeps the emulator tests fast: jobs last about a second, so polls come every tenth.
func testPoll() PollConfig {
	return PollConfig{
		Config: pollschedule.Config{
			Initial: 100 * time.Millisecond,
			Min:     50 * time.Millisecond,
			Max:     300 * time.Millisecond,
			Lag:     100 * time.Millisecond,
			Jitter:  0.1,
		},
		HeartbeatEvery: 50 * time.Millisecond,
		VisibilityWait: time.Second,
	}
}

// startIMS runs the emulator on 127.0.0.1 and returns it with activities that reach it over HTTP.
func startIMS(t *testing.T, cfg imsemu.Config) (*imsemu.Server, *Activities) {
	t.Helper()
	cfg.Seed = 7
	srv := emutest.Start(t, cfg)
	return srv, &Activities{IMS: newClient(t, srv, imsemu.DefaultSK), Poll: testPoll()}
}

// imsClock is IMS's clock in tests that must find a job at a given stage however loaded the
// machine is. It stands still but for Advance and step, so what IMS reports depends on what was
// asked of it, never on how long the asking took. It starts at the real time and must stay within
// 15 minutes of it: IMS refuses signatures dated further from its clock.
type imsClock struct {
	*testkit.Clock // the time before steps; Advance moves it
	mu             sync.Mutex
	srv            *imsemu.Server
	steps          map[string]clockStep
}

type clockStep struct {
	by   time.Duration
	from int // the route's answers when the stepping began
}

func newIMSClock() *imsClock {
	return &imsClock{Clock: testkit.NewClock(time.Now()), steps: map[string]clockStep{}}
}

// Now is the emulator's Config.Now.
func (c *imsClock) Now() time.Time {
	now := c.Clock.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	for route, s := range c.steps {
		now = now.Add(time.Duration(calls(c.srv, route, -1)-s.from) * s.by)
	}
	return now
}

// step moves the clock on by `by` with each request srv answers on route from now on. The
// emulator counts a request as it finishes answering it, so the request itself sees the clock
// before its step.
func (c *imsClock) step(srv *imsemu.Server, route string, by time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.srv = srv
	c.steps[route] = clockStep{by: by, from: calls(srv, route, -1)}
}

// newClient is a client of srv that signs with sk.
func newClient(t *testing.T, srv *imsemu.Server, sk string) *imsclient.Client {
	t.Helper()
	cfg := emutest.ClientConfig(srv)
	cfg.SK = sk
	return emutest.Client(t, cfg)
}

func newActivityEnv(a *Activities) *testsuite.TestActivityEnvironment {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(a)
	return env
}

func copyRequest(name string) imsapi.CopyRequest {
	return imsapi.CopyRequest{SourceImageID: imsemu.SeedImageID, Name: name, CMKID: imsemu.SeedKMSKeyID}
}

// submit starts a copy through the activity and returns its job ID.
func submit(t *testing.T, a *Activities, name string) string {
	t.Helper()
	v, err := newActivityEnv(a).ExecuteActivity(a.SubmitCopy, SubmitCopyInput{Region: home, Request: copyRequest(name)})
	require.NoError(t, err)
	var res SubmitCopyResult
	require.NoError(t, v.Get(&res))
	require.NotEmpty(t, res.JobID)
	return res.JobID
}

// liveImages are the emulator's images of that name that are not deleted.
func liveImages(srv *imsemu.Server, name string) []imsemu.AdminImage {
	var out []imsemu.AdminImage
	for _, img := range srv.Images() {
		if img.Name == name && img.Status != "deleted" {
			out = append(out, img)
		}
	}
	return out
}

// calls counts the requests a route answered with a status; status < 0 counts every answer.
func calls(srv *imsemu.Server, route string, status int) int {
	n := 0
	for _, c := range srv.Counts() {
		if c.Route == route && (status < 0 || c.Status == status) {
			n += c.Count
		}
	}
	return n
}
