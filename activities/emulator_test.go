package activities

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/imscopy/imscopy/imsapi"
	"github.com/imscopy/imscopy/imsapi/imsemu"
)

const home = "cn-north-4"

// testPoll keeps the emulator tests fast: jobs last about a second, so polls come every tenth.
func testPoll() PollConfig {
	return PollConfig{
		Initial:        100 * time.Millisecond,
		Min:            50 * time.Millisecond,
		Max:            300 * time.Millisecond,
		Lag:            100 * time.Millisecond,
		Jitter:         0.1,
		HeartbeatEvery: 50 * time.Millisecond,
		VisibilityWait: time.Second,
	}
}

// startIMS runs the emulator on 127.0.0.1 and returns it with activities that reach it over HTTP.
func startIMS(t *testing.T, cfg imsemu.Config) (*imsemu.Server, *Activities) {
	t.Helper()
	cfg.Seed = 7
	srv, err := imsemu.Start(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	return srv, &Activities{IMS: newClient(t, srv, imsemu.DefaultSK), Poll: testPoll()}
}

func newClient(t *testing.T, srv *imsemu.Server, sk string) *imsapi.Client {
	t.Helper()
	c, err := imsapi.New(imsapi.Config{Region: home, ProjectID: imsemu.DefaultRegions[0].ProjectID,
		AK: imsemu.DefaultAK, SK: sk, Endpoints: srv.Endpoints()})
	require.NoError(t, err)
	return c
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

func appError(t *testing.T, err error) *temporal.ApplicationError {
	t.Helper()
	require.Error(t, err)
	var app *temporal.ApplicationError
	require.True(t, errors.As(err, &app), "want an application error, got %T %v", err, err)
	return app
}
