package imsclient_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/imscopy/imscopy/imsapi"
	"github.com/imscopy/imscopy/imsapi/imsclient"
	"github.com/imscopy/imscopy/imsapi/imsemu"
	"github.com/imscopy/imscopy/internal/testkit/emutest"
)

// emuEnv is a running emulator (real HTTP on 127.0.0.1) and an imsclient client configured for it.
type emuEnv struct {
	srv    *imsemu.Server
	client *imsclient.Client
	home   *imsclient.RegionClient // cn-north-4, holds the seed image
	east   *imsclient.RegionClient // cn-east-3
	logs   *logRecorder
}

const (
	seedImageID = imsemu.SeedImageID
	seedKeyID   = imsemu.SeedKMSKeyID
	jobIDSample = "edc89b490d7d4392898e19b2deb34797"
)

var (
	homeRegion = emutest.Home
	eastRegion = emutest.East
)

// startEmu starts an emulator with cfg (JobDuration defaults to 1 s) and a client with the
// emulator's credentials.
func startEmu(t *testing.T, cfg imsemu.Config) *emuEnv {
	t.Helper()
	if cfg.JobDuration == 0 {
		cfg.JobDuration = time.Second
	}
	if cfg.Seed == 0 {
		cfg.Seed = 1
	}
	env := &emuEnv{srv: emutest.Start(t, cfg), logs: &logRecorder{}}
	env.client = env.newClient(t, imsemu.DefaultAK, imsemu.DefaultSK)
	env.home = env.client.Home()
	var err error
	env.east, err = env.client.Region(eastRegion.Name)
	require.NoError(t, err)
	return env
}

// newClient is a client of the same emulator with other credentials.
func (env *emuEnv) newClient(t *testing.T, ak, sk string) *imsclient.Client {
	t.Helper()
	imsclient.ClearSDKEnv(t)
	cfg := emutest.ClientConfig(env.srv)
	cfg.AK, cfg.SK, cfg.RequestTimeout, cfg.Logger = ak, sk, 10*time.Second, env.logs.logf
	return emutest.Client(t, cfg)
}

// requests counts the requests the emulator received on a route; route "" counts every route.
func (env *emuEnv) requests(route string) int { return emutest.Requests(env.srv, route) }

// abandoned counts the requests on a route whose client hung up during injected latency (the
// emulator records them as 499).
func (env *emuEnv) abandoned(route string) int {
	n := 0
	for _, c := range env.srv.Counts() {
		if c.Route == route && c.Status == 499 {
			n += c.Count
		}
	}
	return n
}

// waitJob polls until the job is terminal. The emulator's jobs last about a second here, so the
// ctx bound only stops a broken test from hanging.
func waitJob(t *testing.T, r *imsclient.RegionClient, jobID string) imsapi.Job {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		job, err := r.GetJob(ctx, jobID)
		require.NoError(t, err)
		if job.Status.Terminal() {
			return job
		}
		select {
		case <-ctx.Done():
			t.Fatalf("job %s still %s when the test gave up", jobID, job.Status)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// logRecorder keeps the client's log lines, to check what they show and what they never show.
type logRecorder struct {
	mu    sync.Mutex
	lines []string
}

func (l *logRecorder) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *logRecorder) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}
