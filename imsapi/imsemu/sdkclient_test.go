package imsemu

import (
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	ims "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ims/v2"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ims/v2/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imscopy/imscopy/internal/testkit"
)

// The official SDK's own signer, request encoding and decoding work against the emulator:
// copy, progress, list with query parameters, delete with a body, members with a DELETE body.
func TestOfficialSDKClient(t *testing.T) {
	clock := testkit.NewClock(time.Now().UTC()) // the SDK dates its signatures with the real clock
	f := newFixture(t, func(c *Config) { c.Now = clock.Now })
	creds, err := basic.NewCredentialsBuilder().WithAk(DefaultAK).WithSk(DefaultSK).WithProjectId(home.ProjectID).SafeBuild()
	require.NoError(t, err)
	hc, err := ims.ImsClientBuilder().WithEndpoints([]string{f.srv.Endpoints()[home.Name]}).WithCredential(creds).SafeBuild()
	require.NoError(t, err)
	client := ims.NewImsClient(hc)

	desc, key := "sdk copy", SeedKMSKeyID
	copied, err := client.CopyImageInRegion(&model.CopyImageInRegionRequest{ImageId: SeedImageID,
		Body: &model.CopyImageInRegionRequestBody{Name: "sdk-made", Description: &desc, CmkId: &key}})
	require.NoError(t, err)
	require.Regexp(t, jobIDPattern, *copied.JobId)

	clock.Advance(testJobDuration / 2)
	progress, err := client.ShowJobProgress(&model.ShowJobProgressRequest{JobId: *copied.JobId})
	require.NoError(t, err)
	assert.Equal(t, "RUNNING", progress.Status.Value())
	imageID := *progress.Entities.ImageId

	clock.Advance(testJobDuration)
	job, err := client.ShowJob(&model.ShowJobRequest{JobId: *copied.JobId})
	require.NoError(t, err)
	assert.Equal(t, "SUCCESS", job.Status.Value())

	name, limit := "sdk-made", int32(10)
	private := model.GetListImagesRequestImagetypeEnum().PRIVATE
	list, err := client.ListImages(&model.ListImagesRequest{Name: &name, Imagetype: &private, Owner: &home.ProjectID, Limit: &limit})
	require.NoError(t, err)
	require.Len(t, *list.Images, 1)
	assert.Equal(t, SeedKMSKeyID, *(*list.Images)[0].SystemCmkid)

	_, err = client.BatchDeleteMembers(&model.BatchDeleteMembersRequest{
		Body: &model.BatchAddMembersRequestBody{Images: []string{SeedImageID}, Projects: []string{recipient}}})
	require.NoError(t, err)

	keepBackup := false
	_, err = client.GlanceDeleteImage(&model.GlanceDeleteImageRequest{ImageId: imageID,
		Body: &model.GlanceDeleteImageRequestBody{DeleteBackup: &keepBackup}})
	require.NoError(t, err)
	_, err = client.GlanceShowImage(&model.GlanceShowImageRequest{ImageId: imageID})
	require.Error(t, err, "deleted")

	for _, c := range f.srv.Counts() {
		assert.NotEqual(t, 401, c.Status, "the SDK's signatures are accepted (%s)", c.Route)
	}
}
