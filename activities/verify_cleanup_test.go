package activities

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imscopy/imscopy/activities/activityapi"
	"github.com/imscopy/imscopy/imsapi"
	"github.com/imscopy/imscopy/imsapi/imsemu"
	"github.com/imscopy/imscopy/internal/testkit"
)

// finishedCopy runs a short copy to its end and returns the new image's ID.
func finishedCopy(t *testing.T, srv *imsemu.Server, a *Activities, name string) string {
	t.Helper()
	jobID := submit(t, a, name)
	v, err := newActivityEnv(a).ExecuteActivity(a.PollJob, PollJobInput{Region: home, JobID: jobID})
	return pollResult(t, v, err).ImageID
}

func verifyInput(imageID, name string) VerifyImageInput {
	return VerifyImageInput{Region: home, ImageID: imageID, SourceImageID: imsemu.SeedImageID, Name: name, CMKID: imsemu.SeedKMSKeyID}
}

func TestVerifyImageAcceptsTheCopy(t *testing.T) {
	srv, a := startIMS(t, imsemu.Config{JobDuration: 200 * time.Millisecond})
	imageID := finishedCopy(t, srv, a, "golden-verify")

	_, err := newActivityEnv(a).ExecuteActivity(a.VerifyImage, verifyInput(imageID, "golden-verify"))
	assert.NoError(t, err)
}

func TestVerifyImageNamesEveryMismatch(t *testing.T) {
	srv, a := startIMS(t, imsemu.Config{JobDuration: 200 * time.Millisecond})
	imageID := finishedCopy(t, srv, a, "golden-verify")

	in := verifyInput(imageID, "another-name")
	in.CMKID = ""
	_, err := newActivityEnv(a).ExecuteActivity(a.VerifyImage, in)
	app := testkit.AppError(t, err)
	assert.Equal(t, ErrVerifyFailed, app.Type())
	assert.True(t, app.NonRetryable())
	var mismatches []string
	require.NoError(t, app.Details(&mismatches))
	require.Len(t, mismatches, 2, "%v", mismatches)
	assert.Contains(t, mismatches[0], "name")
	assert.Contains(t, mismatches[1], "KMS key")
	assert.Contains(t, app.Message(), "another-name")
}

func TestMismatchesCoverDiskOSAndArchitecture(t *testing.T) {
	src := imsapi.Image{ID: imsemu.SeedImageID, MinDisk: 40, OSType: "Linux", OSVersion: "CentOS 7.3 64bit", Platform: "CentOS", OSBit: "64", Architecture: "x86"}
	img := src
	img.ID, img.Name, img.OriginalImageName, img.DataOrigin = "new", "copy", "", "image,cn-north-4,"+imsemu.SeedImageID
	img.MinDisk, img.OSType, img.OSVersion, img.Platform, img.OSBit, img.Architecture = 80, "Windows", "Windows 2019", "Windows", "32", "arm"
	got := mismatches(img, src, VerifyImageInput{SourceImageID: imsemu.SeedImageID, Name: "copy"}, home)
	assert.Len(t, got, 6, "%v", got)
	for i, field := range []string{"min_disk", "__os_type", "__os_version", "__platform", "__os_bit", "architecture"} {
		assert.Contains(t, got[i], field)
	}

	img.DataOrigin = "image,cn-north-4,another-source"
	assert.Contains(t, mismatches(img, src, VerifyImageInput{SourceImageID: imsemu.SeedImageID, Name: "copy"}, home)[0], "lineage")
}

func TestVerifyImageRetriesWhileNotActive(t *testing.T) {
	srv, a := startIMS(t, imsemu.Config{JobDuration: time.Hour})
	submit(t, a, "golden-early")
	imageID := liveImages(srv, "golden-early")[0].ID

	_, err := newActivityEnv(a).ExecuteActivity(a.VerifyImage, verifyInput(imageID, "golden-early"))
	app := testkit.AppError(t, err)
	assert.Equal(t, ErrImageNotReady, app.Type())
	assert.False(t, app.NonRetryable())
}

// IMS's image list lags behind new images, so a short copy can end before its image is listed.
// That is "not ready yet", not "not found": a non-retryable answer would make the workflow delete
// a good copy.
func TestVerifyImageWaitsForAnImageNotListedYet(t *testing.T) {
	// IMS's clock runs ahead of the real one by skip, so the test moves it on instead of waiting.
	var skip atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(skip.Load())) }
	srv, a := startIMS(t, imsemu.Config{JobDuration: time.Minute, Now: now,
		Faults: imsemu.Faults{VisibilityDelay: 5 * time.Minute}})
	jobID := submit(t, a, "golden-unlisted")
	skip.Add(int64(2 * time.Minute))
	v, err := newActivityEnv(a).ExecuteActivity(a.PollJob, PollJobInput{Region: home, JobID: jobID})
	imageID := pollResult(t, v, err).ImageID

	_, err = newActivityEnv(a).ExecuteActivity(a.VerifyImage, verifyInput(imageID, "golden-unlisted"))
	app := testkit.AppError(t, err)
	assert.Equal(t, ErrImageNotReady, app.Type())
	assert.False(t, app.NonRetryable(), "Temporal retries it while the image is not listed")
	assert.Contains(t, app.Message(), "image list")

	skip.Add(int64(5 * time.Minute))
	_, err = newActivityEnv(a).ExecuteActivity(a.VerifyImage, verifyInput(imageID, "golden-unlisted"))
	require.NoError(t, err, "once listed, the copy verifies")
	assert.Len(t, liveImages(srv, "golden-unlisted"), 1, "the copy survives")
}

func TestCleanupWaitsOutTheRunningJobThenDeletes(t *testing.T) {
	clock := newIMSClock()
	srv, a := startIMS(t, imsemu.Config{JobDuration: time.Minute, Now: clock.Now})
	jobID := submit(t, a, "golden-cleanup")
	// IMS's clock moves only as CleanupCopy asks, however long it waits: a read of the job moves
	// it on by a quarter of the job (the first finds the job queued, naming no image yet, the
	// second copying), and a delete by the whole job (the first is refused while the job runs, the
	// next finds it ended).
	clock.step(srv, imsemu.RouteShowJobProgress, 15*time.Second)
	clock.step(srv, imsemu.RouteGlanceDeleteImage, time.Minute)

	// No image ID: CleanupCopy learns it from the job, as after a cancel before any progress read.
	_, err := newActivityEnv(a).ExecuteActivity(a.CleanupCopy, CleanupInput{Region: home, JobID: jobID})
	require.NoError(t, err)

	assert.Empty(t, liveImages(srv, "golden-cleanup"), "the copy's image is gone")
	assert.Equal(t, 2, calls(srv, imsemu.RouteShowJobProgress, -1), "it read the job until the job named its image")
	assert.Equal(t, 1, calls(srv, imsemu.RouteGlanceDeleteImage, 400), "IMS refused the delete while the job ran (IMG.0090)")
	assert.Equal(t, 1, calls(srv, imsemu.RouteGlanceDeleteImage, 204))

	// Idempotent: running it again, with or without the image ID, succeeds and changes nothing.
	imageID := srv.Jobs()[0].ImageID
	for _, in := range []CleanupInput{{Region: home, JobID: jobID}, {Region: home, JobID: jobID, ImageID: imageID}, {Region: home}} {
		_, err := newActivityEnv(a).ExecuteActivity(a.CleanupCopy, in)
		require.NoError(t, err, "%+v", in)
	}
	assert.Empty(t, liveImages(srv, "golden-cleanup"))
}

// After a POST whose answer was lost the workflow has no job or image ID, yet IMS may be copying:
// CleanupCopy finds that copy by its request, waits for it to be listed, and deletes it, waiting
// out IMG.0090 while its job runs.
func TestCleanupFindsAndDeletesTheCopyOfALostPost(t *testing.T) {
	clock := newIMSClock()
	srv, a := startIMS(t, imsemu.Config{JobDuration: time.Minute, Now: clock.Now})
	const invisible = 10 * time.Second
	in, _, err := postWithLostAnswer(t, srv, a, "golden-orphan", invisible)
	f, ok := activityapi.SubmitFailureOf(err)
	require.True(t, ok)
	require.False(t, f.PostAt.IsZero(), "the failure says a copy may exist")
	// IMS's clock moves only as CleanupCopy asks, however long it takes: a look at the list moves it
	// on by the time the new image stays unlisted (the first look misses the copy, the second
	// finds it copying), and a delete by the whole job (the first is refused while the job runs,
	// the next finds it ended). CleanupCopy's own limit on looking only turns a hang into a failure.
	lists := calls(srv, imsemu.RouteListImages, -1)
	clock.step(srv, imsemu.RouteListImages, invisible)
	clock.step(srv, imsemu.RouteGlanceDeleteImage, time.Minute)
	a.Poll.VisibilityWait = time.Minute

	_, err = newActivityEnv(a).ExecuteActivity(a.CleanupCopy, CleanupInput{Region: home, Lost: &in.Request})
	require.NoError(t, err)

	assert.Empty(t, liveImages(srv, "golden-orphan"), "the orphan is gone")
	assert.Equal(t, 2, calls(srv, imsemu.RouteListImages, -1)-lists, "it looked again for the copy that was not listed yet")
	assert.Equal(t, 1, calls(srv, imsemu.RouteGlanceDeleteImage, 400), "IMS refused the delete while the job ran (IMG.0090)")
	assert.Equal(t, 1, calls(srv, imsemu.RouteGlanceDeleteImage, 204))
}

// An active copy of the request may be an earlier, finished copy that someone relies on, and when
// no copy appears there is nothing to delete: either way CleanupCopy deletes nothing.
func TestCleanupOfALostPostDeletesNoActiveCopyAndWaitsForNone(t *testing.T) {
	srv, a := startIMS(t, imsemu.Config{JobDuration: 200 * time.Millisecond})
	finishedCopy(t, srv, a, "golden-finished")

	cleanupLost := func(name string) {
		req := copyRequest(name)
		_, err := newActivityEnv(a).ExecuteActivity(a.CleanupCopy, CleanupInput{Region: home, Lost: &req})
		require.NoError(t, err, name)
	}

	cleanupLost("golden-finished")
	assert.Len(t, liveImages(srv, "golden-finished"), 1, "the finished copy stays")

	lists := calls(srv, imsemu.RouteListImages, -1)
	cleanupLost("golden-never-copied")
	assert.Greater(t, calls(srv, imsemu.RouteListImages, -1)-lists, 1, "it kept looking for a copy that might still appear")
	assert.Zero(t, calls(srv, imsemu.RouteGlanceDeleteImage, -1))
}
