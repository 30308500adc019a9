package imsemu

import (
	"testing"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/utils"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ims/v2/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The official SDK's response models (decoded the way the SDK decodes) read what the emulator
// sends: field names and types match.
func TestSDKModelsDecodeResponses(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.OtherProjects = map[string][]string{home.Name: {recipient}} })
	c := f.client(home)
	jobID := c.startCopy("sdk-shaped")
	f.clock.Advance(testJobDuration / 2)

	var progress model.ShowJobProgressResponse
	require.NoError(t, utils.Unmarshal(c.do("GET", "/v1/cloudimages/job/"+jobID, nil).raw, &progress))
	assert.Equal(t, "RUNNING", progress.Status.Value())
	require.NotNil(t, progress.Entities)
	assert.NotEmpty(t, *progress.Entities.ImageId)
	assert.NotEmpty(t, *progress.Entities.SubJobId)
	assert.InDelta(t, 0.5, *progress.Entities.ProcessPercent, 0.001)
	assert.Equal(t, "", *progress.EndTime)
	assert.Nil(t, progress.ErrorCode)

	f.clock.Advance(testJobDuration)
	var shown model.ShowJobResponse
	require.NoError(t, utils.Unmarshal(c.do("GET", "/v1/"+home.ProjectID+"/jobs/"+jobID, nil).raw, &shown))
	assert.Equal(t, "SUCCESS", shown.Status.Value())
	assert.Equal(t, "imsCopyImageInRegionJob", *shown.JobType)
	imageID := *shown.Entities.ImageId

	var list model.ListImagesResponse
	require.NoError(t, utils.Unmarshal(c.do("GET", "/v2/cloudimages?id="+imageID, nil).raw, &list))
	require.Len(t, *list.Images, 1)
	info := (*list.Images)[0]
	assert.Equal(t, "active", info.Status.Value())
	assert.Equal(t, SeedImageID, *info.Originalimagename)
	assert.Equal(t, "image,cn-north-4,"+SeedImageID, *info.DataOrigin)
	assert.Equal(t, int32(40), info.MinDisk)
	assert.Equal(t, "Linux", info.OsType.Value())
	assert.Equal(t, "private", info.Imagetype.Value())
	assert.Equal(t, "2361393152", info.ImageSize)

	var glance model.GlanceShowImageResponse
	require.NoError(t, utils.Unmarshal(c.do("GET", "/v2/images/"+imageID, nil).raw, &glance))
	assert.Equal(t, imageID, *glance.Id)
	assert.Equal(t, "active", glance.Status.Value())

	r := c.do("POST", "/v1/cloudimages/members", map[string]any{"images": []string{SeedImageID}, "projects": []string{recipient}})
	var added model.BatchAddMembersResponse
	require.NoError(t, utils.Unmarshal(r.raw, &added))
	assert.Regexp(t, jobIDPattern, *added.JobId)
	f.clock.Advance(testJobDuration)
	var memberJob model.ShowJobResponse
	require.NoError(t, utils.Unmarshal(c.do("GET", "/v1/"+home.ProjectID+"/jobs/"+*added.JobId, nil).raw, &memberJob))
	require.Len(t, *memberJob.Entities.Results, 1)
	assert.Equal(t, "success", *(*memberJob.Entities.Results)[0].Status)

	var members model.GlanceListImageMembersResponse
	require.NoError(t, utils.Unmarshal(c.do("GET", "/v2/images/"+SeedImageID+"/members", nil).raw, &members))
	require.Len(t, *members.Members, 1)
	assert.Equal(t, recipient, (*members.Members)[0].MemberId)
}
