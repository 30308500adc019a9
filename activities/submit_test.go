package activities

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"

	"github.com/imscopy/imscopy/imsapi"
	"github.com/imscopy/imscopy/imsapi/imsemu"
)

func TestSubmitCopyCreatesOnceThenAdopts(t *testing.T) {
	srv, a := startIMS(t, imsemu.Config{JobDuration: time.Minute})
	in := SubmitCopyInput{Region: home, Request: copyRequest("golden-once")}

	v, err := newActivityEnv(a).ExecuteActivity(a.SubmitCopy, in)
	require.NoError(t, err)
	var first SubmitCopyResult
	require.NoError(t, v.Get(&first))
	assert.NotEmpty(t, first.JobID)
	assert.False(t, first.Adopted)

	v, err = newActivityEnv(a).ExecuteActivity(a.SubmitCopy, in)
	require.NoError(t, err)
	var second SubmitCopyResult
	require.NoError(t, v.Get(&second))
	assert.True(t, second.Adopted)
	assert.Empty(t, second.JobID)
	assert.NotEqual(t, "active", second.AdoptedStatus, "the copy is still running")

	images := liveImages(srv, "golden-once")
	require.Len(t, images, 1, "a second submit must not copy again")
	assert.Equal(t, images[0].ID, second.ImageID)
	assert.Equal(t, 1, calls(srv, imsemu.RouteCopyInRegion, -1))
}

func TestSubmitCopyAdoptsAfterLostResponse(t *testing.T) {
	srv, a := startIMS(t, imsemu.Config{JobDuration: time.Minute})
	// The POST takes effect but its answer never arrives, and the new image shows in the list
	// only later: the retry must wait for it rather than copy again.
	const invisible = time.Second
	a.Poll.VisibilityWait = 3 * invisible
	srv.SetFaults(imsemu.Faults{
		Routes:          map[string]imsemu.RouteFault{imsemu.RouteCopyInRegion: {LostResponseRate: 1}},
		VisibilityDelay: invisible,
	})
	in := SubmitCopyInput{Region: home, Request: copyRequest("golden-lost")}

	env := newActivityEnv(a)
	var beat SubmitHeartbeat
	env.SetOnActivityHeartbeatListener(func(_ *activity.Info, d converter.EncodedValues) { assert.NoError(t, d.Get(&beat)) })
	_, err := env.ExecuteActivity(a.SubmitCopy, in)
	app := appError(t, err)
	assert.Equal(t, ErrIMSTransient, app.Type())
	assert.False(t, app.NonRetryable(), "a lost answer is retried")
	require.False(t, beat.PostAt.IsZero(), "the attempt recorded that it was about to POST")
	require.Len(t, liveImages(srv, "golden-lost"), 1, "IMS accepted the lost POST")

	// What Temporal hands the retry: the last heartbeat of the failed attempt.
	srv.SetFaults(imsemu.Faults{VisibilityDelay: invisible})
	retry := newActivityEnv(a)
	retry.SetHeartbeatDetails(beat)
	v, err := retry.ExecuteActivity(a.SubmitCopy, in)
	require.NoError(t, err)
	var res SubmitCopyResult
	require.NoError(t, v.Get(&res))
	assert.True(t, res.Adopted)

	images := liveImages(srv, "golden-lost")
	require.Len(t, images, 1, "exactly one copy")
	assert.Equal(t, images[0].ID, res.ImageID)
	assert.Equal(t, 1, calls(srv, imsemu.RouteCopyInRegion, -1), "the retry did not POST")
	assert.GreaterOrEqual(t, calls(srv, imsemu.RouteListImages, -1), 3, "the retry looked again while the copy was invisible")
}

func TestSubmitCopyRefusesBadInputWithoutCallingIMS(t *testing.T) {
	srv, a := startIMS(t, imsemu.Config{})
	_, err := newActivityEnv(a).ExecuteActivity(a.SubmitCopy,
		SubmitCopyInput{Region: home, Request: imsapi.CopyRequest{SourceImageID: imsemu.SeedImageID, Name: "bad<name>"}})
	app := appError(t, err)
	assert.Equal(t, ErrInvalidInput, app.Type())
	assert.True(t, app.NonRetryable())
	assert.Contains(t, app.Message(), "name")
	assert.Empty(t, srv.Counts(), "no request reached IMS")
}

func TestWrongCredentialsFailWithoutLeakingThem(t *testing.T) {
	srv, a := startIMS(t, imsemu.Config{})
	const wrongSK = "wrong-secret-key-0123456789"
	a.IMS = newClient(t, srv, wrongSK)
	_, err := newActivityEnv(a).ExecuteActivity(a.SubmitCopy, SubmitCopyInput{Region: home, Request: copyRequest("golden-auth")})
	app := appError(t, err)
	assert.Equal(t, ErrIMSAuth, app.Type())
	assert.True(t, app.NonRetryable())
	assert.NotContains(t, err.Error(), wrongSK)
	assert.NotContains(t, err.Error(), imsemu.DefaultAK)
}

func TestVisibilityDeadline(t *testing.T) {
	now := t0.Add(time.Minute)
	wait := 20 * time.Second
	posted := SubmitHeartbeat{Attempt: 2, PostAt: t0}
	for name, c := range map[string]struct {
		attempt int32
		prev    SubmitHeartbeat
		hasPrev bool
		want    time.Time
	}{
		"first attempt":                       {1, SubmitHeartbeat{}, false, time.Time{}},
		"previous attempt posted":             {3, posted, true, t0.Add(wait)},
		"previous attempt lost its heartbeat": {3, SubmitHeartbeat{Attempt: 1, PostAt: t0}, true, now.Add(wait)},
		"no attempt ever posted":              {3, SubmitHeartbeat{Attempt: 2}, true, time.Time{}},
		"an older attempt's post carried on":  {4, SubmitHeartbeat{Attempt: 3, PostAt: t0}, true, t0.Add(wait)},
		"retry without details":               {2, SubmitHeartbeat{}, false, now.Add(wait)},
	} {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, c.want, visibilityDeadline(now, c.attempt, c.prev, c.hasPrev, wait))
		})
	}
}
