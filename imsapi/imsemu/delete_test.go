package imsemu

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDeleteImage(t *testing.T) {
	f := newFixture(t)
	c := f.client(home)
	c.startCopy("short-lived")
	imageID := f.srv.Jobs()[0].ImageID

	r := c.do("DELETE", "/v2/images/"+imageID, nil)
	assert.Equal(t, 400, r.status, "still being created")
	assert.Equal(t, "IMG.0090", r.code(t))

	f.clock.Advance(testJobDuration)
	r = c.do("DELETE", "/v2/images/"+imageID, map[string]any{"delete_backup": false})
	assert.Equal(t, 204, r.status, "body: %s", r.raw)
	assert.Empty(t, r.raw)

	r = c.do("GET", "/v2/images/"+imageID, nil)
	assert.Equal(t, 404, r.status)
	assert.Equal(t, "IMG.0027", r.code(t))
	list := c.do("GET", "/v2/cloudimages?id="+imageID, nil).json(t)
	assert.Empty(t, list["images"], "deleted images leave the list")

	assert.Equal(t, 204, c.do("DELETE", "/v2/images/"+imageID, nil).status, "deleting again is idempotent")
	assert.Equal(t, 404, c.do("DELETE", "/v2/images/00000000-0000-4000-8000-000000000000", nil).status)

	var deleted *AdminImage
	for _, img := range f.srv.Images() {
		if img.ID == imageID {
			deleted = &img
		}
	}
	require.NotNil(t, deleted, "the admin API keeps deleted images")
	assert.Equal(t, "deleted", deleted.Status)
	assert.False(t, deleted.DeletedAt.IsZero())
}

func TestDeleteFailedCopy(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Faults.JobFailureRate = 1 })
	c := f.client(home)
	c.startCopy("compensate-me")
	imageID := f.srv.Jobs()[0].ImageID
	f.clock.Advance(testJobDuration)
	assert.Equal(t, "killed", c.image(imageID)["status"])
	assert.Equal(t, 204, c.do("DELETE", "/v2/images/"+imageID, nil).status)
}

func TestDeleteByAnotherProject(t *testing.T) {
	f := newFixture(t)
	c := f.client(east)
	r := c.do("DELETE", "/v2/images/"+SeedImageID, nil)
	assert.Equal(t, 404, r.status, "an image of another region is not found here")
}
