package imsclient_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imscopy/imscopy/imsapi"
	"github.com/imscopy/imscopy/imsapi/imsclient"
	"github.com/imscopy/imscopy/imsapi/imsemu"
	"github.com/imscopy/imscopy/internal/testkit"
)

func copySeed(t *testing.T, r *imsclient.RegionClient, name string) string {
	t.Helper()
	jobID, err := r.CopyInRegion(context.Background(), imsapi.CopyRequest{SourceImageID: seedImageID, Name: name})
	require.NoError(t, err)
	return jobID
}

func TestCopyCrossRegion(t *testing.T) {
	env := startEmu(t, imsemu.Config{})
	ctx := context.Background()

	jobID, err := env.home.CopyCrossRegion(ctx, imsapi.CrossRegionCopyRequest{
		SourceImageID: seedImageID,
		Name:          "test-copy-1001-4",
		Description:   "test",
		TargetRegion:  eastRegion.Name,
		AgencyName:    "ims_copy_image",
	})
	require.NoError(t, err)
	assert.Regexp(t, jobIDShape, jobID)

	job := waitJob(t, env.home, jobID) // the job lives in the source region
	require.Equal(t, imsapi.JobSuccess, job.Status)
	assert.Equal(t, "imsCopyImageCrossRegionJob", job.Type)
	require.NotEmpty(t, job.ImageID)

	img, err := env.east.GetImage(ctx, job.ImageID) // the image in the target region
	require.NoError(t, err)
	assert.Equal(t, "test-copy-1001-4", img.Name)
	assert.Equal(t, "active", img.Status)
	assert.Equal(t, eastRegion.ProjectID, img.Owner)
	assert.Equal(t, seedImageID, img.OriginalImageName)
	assert.Equal(t, "image,"+homeRegion.Name+","+seedImageID, img.DataOrigin)

	_, err = env.home.GetImage(ctx, job.ImageID)
	assert.Equal(t, imsapi.ClassNotFound, imsapi.ClassOf(err), "the copy is not in the source region")
}

func TestGetJobWhileRunning(t *testing.T) {
	clock := testkit.NewClock(time.Now())
	env := startEmu(t, imsemu.Config{Now: clock.Now, JobDuration: time.Minute})
	ctx := context.Background()
	jobID := copySeed(t, env.home, "watched-copy")

	clock.Advance(30 * time.Second)
	job, err := env.home.GetJob(ctx, jobID)
	require.NoError(t, err)
	assert.Equal(t, imsapi.JobRunning, job.Status)
	assert.NotEmpty(t, job.ImageID, "the progress API names the target image while the job runs")
	assert.Equal(t, "watched-copy", job.ImageName)
	assert.InDelta(t, 0.5, job.Percent, 0.01)
	assert.NotEmpty(t, job.CurrentTask)
	assert.Empty(t, job.EndTime)

	img, err := env.home.GetImage(ctx, job.ImageID)
	require.NoError(t, err)
	assert.Equal(t, "saving", img.Status)

	clock.Advance(time.Minute)
	job, err = env.home.GetJob(ctx, jobID)
	require.NoError(t, err)
	assert.Equal(t, imsapi.JobSuccess, job.Status)
	assert.Equal(t, 2, env.requests(imsemu.RouteShowJobProgress))
	assert.Equal(t, 0, env.requests(imsemu.RouteShowJob), "a copy job is read from the progress API alone")
}

func TestGetJobFailed(t *testing.T) {
	env := startEmu(t, imsemu.Config{Faults: imsemu.Faults{JobFailureRate: 1}})
	jobID := copySeed(t, env.home, "doomed-copy")

	job := waitJob(t, env.home, jobID)
	assert.Equal(t, imsapi.JobFail, job.Status)
	assert.NotEmpty(t, job.ErrorCode)
	assert.NotEmpty(t, job.FailReason)
	assert.NotEmpty(t, job.EndTime)
	require.NotEmpty(t, job.ImageID, "a failed copy still names its image, for compensation")

	img, err := env.home.GetImage(context.Background(), job.ImageID)
	require.NoError(t, err)
	assert.Equal(t, "killed", img.Status)
}

func TestGetJobUnknown(t *testing.T) {
	env := startEmu(t, imsemu.Config{})
	_, err := env.home.GetJob(context.Background(), jobIDSample)
	var e *imsapi.Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, imsapi.ClassNotFound, e.Class)
	assert.Equal(t, 404, e.Status)
	assert.Equal(t, "IMG.0023", e.Code)
	assert.Equal(t, 0, env.requests(imsemu.RouteShowJob), "an IMS 404 is an answer, not a missing route")
}

// A deployment without the progress route answers the gateway's 404; the classic job API is read.
func TestGetJobFallsBackToClassicAPI(t *testing.T) {
	env := startEmu(t, imsemu.Config{})
	jobID := copySeed(t, env.home, "old-cloud-copy")
	env.srv.SetFaults(imsemu.Faults{Routes: map[string]imsemu.RouteFault{
		imsemu.RouteShowJobProgress: {ErrorRate: 1, ErrorStatus: 404, ErrorCode: "APIGW.0101"},
	}})

	job := waitJob(t, env.home, jobID)
	assert.Equal(t, imsapi.JobSuccess, job.Status)
	assert.NotEmpty(t, job.ImageID)
	assert.Positive(t, env.requests(imsemu.RouteShowJob))
}

func TestListImages(t *testing.T) {
	clock := testkit.NewClock(time.Now())
	env := startEmu(t, imsemu.Config{Now: clock.Now, JobDuration: time.Minute})
	ctx := context.Background()
	for _, name := range []string{"list-a", "list-b", "list-b"} {
		copySeed(t, env.home, name)
	}
	clock.Advance(2 * time.Minute)
	copySeed(t, env.home, "list-c") // still queued

	all, err := env.home.ListImages(ctx, imsapi.ListFilter{})
	require.NoError(t, err)
	assert.Len(t, all, 5, "the seed and four copies")

	byName, err := env.home.ListImages(ctx, imsapi.ListFilter{Name: "list-b"})
	require.NoError(t, err)
	require.Len(t, byName, 2, "exact name, duplicates allowed")
	for _, img := range byName {
		assert.Equal(t, "list-b", img.Name)
	}

	none, err := env.home.ListImages(ctx, imsapi.ListFilter{Name: "list"})
	require.NoError(t, err)
	assert.Empty(t, none, "name matches exactly, not as a prefix")

	active, err := env.home.ListImages(ctx, imsapi.ListFilter{Status: "active", ImageType: "private", Owner: homeRegion.ProjectID})
	require.NoError(t, err)
	assert.Len(t, active, 4)

	queued, err := env.home.ListImages(ctx, imsapi.ListFilter{Status: "queued"})
	require.NoError(t, err)
	require.Len(t, queued, 1)
	assert.Equal(t, "list-c", queued[0].Name)

	byID, err := env.home.ListImages(ctx, imsapi.ListFilter{ID: seedImageID})
	require.NoError(t, err)
	require.Len(t, byID, 1)
	assert.Equal(t, seedImageID, byID[0].ID)

	otherOwner, err := env.home.ListImages(ctx, imsapi.ListFilter{Owner: eastRegion.ProjectID})
	require.NoError(t, err)
	assert.Empty(t, otherOwner)

	// Paging with limit and marker visits every image once.
	seen := map[string]bool{}
	filter := imsapi.ListFilter{Limit: 2}
	for page := 0; page < 5; page++ {
		images, err := env.home.ListImages(ctx, filter)
		require.NoError(t, err)
		require.LessOrEqual(t, len(images), 2)
		for _, img := range images {
			assert.False(t, seen[img.ID], "image %s listed twice", img.ID)
			seen[img.ID] = true
		}
		if len(images) < 2 {
			break
		}
		filter.Marker = images[len(images)-1].ID
	}
	assert.Len(t, seen, 5)

	east, err := env.east.ListImages(ctx, imsapi.ListFilter{})
	require.NoError(t, err)
	assert.Empty(t, east, "regions do not share images")
}

func TestDeleteImage(t *testing.T) {
	clock := testkit.NewClock(time.Now())
	env := startEmu(t, imsemu.Config{Now: clock.Now, JobDuration: time.Minute})
	ctx := context.Background()
	jobID := copySeed(t, env.home, "short-lived")
	clock.Advance(10 * time.Second)
	job, err := env.home.GetJob(ctx, jobID)
	require.NoError(t, err)
	require.NotEmpty(t, job.ImageID)

	err = env.home.DeleteImage(ctx, job.ImageID)
	var e *imsapi.Error
	require.ErrorAs(t, err, &e, "the copy job still runs")
	assert.Equal(t, imsapi.ClassBusy, e.Class)
	assert.Equal(t, "IMG.0090", e.Code)
	assert.Equal(t, 400, e.Status)

	clock.Advance(time.Minute)
	require.NoError(t, env.home.DeleteImage(ctx, job.ImageID))
	_, err = env.home.GetImage(ctx, job.ImageID)
	assert.Equal(t, imsapi.ClassNotFound, imsapi.ClassOf(err), "a deleted image leaves the list")
	assert.ErrorIs(t, err, imsapi.ErrNotListed, "callers can tell an unlisted image from an IMS 404")
	assert.Contains(t, err.Error(), "not in the image list")
	assert.NotContains(t, err.Error(), "IMS answered", "IMS reported no error; the list just did not hold the image")

	require.NoError(t, env.home.DeleteImage(ctx, job.ImageID), "deleting again is success")
	require.NoError(t, env.home.DeleteImage(ctx, "0f5e0d9c-1b2a-4c3d-8e4f-5a6b7c8d9e0f"), "an unknown image is already gone")
	assert.Equal(t, 4, env.requests(imsemu.RouteGlanceDeleteImage))
}

// Sharing as Terraform's share and accepter resources do: the owner adds a member, the recipient
// accepts in its own project, and the owner sees the member's status.
func TestMembers(t *testing.T) {
	const recipient = "9d8c7b6a5f4e4d3c2b1a0f9e8d7c6b5a"
	env := startEmu(t, imsemu.Config{OtherProjects: map[string][]string{homeRegion.Name: {recipient}}})
	ctx := context.Background()

	jobID, err := env.home.AddMembers(ctx, []string{seedImageID}, []string{recipient})
	require.NoError(t, err)
	job := waitJob(t, env.home, jobID)
	assert.Equal(t, imsapi.JobSuccess, job.Status)
	assert.Equal(t, "imsAddImageMembersJob", job.Type)
	assert.Equal(t, []imsapi.MemberResult{{ImageID: seedImageID, ProjectID: recipient, Status: "success"}}, job.MemberResults)

	members, err := env.home.ListMembers(ctx, seedImageID)
	require.NoError(t, err)
	require.Len(t, members, 1)
	assert.Equal(t, recipient, members[0].MemberID)
	assert.Equal(t, seedImageID, members[0].ImageID)
	assert.Equal(t, imsapi.MemberPending, members[0].Status)
	assert.NotEmpty(t, members[0].CreatedAt)

	imsclient.ClearSDKEnv(t)
	recipientClient, err := imsclient.New(imsclient.Config{
		Region: homeRegion.Name, ProjectID: recipient, AK: imsemu.DefaultAK, SK: imsemu.DefaultSK,
		Endpoints: env.srv.Endpoints(),
	})
	require.NoError(t, err)
	jobID, err = recipientClient.Home().UpdateMemberStatus(ctx, []string{seedImageID}, recipient, imsapi.MemberAccepted)
	require.NoError(t, err)
	job = waitJob(t, recipientClient.Home(), jobID)
	assert.Equal(t, imsapi.JobSuccess, job.Status)
	assert.Equal(t, "imsUpdateImageMembersJob", job.Type)

	members, err = env.home.ListMembers(ctx, seedImageID)
	require.NoError(t, err)
	require.Len(t, members, 1)
	assert.Equal(t, imsapi.MemberAccepted, members[0].Status)
}

// IMS can end a member job in SUCCESS with pairs that failed; the client must show them.
func TestMemberJobReportsFailedPairs(t *testing.T) {
	const recipient = "9d8c7b6a5f4e4d3c2b1a0f9e8d7c6b5a"
	env := startEmu(t, imsemu.Config{
		OtherProjects: map[string][]string{homeRegion.Name: {recipient}},
		Faults:        imsemu.Faults{MemberFailureRate: 1},
	})
	jobID, err := env.home.AddMembers(context.Background(), []string{seedImageID}, []string{recipient})
	require.NoError(t, err)
	job := waitJob(t, env.home, jobID)
	assert.Equal(t, imsapi.JobSuccess, job.Status)
	require.Len(t, job.MemberResults, 1)
	assert.Equal(t, "failed", job.MemberResults[0].Status)
}

// One client serves many workflows at once: concurrent calls share the region's pool and do not
// mix up their contexts or answers (run with -race).
func TestConcurrentCalls(t *testing.T) {
	env := startEmu(t, imsemu.Config{})
	const workers, calls = 16, 5
	var wg sync.WaitGroup
	errs := make(chan error, workers*calls)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < calls; i++ {
				img, err := env.home.GetImage(context.Background(), seedImageID)
				if err == nil && img.ID != seedImageID {
					err = assert.AnError
				}
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	assert.Equal(t, workers*calls, env.requests(imsemu.RouteListImages))
}
