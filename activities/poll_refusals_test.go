package activities

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imscopy/imscopy/imsapi/imsemu"
	"github.com/imscopy/imscopy/internal/testkit"
)

// One odd answer about a job that is copying (a 401 while the clock resyncs, a 404 while the new
// job propagates, a 400) must not fail the copy: the workflow would delete an image IMS may be
// finishing.
func TestPollJobRidesOutOneRefusal(t *testing.T) {
	for name, status := range map[string]int{"401": 401, "404": 404, "400": 400} {
		t.Run(name, func(t *testing.T) {
			// The emulator logs a request before its answer leaves, so lifting the fault from its
			// log lets exactly the first read fail.
			var ims atomic.Pointer[imsemu.Server]
			srv, a := startIMS(t, imsemu.Config{JobDuration: 500 * time.Millisecond, Logf: func(string, ...any) {
				if s := ims.Load(); s != nil && calls(s, imsemu.RouteShowJobProgress, status) > 0 {
					s.SetFaults(imsemu.Faults{})
				}
			}})
			ims.Store(srv)
			jobID := submit(t, a, "golden-refused")
			srv.SetFaults(imsemu.Faults{Routes: map[string]imsemu.RouteFault{
				imsemu.RouteShowJobProgress: {ErrorRate: 1, ErrorStatus: status}}})

			v, err := newActivityEnv(a).ExecuteActivity(a.PollJob, PollJobInput{Region: home, JobID: jobID})
			res := pollResult(t, v, err)

			assert.Equal(t, "SUCCESS", res.Status)
			assert.Equal(t, 1, calls(srv, imsemu.RouteShowJobProgress, status), "one read was refused")
		})
	}
}

// A refusal that persists is not an odd answer: PollJob gives up after maxRefusedReads of them
// with IMS's error, so that a person hears of it.
func TestPollJobGivesUpOnAPersistentRefusal(t *testing.T) {
	srv, a := startIMS(t, imsemu.Config{JobDuration: time.Hour})
	jobID := submit(t, a, "golden-refused")
	srv.SetFaults(imsemu.Faults{Routes: map[string]imsemu.RouteFault{
		imsemu.RouteShowJobProgress: {ErrorRate: 1, ErrorStatus: 401}}})

	_, err := newActivityEnv(a).ExecuteActivity(a.PollJob, PollJobInput{Region: home, JobID: jobID})
	app := testkit.AppError(t, err)
	assert.Equal(t, ErrIMSAuth, app.Type())
	assert.True(t, app.NonRetryable())
	require.Equal(t, 5, calls(srv, imsemu.RouteShowJobProgress, 401), "it tried again before giving up")
}
