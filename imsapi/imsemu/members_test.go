package imsemu

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const recipient = "a1b2c3d4e5f60718293a4b5c6d7e8f90"

func TestSharing(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.OtherProjects = map[string][]string{home.Name: {recipient}} })
	owner := f.client(home)
	guest := f.client(home)
	guest.project = recipient

	share := map[string]any{"images": []string{SeedImageID}, "projects": []string{recipient}}
	r := owner.do("POST", "/v1/cloudimages/members", share)
	require.Equal(t, 200, r.status, "body: %s", r.raw)
	jobID := r.json(t)["job_id"].(string)

	f.clock.Advance(testJobDuration)
	job := owner.do("GET", "/v1/"+home.ProjectID+"/jobs/"+jobID, nil).json(t)
	assert.Equal(t, "SUCCESS", job["status"])
	assert.Equal(t, "imsAddImageMembersJob", job["job_type"])
	assert.Equal(t, []any{map[string]any{"image_id": SeedImageID, "project_id": recipient, "status": "success"}},
		entities(job)["results"])

	members := owner.do("GET", "/v2/images/"+SeedImageID+"/members", nil).json(t)
	assert.Equal(t, "/v2/schemas/members", members["schema"])
	require.Len(t, members["members"], 1)
	m := members["members"].([]any)[0].(map[string]any)
	assert.Equal(t, "pending", m["status"])
	assert.Equal(t, recipient, m["member_id"])
	assert.Equal(t, "/v2/schemas/member", m["schema"])

	sharedList := "/v2/cloudimages?__imagetype=shared&visibility=shared&member_status=accepted"
	assert.Empty(t, guest.do("GET", sharedList, nil).json(t)["images"], "not accepted yet")

	accept := map[string]any{"images": []string{SeedImageID}, "project_id": recipient, "status": "accepted"}
	r = guest.do("PUT", "/v1/cloudimages/members", accept)
	require.Equal(t, 200, r.status, "body: %s", r.raw)
	f.clock.Advance(testJobDuration)
	job = guest.do("GET", "/v1/"+recipient+"/jobs/"+r.json(t)["job_id"].(string), nil).json(t)
	assert.Equal(t, "imsUpdateImageMembersJob", job["job_type"])
	assert.Equal(t, "SUCCESS", job["status"])

	list := guest.do("GET", sharedList, nil).json(t)["images"].([]any)
	require.Len(t, list, 1)
	assert.Equal(t, "shared", list[0].(map[string]any)["__imagetype"])
	assert.Equal(t, home.ProjectID, list[0].(map[string]any)["owner"])

	r = guest.do("POST", "/v1/cloudimages/"+SeedImageID+"/copy", copyBody("my-own-copy"))
	require.Equal(t, 200, r.status, "an accepted shared image can be copied: %s", r.raw)

	r = owner.do("DELETE", "/v1/cloudimages/members", share)
	require.Equal(t, 200, r.status, "body: %s", r.raw)
	f.clock.Advance(testJobDuration)
	job = owner.job(r.json(t)["job_id"].(string))
	assert.Equal(t, "imsDelImageMembersJob", job["job_type"])
	assert.Empty(t, owner.do("GET", "/v2/images/"+SeedImageID+"/members", nil).json(t)["members"])
	assert.Equal(t, 404, guest.do("GET", "/v2/images/"+SeedImageID, nil).status)
}

func TestSharingRefusals(t *testing.T) {
	f := newFixture(t)
	c := f.client(home)
	cases := []struct {
		name   string
		body   map[string]any
		status int
		code   string
	}{
		{"with itself", map[string]any{"images": []string{SeedImageID}, "projects": []string{home.ProjectID}}, 400, "IMG.0076"},
		{"unknown image", map[string]any{"images": []string{"00000000-0000-4000-8000-000000000000"}, "projects": []string{recipient}}, 404, "IMG.0027"},
		{"bad project ID", map[string]any{"images": []string{SeedImageID}, "projects": []string{"nope"}}, 400, "IMG.0001"},
		{"no images", map[string]any{"images": []string{}, "projects": []string{recipient}}, 400, "IMG.0001"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := c.do("POST", "/v1/cloudimages/members", tc.body)
			assert.Equal(t, tc.status, r.status, "body: %s", r.raw)
			assert.Equal(t, tc.code, r.code(t))
		})
	}
	require.Equal(t, 200, c.do("POST", "/v1/cloudimages/"+SeedImageID+"/copy", map[string]any{"name": "enc", "cmk_id": SeedKMSKeyID}).status)
	f.clock.Advance(testJobDuration)
	encrypted := f.srv.Jobs()[0].ImageID
	r := c.do("POST", "/v1/cloudimages/members", map[string]any{"images": []string{encrypted}, "projects": []string{recipient}})
	assert.Equal(t, 400, r.status)
	assert.Equal(t, "IMG.0098", r.code(t))
}

func TestMemberFailureKnob(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Faults.MemberFailureRate = 1 })
	c := f.client(home)
	r := c.do("POST", "/v1/cloudimages/members", map[string]any{"images": []string{SeedImageID}, "projects": []string{recipient}})
	require.Equal(t, 200, r.status)
	f.clock.Advance(testJobDuration)
	job := c.do("GET", "/v1/"+home.ProjectID+"/jobs/"+r.json(t)["job_id"].(string), nil).json(t)
	assert.Equal(t, "SUCCESS", job["status"], "the job succeeds while a pair fails, as IMS reports it")
	assert.Equal(t, "failed", entities(job)["results"].([]any)[0].(map[string]any)["status"])
	assert.Empty(t, c.do("GET", "/v2/images/"+SeedImageID+"/members", nil).json(t)["members"])
}
