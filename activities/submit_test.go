package activities

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"

	"github.com/imscopy/imscopy/activities/activityapi"
	"github.com/imscopy/imscopy/imsapi"
	"github.com/imscopy/imscopy/imsapi/imsemu"
	"github.com/imscopy/imscopy/internal/testkit"
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

	// IMS's created_at has whole seconds: a submit scheduled in the second the image was created
	// counts it as its own, so the second submit starts in a later second.
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second)))
	v, err = newActivityEnv(a).ExecuteActivity(a.SubmitCopy, in)
	require.NoError(t, err)
	var second SubmitCopyResult
	require.NoError(t, v.Get(&second))
	assert.True(t, second.Adopted)
	assert.Empty(t, second.JobID)
	assert.NotEqual(t, "active", second.AdoptedStatus, "the copy is still running")
	assert.Equal(t, AdoptedFromEarlierCopy, second.AdoptedFrom, "the image existed before this submit was scheduled")
	assert.NotEmpty(t, second.AdoptedCreatedAt)

	images := liveImages(srv, "golden-once")
	require.Len(t, images, 1, "a second submit must not copy again")
	assert.Equal(t, images[0].ID, second.ImageID)
	assert.Equal(t, 1, calls(srv, imsemu.RouteCopyInRegion, -1))
}

// postWithLostAnswer runs one SubmitCopy attempt whose POST IMS accepts and never answers, with the
// new image listed only after invisible. It returns the request, the attempt's last heartbeat and
// its error, and leaves the visibility delay in place.
func postWithLostAnswer(t *testing.T, srv *imsemu.Server, a *Activities, name string, invisible time.Duration) (SubmitCopyInput, SubmitHeartbeat, error) {
	t.Helper()
	srv.SetFaults(imsemu.Faults{
		Routes:          map[string]imsemu.RouteFault{imsemu.RouteCopyInRegion: {LostResponseRate: 1}},
		VisibilityDelay: invisible,
	})
	in := SubmitCopyInput{Region: home, Request: copyRequest(name)}
	env := newActivityEnv(a)
	var beat SubmitHeartbeat
	env.SetOnActivityHeartbeatListener(func(_ *activity.Info, d converter.EncodedValues) { assert.NoError(t, d.Get(&beat)) })
	_, err := env.ExecuteActivity(a.SubmitCopy, in)
	require.Len(t, liveImages(srv, name), 1, "IMS accepted the lost POST")
	srv.SetFaults(imsemu.Faults{VisibilityDelay: invisible})
	return in, beat, err
}

// retrySubmit runs SubmitCopy as Temporal's retry of a failed attempt would: with that attempt's
// last heartbeat. The activity test environment always runs attempt 1, so the failed attempt is
// renumbered 0.
func retrySubmit(t *testing.T, a *Activities, in SubmitCopyInput, beat SubmitHeartbeat) SubmitCopyResult {
	t.Helper()
	retry := newActivityEnv(a)
	beat.Attempt = 0
	retry.SetHeartbeatDetails(beat)
	v, err := retry.ExecuteActivity(a.SubmitCopy, in)
	require.NoError(t, err)
	var res SubmitCopyResult
	require.NoError(t, v.Get(&res))
	return res
}

// The POST takes effect but its answer never arrives, and the new image shows in the list only
// later: the retry must wait for it rather than copy again.
func TestSubmitCopyAdoptsAfterLostResponse(t *testing.T) {
	srv, a := startIMS(t, imsemu.Config{JobDuration: time.Minute})
	const invisible = time.Second
	a.Poll.VisibilityWait = 3 * invisible
	in, beat, err := postWithLostAnswer(t, srv, a, "golden-lost", invisible)
	app := testkit.AppError(t, err)
	assert.Equal(t, ErrIMSTransient, app.Type())
	assert.False(t, app.NonRetryable(), "a lost answer is retried")
	require.False(t, beat.PostAt.IsZero(), "the attempt recorded that it POSTed")
	assert.True(t, beat.Ended, "the attempt's record is complete")
	var failure SubmitFailure
	require.NoError(t, app.Details(&failure))
	assert.Equal(t, beat.PostAt, failure.PostAt, "the workflow learns that a copy may exist")

	res := retrySubmit(t, a, in, beat)
	assert.True(t, res.Adopted)
	assert.Equal(t, AdoptedFromThisCopy, res.AdoptedFrom, "the lost POST was this copy's")

	images := liveImages(srv, "golden-lost")
	require.Len(t, images, 1, "exactly one copy")
	assert.Equal(t, images[0].ID, res.ImageID)
	assert.Equal(t, 1, calls(srv, imsemu.RouteCopyInRegion, -1), "the retry did not POST")
	assert.GreaterOrEqual(t, calls(srv, imsemu.RouteListImages, -1), 3, "the retry looked again while the copy was invisible")
}

// A worker killed right after its POST leaves only its attempt's first heartbeat on the server:
// the SDK sends that one at once but holds later ones back (throttling) until the attempt ends,
// and a killed attempt never ends. The retry sees a record that did not end and must look for the
// copy, for the whole visibility wait, before copying again.
func TestSubmitCopyAfterAKilledAttemptLooksBeforeCopyingAgain(t *testing.T) {
	srv, a := startIMS(t, imsemu.Config{JobDuration: time.Minute})
	const invisible = time.Second
	a.Poll.VisibilityWait = 3 * invisible
	// The attempt that dies: its POST takes effect and no answer comes back.
	in, _, _ := postWithLostAnswer(t, srv, a, "golden-killed", invisible)

	retry := newActivityEnv(a)
	// The activity test environment always runs attempt 1, so the dead attempt is number 0; all
	// the server has from it is the record it sent as it started.
	retry.SetHeartbeatDetails(SubmitHeartbeat{Attempt: 0})
	v, err := retry.ExecuteActivity(a.SubmitCopy, in)
	require.NoError(t, err)
	var res SubmitCopyResult
	require.NoError(t, v.Get(&res))
	assert.True(t, res.Adopted)
	assert.Len(t, liveImages(srv, "golden-killed"), 1, "exactly one copy")
	assert.Equal(t, 1, calls(srv, imsemu.RouteCopyInRegion, -1), "the retry did not POST")
}

// One failed list read while SubmitCopy waits for an earlier attempt's copy to be listed does not
// end the wait: POSTing then would make a second copy.
func TestSubmitCopyLooksAgainAfterAFailedRead(t *testing.T) {
	const invisible = time.Second
	// The emulator logs a request before its answer leaves, so lifting the fault from its log
	// lets exactly one list read fail.
	var ims atomic.Pointer[imsemu.Server]
	srv, a := startIMS(t, imsemu.Config{JobDuration: time.Minute, Logf: func(string, ...any) {
		if s := ims.Load(); s != nil && calls(s, imsemu.RouteListImages, 503) > 0 {
			s.SetFaults(imsemu.Faults{VisibilityDelay: invisible})
		}
	}})
	ims.Store(srv)
	a.Poll.VisibilityWait = 3 * invisible
	in, beat, _ := postWithLostAnswer(t, srv, a, "golden-look-again", invisible)
	srv.SetFaults(imsemu.Faults{VisibilityDelay: invisible,
		Routes: map[string]imsemu.RouteFault{imsemu.RouteListImages: {ErrorRate: 1, ErrorStatus: 503}}})

	res := retrySubmit(t, a, in, beat)
	assert.True(t, res.Adopted)
	assert.Equal(t, 1, calls(srv, imsemu.RouteListImages, 503), "one read failed")
	assert.Equal(t, 1, calls(srv, imsemu.RouteCopyInRegion, -1), "the retry did not POST")
}

// An image copied with another KMS key (or with none) is another request's copy, however alike
// its name and lineage: adopting it would hand back an image encrypted with the wrong key.
func TestSubmitCopyAdoptsOnlyACopyWithTheRequestedKey(t *testing.T) {
	const otherKey = "0f6e8a52-3b1c-4d2e-9f70-1a2b3c4d5e6f"
	srv, a := startIMS(t, imsemu.Config{JobDuration: time.Minute,
		KMSKeys: map[string][]string{home: {imsemu.SeedKMSKeyID, otherKey}}})
	seedKey := copyRequest("golden-keys")
	submit(t, a, "golden-keys")

	for _, key := range []string{otherKey, ""} {
		req := seedKey
		req.CMKID = key
		v, err := newActivityEnv(a).ExecuteActivity(a.SubmitCopy, SubmitCopyInput{Region: home, Request: req})
		require.NoError(t, err)
		var res SubmitCopyResult
		require.NoError(t, v.Get(&res))
		assert.False(t, res.Adopted, "key %q", key)
		assert.NotEmpty(t, res.JobID, "key %q", key)
	}
	assert.Len(t, liveImages(srv, "golden-keys"), 3, "one copy per key")
	assert.Equal(t, 3, calls(srv, imsemu.RouteCopyInRegion, 200))
}

func TestSubmitCopyRefusesBadInputWithoutCallingIMS(t *testing.T) {
	srv, a := startIMS(t, imsemu.Config{})
	_, err := newActivityEnv(a).ExecuteActivity(a.SubmitCopy,
		SubmitCopyInput{Region: home, Request: imsapi.CopyRequest{SourceImageID: imsemu.SeedImageID, Name: "bad<name>"}})
	app := testkit.AppError(t, err)
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
	app := testkit.AppError(t, err)
	assert.Equal(t, ErrIMSAuth, app.Type())
	assert.True(t, app.NonRetryable())
	assert.NotContains(t, err.Error(), wrongSK)
	assert.NotContains(t, err.Error(), imsemu.DefaultAK)
}

// lastPost decides how long SubmitCopy looks for an earlier attempt's copy (until lastPost +
// VisibilityWait) and what it carries on to the next attempt.
func TestLastPost(t *testing.T) {
	now := t0.Add(time.Minute)
	for name, c := range map[string]struct {
		attempt int32
		prev    SubmitHeartbeat
		hasPrev bool
		want    time.Time
	}{
		"first attempt":                          {1, SubmitHeartbeat{}, false, time.Time{}},
		"previous attempt ended after a POST":    {3, SubmitHeartbeat{Attempt: 2, PostAt: t0, Ended: true}, true, t0},
		"previous attempt ended, nothing posted": {3, SubmitHeartbeat{Attempt: 2, Ended: true}, true, time.Time{}},
		"an older attempt's post carried on":     {4, SubmitHeartbeat{Attempt: 3, PostAt: t0, Ended: true}, true, t0},
		// The SDK sent only the killed attempt's first record; its POST's record never left.
		"previous attempt killed after starting": {3, SubmitHeartbeat{Attempt: 2}, true, now},
		"previous attempt killed after a post":   {3, SubmitHeartbeat{Attempt: 2, PostAt: t0}, true, now},
		"an attempt in between left no record":   {3, SubmitHeartbeat{Attempt: 1, PostAt: t0, Ended: true}, true, now},
		"retry without any record":               {2, SubmitHeartbeat{}, false, now},
	} {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, c.want, lastPost(now, c.attempt, c.prev, c.hasPrev))
		})
	}
}

// The workflow cleans up after a failed submit only when a POST may have created a copy: a POST
// that IMS refused (4xx) created nothing; one answered 5xx may have.
func TestSubmitFailureSaysWhetherACopyMayExist(t *testing.T) {
	for name, c := range map[string]struct {
		status   int
		mayExist bool
	}{
		"refused":      {400, false},
		"throttled":    {429, false},
		"server error": {500, true},
	} {
		t.Run(name, func(t *testing.T) {
			srv, a := startIMS(t, imsemu.Config{})
			srv.SetFaults(imsemu.Faults{Routes: map[string]imsemu.RouteFault{
				imsemu.RouteCopyInRegion: {ErrorRate: 1, ErrorStatus: c.status}}})
			// Too little time left for another try inside the attempt (retryHeadroom), so a
			// throttled POST ends it, as the attempt's last one does.
			ctx, cancel := context.WithTimeout(context.Background(), retryHeadroom/2)
			defer cancel()
			env := newActivityEnv(a)
			env.SetWorkerOptions(worker.Options{BackgroundActivityContext: ctx})
			_, err := env.ExecuteActivity(a.SubmitCopy, SubmitCopyInput{Region: home, Request: copyRequest("golden-failed")})
			require.Error(t, err)
			f, ok := activityapi.SubmitFailureOf(err)
			require.True(t, ok, "every SubmitCopy error carries a SubmitFailure: %v", err)
			assert.Equal(t, c.mayExist, !f.PostAt.IsZero())
			assert.Equal(t, c.status, f.Status, "IMS's answer is still in the detail")
		})
	}
}

// A cancelled SubmitCopy says too whether an earlier attempt may have created a copy.
func TestSubmitCopyCancelledWhileLookingCarriesThePost(t *testing.T) {
	_, a := startIMS(t, imsemu.Config{})
	ctx, cancelWith := context.WithCancelCause(context.Background())
	cancel := func() { cancelWith(temporal.NewCanceledError()) }
	defer cancel()
	env := newActivityEnv(a)
	env.SetWorkerOptions(worker.Options{BackgroundActivityContext: ctx})
	posted := time.Now()
	// An earlier attempt ended after a POST whose answer was lost: this one looks for its copy,
	// heartbeating, and is cancelled there.
	env.SetHeartbeatDetails(SubmitHeartbeat{Attempt: 0, PostAt: posted, Ended: true})
	env.SetOnActivityHeartbeatListener(func(*activity.Info, converter.EncodedValues) { cancel() })

	_, err := env.ExecuteActivity(a.SubmitCopy, SubmitCopyInput{Region: home, Request: copyRequest("golden-cancelled")})
	var canceled *temporal.CanceledError
	require.ErrorAs(t, err, &canceled)
	f, ok := activityapi.SubmitFailureOf(err)
	require.True(t, ok)
	assert.True(t, posted.Equal(f.PostAt), "want %v, got %v", posted, f.PostAt)
}

// lostAnswerThenFailure runs one SubmitCopy attempt whose POST IMS accepts and never answers, on
// an emulator whose copy jobs all fail; the job lasts ten minutes of the emulator's clock, which
// the returned endTheJob moves past (staying within the 15 minutes a request's signature may be
// off). It returns the request and the attempt's last heartbeat.
func lostAnswerThenFailure(t *testing.T, name string) (*imsemu.Server, *Activities, SubmitCopyInput, SubmitHeartbeat, func()) {
	t.Helper()
	var ahead atomic.Int64
	srv, a := startIMS(t, imsemu.Config{JobDuration: 10 * time.Minute,
		Now: func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }})
	srv.SetFaults(imsemu.Faults{JobFailureRate: 1,
		Routes: map[string]imsemu.RouteFault{imsemu.RouteCopyInRegion: {LostResponseRate: 1}}})
	in := SubmitCopyInput{Region: home, Request: copyRequest(name)}
	env := newActivityEnv(a)
	var beat SubmitHeartbeat
	env.SetOnActivityHeartbeatListener(func(_ *activity.Info, d converter.EncodedValues) { assert.NoError(t, d.Get(&beat)) })
	_, err := env.ExecuteActivity(a.SubmitCopy, in)
	assert.Equal(t, ErrIMSTransient, testkit.AppError(t, err).Type(), "the lost answer is a transient error")
	require.Len(t, liveImages(srv, name), 1, "IMS accepted the lost POST")
	srv.SetFaults(imsemu.Faults{})
	return srv, a, in, beat, func() { ahead.Store(int64(11 * time.Minute)) }
}

// A POST whose answer is lost and whose job then fails, before or after the retry looks, is one
// failed copy: never a second POST, a CopyFailed error that says IMS's reason was lost with the
// answer and names the image, and the image deleted by the compensation.
func TestALostAnswerThenAFailedJobIsOneFailedCopy(t *testing.T) {
	for name, failBeforeRetry := range map[string]bool{
		"job still running at the retry":  false,
		"job already failed at the retry": true,
	} {
		t.Run(name, func(t *testing.T) {
			srv, a, in, beat, endTheJob := lostAnswerThenFailure(t, "golden-lost-failed")
			if failBeforeRetry {
				endTheJob()
				require.Equal(t, "killed", liveImages(srv, in.Request.Name)[0].Status)
			}
			res := retrySubmit(t, a, in, beat)
			assert.True(t, res.Adopted)
			image := liveImages(srv, in.Request.Name)[0]
			assert.Equal(t, image.ID, res.ImageID, "the retry returns the lost POST's image")
			assert.Equal(t, failBeforeRetry, res.AdoptedStatus == "killed", "status %s", res.AdoptedStatus)
			if !failBeforeRetry {
				endTheJob()
			}

			_, err := newActivityEnv(a).ExecuteActivity(a.PollJob, PollJobInput{Region: home, ImageID: res.ImageID})
			app := testkit.AppError(t, err)
			assert.Equal(t, ErrCopyFailed, app.Type())
			assert.True(t, app.NonRetryable())
			assert.Contains(t, app.Message(), ReasonLostText)
			assert.Contains(t, app.Message(), res.ImageID)
			var f CopyFailure
			require.NoError(t, app.Details(&f))
			assert.Equal(t, CopyFailure{ImageID: res.ImageID, ReasonLost: true}, f)

			_, err = newActivityEnv(a).ExecuteActivity(a.CleanupCopy, CleanupInput{Region: home, ImageID: f.ImageID})
			require.NoError(t, err)
			assert.Empty(t, liveImages(srv, in.Request.Name), "the failed copy's image is deleted")
			assert.Equal(t, 1, calls(srv, imsemu.RouteGlanceDeleteImage, 204)+calls(srv, imsemu.RouteGlanceDeleteImage, 200))
			assert.Equal(t, 1, calls(srv, imsemu.RouteCopyInRegion, -1), "exactly one POST")
		})
	}
}

// When the submit itself fails after a lost POST whose job failed, the compensation finds the
// killed image by the request and deletes it, but only one made since the submit was scheduled:
// an older killed copy of the same request is another copy's.
func TestCleanupOfALostPostDeletesItsKilledCopyOnly(t *testing.T) {
	srv, a, in, _, endTheJob := lostAnswerThenFailure(t, "golden-lost-killed")
	endTheJob()
	req := in.Request
	older := CleanupInput{Region: home, Lost: &req, LostSince: time.Now().Add(time.Minute)}
	a.Poll.VisibilityWait = 200 * time.Millisecond
	_, err := newActivityEnv(a).ExecuteActivity(a.CleanupCopy, older)
	require.NoError(t, err)
	require.Len(t, liveImages(srv, req.Name), 1, "a killed copy made before the submit is not this copy's")

	lost := CleanupInput{Region: home, Lost: &req, LostSince: time.Now().Add(-time.Minute)}
	_, err = newActivityEnv(a).ExecuteActivity(a.CleanupCopy, lost)
	require.NoError(t, err)
	assert.Empty(t, liveImages(srv, req.Name), "the lost POST's killed copy is deleted")
}
