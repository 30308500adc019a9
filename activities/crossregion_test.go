package activities

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imscopy/imscopy/imsapi/imsemu"
	"github.com/imscopy/imscopy/internal/testkit"
)

// target is the emulator's second region, where cross-region copies go.
var target = imsemu.DefaultRegions[1].Name

func crossRegionInput(name string) SubmitCopyInput {
	req := copyRequest(name)
	req.CMKID = ""
	return SubmitCopyInput{Region: home, Request: req, TargetRegion: target, AgencyName: "ims_admin_agency"}
}

// A cross-region copy is POSTed in the source region, its job polled there, and its image made,
// verified, adopted and deleted in the target region.
func TestCrossRegionCopyRunsInBothRegions(t *testing.T) {
	clock := newIMSClock()
	srv, a := startIMS(t, imsemu.Config{JobDuration: time.Minute, Now: clock.Now})
	in := crossRegionInput("golden-cross")

	v, err := newActivityEnv(a).ExecuteActivity(a.SubmitCopy, in)
	require.NoError(t, err)
	var sub SubmitCopyResult
	require.NoError(t, v.Get(&sub))
	require.NotEmpty(t, sub.JobID)
	assert.Equal(t, 1, calls(srv, imsemu.RouteCopyCrossRegion, 200))
	images := liveImages(srv, "golden-cross")
	require.Len(t, images, 1)
	assert.Equal(t, target, images[0].Region, "the image is made in the target region")

	again, err := newActivityEnv(a).ExecuteActivity(a.SubmitCopy, in)
	require.NoError(t, err)
	var adopted SubmitCopyResult
	require.NoError(t, again.Get(&adopted))
	assert.True(t, adopted.Adopted, "the copy is found in the target region")
	assert.Equal(t, images[0].ID, adopted.ImageID)
	assert.Equal(t, 1, calls(srv, imsemu.RouteCopyCrossRegion, -1), "and not POSTed again")

	clock.Advance(2 * time.Minute)
	v, err = newActivityEnv(a).ExecuteActivity(a.PollJob, PollJobInput{Region: home, JobID: sub.JobID, ImageRegion: target})
	require.NoError(t, err)
	var done PollJobResult
	require.NoError(t, v.Get(&done))
	assert.Equal(t, images[0].ID, done.ImageID)

	_, err = newActivityEnv(a).ExecuteActivity(a.PollJob, PollJobInput{Region: home, ImageID: images[0].ID, ImageRegion: target})
	require.NoError(t, err, "an adopted image is watched in the target region")

	_, err = newActivityEnv(a).ExecuteActivity(a.VerifyImage, VerifyImageInput{Region: target, SourceRegion: home,
		ImageID: done.ImageID, SourceImageID: imsemu.SeedImageID, Name: "golden-cross"})
	require.NoError(t, err)

	_, err = newActivityEnv(a).ExecuteActivity(a.CleanupCopy, CleanupInput{Region: home, JobID: sub.JobID, ImageRegion: target})
	require.NoError(t, err)
	assert.Empty(t, liveImages(srv, "golden-cross"), "deleted in the target region")
}

// A cross-region copy cannot be encrypted: refused before any call, saying what to do.
func TestCrossRegionCopyRefusesAKey(t *testing.T) {
	srv, a := startIMS(t, imsemu.Config{})
	in := crossRegionInput("golden-cross-key")
	in.Request.CMKID = imsemu.SeedKMSKeyID
	_, err := newActivityEnv(a).ExecuteActivity(a.SubmitCopy, in)
	app := testkit.AppError(t, err)
	assert.Equal(t, ErrInvalidInput, app.Type())
	assert.Contains(t, app.Message(), "cmk_id")
	assert.Empty(t, srv.Counts(), "no request reached IMS")

	in = crossRegionInput("golden-cross-agency")
	in.AgencyName = ""
	_, err = newActivityEnv(a).ExecuteActivity(a.SubmitCopy, in)
	assert.Contains(t, testkit.AppError(t, err).Message(), "agency_name")
	assert.Empty(t, srv.Counts(), "no request reached IMS")
}

// The final image of a two-hop copy is found by name, key and an in-region lineage, also once its
// intermediate is deleted; a plain image of the same name, or one with another key, is not it.
func TestFindReencryptedFindsTheSecondHopsImage(t *testing.T) {
	clock := newIMSClock()
	srv, a := startIMS(t, imsemu.Config{JobDuration: time.Minute, Now: clock.Now})
	const eastKey = "7f3e2a1b-4c5d-4e6f-8a9b-0c1d2e3f4a5b" // the emulator's key of its second region
	find := func() FoundImage {
		v, err := newActivityEnv(a).ExecuteActivity(a.FindReencrypted, FindReencryptedInput{Region: target, Name: "golden-final", CMKID: eastKey})
		require.NoError(t, err)
		var f FoundImage
		require.NoError(t, v.Get(&f))
		return f
	}
	hop := crossRegionInput("golden-final") // plain, same name: not the final image
	_, err := newActivityEnv(a).ExecuteActivity(a.SubmitCopy, hop)
	require.NoError(t, err)
	clock.Advance(2 * time.Minute)
	intermediate := liveImages(srv, "golden-final")[0].ID
	assert.Empty(t, find().ID, "a plain cross-region copy is not the final image")

	second := SubmitCopyInput{Region: target, Request: copyRequest("golden-final")}
	second.Request.SourceImageID, second.Request.CMKID = intermediate, eastKey
	_, err = newActivityEnv(a).ExecuteActivity(a.SubmitCopy, second)
	require.NoError(t, err)
	saving := find()
	assert.NotEmpty(t, saving.ID)
	assert.NotEqual(t, "active", saving.Status)
	assert.Equal(t, intermediate, saving.SourceImageID, "a second hop under way names its intermediate")
	for name, want := range map[string]bool{"golden-final": true, "golden-other-hop": false} {
		v, err := newActivityEnv(a).ExecuteActivity(a.FindReencrypted, FindReencryptedInput{Region: target, Name: "golden-final",
			CMKID: eastKey, IntermediateName: name, SourceImageID: imsemu.SeedImageID})
		require.NoError(t, err)
		var f FoundImage
		require.NoError(t, v.Get(&f))
		assert.Equal(t, want, f.ID != "", "a second hop under way from %q", name)
	}

	clock.Advance(2 * time.Minute)
	_, err = newActivityEnv(a).ExecuteActivity(a.CleanupCopy, CleanupInput{Region: target, ImageID: intermediate})
	require.NoError(t, err)
	done := find()
	assert.Equal(t, saving.ID, done.ID, "found after its intermediate is deleted")
	assert.Equal(t, "active", done.Status)
}
