package activities

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"

	"github.com/imscopy/imscopy/activities/activityapi"
	"github.com/imscopy/imscopy/imsapi/imsemu"
	"github.com/imscopy/imscopy/internal/testkit"
)

// While IMS cannot be read before any POST, SubmitCopy retries inside its attempt, so that a
// cancellation reaches it and is answered with the record that no POST went out: the workflow then
// looks for no copy, instead of listing a dead endpoint in its clean-up.
func TestSubmitCopyCancelledWhileIMSIsUnreachableProvesNoPost(t *testing.T) {
	srv, a := startIMS(t, imsemu.Config{Faults: imsemu.Faults{
		Routes: map[string]imsemu.RouteFault{imsemu.RouteListImages: {ErrorRate: 1, ErrorStatus: 503}}}})
	ctx, cancelWith := context.WithCancelCause(context.Background())
	defer cancelWith(nil)
	env := newActivityEnv(a)
	env.SetWorkerOptions(worker.Options{BackgroundActivityContext: ctx})
	go func() {
		for calls(srv, imsemu.RouteListImages, 503) < 3 {
			time.Sleep(10 * time.Millisecond)
		}
		cancelWith(temporal.NewCanceledError())
	}()

	done := make(chan error, 1)
	go func() {
		_, err := env.ExecuteActivity(a.SubmitCopy, SubmitCopyInput{Region: home, Request: copyRequest("golden-unreachable")})
		done <- err
	}()
	var err error
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("SubmitCopy neither ended nor noticed the cancellation")
	}
	var canceled *temporal.CanceledError
	require.ErrorAs(t, err, &canceled, "the attempt was still running when cancelled, not ended with the 503")
	f, ok := activityapi.SubmitFailureOf(err)
	require.True(t, ok, "the cancellation carries the submit's record")
	assert.True(t, f.PostAt.IsZero(), "no POST went out: %v", f.PostAt)
	assert.GreaterOrEqual(t, calls(srv, imsemu.RouteListImages, 503), 3, "it looked again after each failure")
	assert.Zero(t, calls(srv, imsemu.RouteCopyInRegion, -1))
}

// A clean-up that must look for a lost POST's copy while IMS cannot be read gives up after a
// bounded time, saying what it could not check, instead of retrying for its two days.
func TestCleanupOfALostPostWhileIMSIsUnreachableIsBounded(t *testing.T) {
	srv, a := startIMS(t, imsemu.Config{Faults: imsemu.Faults{
		Routes: map[string]imsemu.RouteFault{imsemu.RouteListImages: {ErrorRate: 1, ErrorStatus: 503}}}})
	a.Poll.VisibilityWait = 200 * time.Millisecond
	req := copyRequest("golden-unchecked")
	start := time.Now()

	_, err := newActivityEnv(a).ExecuteActivity(a.CleanupCopy, CleanupInput{Region: home, Lost: &req, LostSince: start})

	app := testkit.AppError(t, err)
	assert.Equal(t, ErrLostCopyUnchecked, app.Type())
	assert.True(t, app.NonRetryable(), "no retry can help within the bound")
	assert.Contains(t, app.Message(), `"golden-unchecked"`)
	assert.Contains(t, app.Message(), "503")
	assert.Less(t, time.Since(start), 10*time.Second)
	assert.Greater(t, calls(srv, imsemu.RouteListImages, 503), 1, "it looked again before giving up")
}
