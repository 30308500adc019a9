package imsemu

import (
	"encoding/json"
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	jobIDPattern     = regexp.MustCompile(`^[0-9a-f]{32}$`)
	requestIDPattern = jobIDPattern
	jobTimePattern   = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)
)

// The seed example of docs/ims-api.md section 2, sent byte for byte from testdata/.
func TestSeedExample(t *testing.T) {
	request, err := os.ReadFile("../../testdata/seed_copy_request.json")
	require.NoError(t, err)
	documented, err := os.ReadFile("../../testdata/seed_copy_response.json")
	require.NoError(t, err)
	f := newFixture(t)
	c := f.client(home)

	r := c.do("POST", "/v1/cloudimages/465076de-dc36-4aec-80f5-ef9d8009428f/copy", request)
	require.Equal(t, 200, r.status, "body: %s", r.raw)
	assert.Equal(t, "application/json", r.header.Get("Content-Type"))
	assert.Regexp(t, requestIDPattern, r.header.Get("X-Request-Id"))
	var got, want map[string]string
	require.NoError(t, json.Unmarshal(r.raw, &got))
	require.NoError(t, json.Unmarshal(documented, &want))
	assert.Len(t, got, len(want), "same fields as the documented response")
	assert.Regexp(t, jobIDPattern, got["job_id"])

	f.clock.Advance(testJobDuration)
	job := c.job(got["job_id"])
	assert.Equal(t, "SUCCESS", job["status"])
	assert.Equal(t, "imsCopyImageInRegionJob", job["job_type"])
	assert.Regexp(t, jobTimePattern, job["end_time"])
	imageID := entities(job)["image_id"].(string)

	img := c.image(imageID)
	assert.Equal(t, "active", img["status"])
	assert.Equal(t, "ims_encrypted_copy3", img["name"])
	assert.Equal(t, "test copy", img["__description"])
	assert.Equal(t, SeedKMSKeyID, img["__system__cmkid"])
	assert.Equal(t, SeedImageID, img["__originalimagename"])
	assert.Equal(t, "image,cn-north-4,"+SeedImageID, img["__data_origin"])
	assert.Equal(t, home.ProjectID, img["owner"])
	assert.Equal(t, "private", img["__imagetype"])
	source := c.image(SeedImageID)
	for _, field := range []string{"min_disk", "min_ram", "__os_type", "__os_version", "__os_bit", "__platform", "architecture", "__image_size", "disk_format"} {
		assert.Equal(t, source[field], img[field], field)
	}
}

func TestCopyLifecycle(t *testing.T) {
	f := newFixture(t)
	c := f.client(home)
	jobID := c.startCopy("lifecycle")
	imageID := f.srv.Jobs()[0].ImageID

	job := c.job(jobID)
	assert.Equal(t, "INIT", job["status"])
	assert.Equal(t, "", job["end_time"])
	assert.Equal(t, "queued", c.image(imageID)["status"])

	f.clock.Advance(testJobDuration * 4 / 10)
	job = c.job(jobID)
	assert.Equal(t, "RUNNING", job["status"])
	assert.Equal(t, "", job["end_time"])
	assert.Nil(t, job["error_code"])
	ent := entities(job)
	assert.Equal(t, imageID, ent["image_id"], "the target image is known while RUNNING")
	assert.Equal(t, "lifecycle", ent["image_name"])
	assert.InDelta(t, 0.40, ent["process_percent"], 0.001)
	assert.Equal(t, "CopyImageInRegionTask:", ent["current_task"])
	assert.Regexp(t, jobIDPattern, ent["subJobId"])
	assert.Equal(t, "saving", c.image(imageID)["status"])

	f.clock.Advance(testJobDuration)
	shown := c.do("GET", "/v1/"+home.ProjectID+"/jobs/"+jobID, nil)
	require.Equal(t, 200, shown.status)
	job = shown.json(t)
	assert.Equal(t, "SUCCESS", job["status"])
	assert.Regexp(t, jobTimePattern, job["begin_time"])
	assert.Regexp(t, jobTimePattern, job["end_time"])
	assert.InDelta(t, 1.0, entities(job)["process_percent"], 0.0001)
	assert.Equal(t, "active", c.image(imageID)["status"])
}

func TestJobFailure(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Faults.JobFailureRate = 1 })
	c := f.client(home)
	jobID := c.startCopy("doomed")
	f.clock.Advance(testJobDuration)

	job := c.job(jobID)
	assert.Equal(t, "FAIL", job["status"])
	assert.Equal(t, codeJobFailed, job["error_code"])
	assert.NotEmpty(t, job["fail_reason"])
	assert.Regexp(t, jobTimePattern, job["end_time"])
	imageID := entities(job)["image_id"].(string)
	assert.NotEmpty(t, imageID, "a failed job still names its image")
	assert.Equal(t, "killed", c.image(imageID)["status"])

	shown := c.do("GET", "/v1/"+home.ProjectID+"/jobs/"+jobID, nil).json(t)
	assert.Equal(t, codeJobFailed, entities(shown)["error_code"])
	assert.NotEmpty(t, entities(shown)["error"])
}

func TestJobDurationRange(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.JobDurationMax = 3 * testJobDuration })
	c := f.client(home)
	for range 5 {
		c.startCopy("ranged")
	}
	distinct := map[time.Duration]bool{}
	for _, j := range f.srv.Jobs() {
		assert.GreaterOrEqual(t, j.Duration, testJobDuration)
		assert.LessOrEqual(t, j.Duration, 3*testJobDuration)
		distinct[j.Duration] = true
	}
	assert.Greater(t, len(distinct), 1, "durations are drawn, not fixed")
}

func TestCrossRegionCopy(t *testing.T) {
	f := newFixture(t)
	north, southEast := f.client(home), f.client(east)
	body := map[string]any{"name": "replica", "description": "x", "region": east.Name, "project_name": east.Name, "agency_name": "ims_copy_image"}
	r := north.do("POST", "/v1/cloudimages/"+SeedImageID+"/cross_region_copy", body)
	require.Equal(t, 200, r.status, "body: %s", r.raw)
	jobID := r.json(t)["job_id"].(string)

	assert.Equal(t, 404, southEast.do("GET", "/v1/cloudimages/job/"+jobID, nil).status, "the job lives in the source region")
	f.clock.Advance(testJobDuration)
	job := north.job(jobID)
	assert.Equal(t, "SUCCESS", job["status"])
	assert.Equal(t, jobTypeCrossRegion, job["job_type"])
	imageID := entities(job)["image_id"].(string)

	assert.Equal(t, 404, north.do("GET", "/v2/images/"+imageID, nil).status, "the image lives in the target region")
	img := southEast.image(imageID)
	assert.Equal(t, "active", img["status"])
	assert.Equal(t, east.ProjectID, img["owner"])
	assert.Equal(t, "image,cn-north-4,"+SeedImageID, img["__data_origin"])
	assert.Equal(t, SeedImageID, img["__originalimagename"])
}

func TestCrossRegionRefusals(t *testing.T) {
	f := newFixture(t)
	c := f.client(home)
	require.Equal(t, 200, c.do("POST", "/v1/cloudimages/"+SeedImageID+"/copy",
		map[string]any{"name": "enc", "cmk_id": SeedKMSKeyID}).status)
	f.clock.Advance(testJobDuration)
	var encryptedID string
	for _, img := range f.srv.Images() {
		if img.CMKID != "" {
			encryptedID = img.ID
		}
	}
	require.NotEmpty(t, encryptedID)

	body := func(region, project, agency string) map[string]any {
		return map[string]any{"name": "replica", "region": region, "project_name": project, "agency_name": agency}
	}
	cases := []struct {
		name   string
		source string
		body   map[string]any
		status int
		code   string
	}{
		{"same region", SeedImageID, body(home.Name, home.Name, "a"), 400, "IMG.0142"},
		{"encrypted source", encryptedID, body(east.Name, east.Name, "a"), 400, "IMG.0143"},
		{"unknown region", SeedImageID, body("xx-nowhere-1", "xx-nowhere-1", "a"), 400, "IMG.0147"},
		{"wrong project name", SeedImageID, body(east.Name, "someone-else", "a"), 400, "IMG.0145"},
		{"no agency", SeedImageID, body(east.Name, east.Name, ""), 400, "IMG.0151"},
		{"unknown source", "00000000-0000-4000-8000-000000000000", body(east.Name, east.Name, "a"), 404, "IMG.0027"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := c.do("POST", "/v1/cloudimages/"+tc.source+"/cross_region_copy", tc.body)
			assert.Equal(t, tc.status, r.status, "body: %s", r.raw)
			assert.Equal(t, tc.code, r.code(t))
		})
	}
}

// Every server-side check of a copy request, with IMS's codes; a valid variant of each passes.
func TestCopyValidation(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Limits.RunningJobsPerProject = -1 })
	c := f.client(home)
	long := func(n int) string {
		b := make([]rune, n)
		for i := range b {
			b[i] = 'a'
		}
		return string(b)
	}
	cases := []struct {
		name   string
		image  string
		body   any
		status int
		code   string
	}{
		{"valid, all characters", SeedImageID, map[string]any{"name": "Ab0-._ 镜像 x"}, 200, ""},
		{"valid, 128 characters", SeedImageID, map[string]any{"name": long(128)}, 200, ""},
		{"valid, 1024-character description", SeedImageID, map[string]any{"name": "d", "description": long(1024)}, 200, ""},
		{"valid, enterprise project 0", SeedImageID, map[string]any{"name": "e", "enterprise_project_id": "0"}, 200, ""},
		{"empty body", SeedImageID, "", 400, "IMG.0007"},
		{"malformed JSON", SeedImageID, "{\"name\":", 400, "IMG.0001"},
		{"name missing", SeedImageID, map[string]any{"description": "x"}, 400, "IMG.0013"},
		{"name empty", SeedImageID, map[string]any{"name": ""}, 400, "IMG.0013"},
		{"name 129 characters", SeedImageID, map[string]any{"name": long(129)}, 400, "IMG.0002"},
		{"name with slash", SeedImageID, map[string]any{"name": "a/b"}, 400, "IMG.0003"},
		{"name with leading space", SeedImageID, map[string]any{"name": " a"}, 400, "IMG.0003"},
		{"name with trailing space", SeedImageID, map[string]any{"name": "a "}, 400, "IMG.0003"},
		{"description 1025 characters", SeedImageID, map[string]any{"name": "a", "description": long(1025)}, 400, "IMG.0004"},
		{"description with <", SeedImageID, map[string]any{"name": "a", "description": "a<b"}, 400, "IMG.0054"},
		{"description with carriage return", SeedImageID, map[string]any{"name": "a", "description": "a\rb"}, 400, "IMG.0054"},
		{"unknown KMS key", SeedImageID, map[string]any{"name": "a", "cmk_id": "11111111-2222-4333-8444-555555555555"}, 400, "IMG.0095"},
		{"bad enterprise project", SeedImageID, map[string]any{"name": "a", "enterprise_project_id": "x"}, 400, "IMG.0155"},
		{"image ID not a UUID", "not-a-uuid", map[string]any{"name": "a"}, 400, "IMG.0001"},
		{"unknown image", "00000000-0000-4000-8000-000000000000", map[string]any{"name": "a"}, 404, "IMG.0027"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := c.do("POST", "/v1/cloudimages/"+tc.image+"/copy", tc.body)
			assert.Equal(t, tc.status, r.status, "body: %s", r.raw)
			if tc.code != "" {
				assert.Equal(t, tc.code, r.code(t))
				assert.NotEmpty(t, r.json(t)["error"].(map[string]any)["message"])
			}
		})
	}
}

func TestCopyOfImageStillSavingIsRefused(t *testing.T) {
	f := newFixture(t)
	c := f.client(home)
	c.startCopy("first")
	f.clock.Advance(testJobDuration / 2)
	saving := f.srv.Jobs()[0].ImageID
	r := c.do("POST", "/v1/cloudimages/"+saving+"/copy", copyBody("second"))
	assert.Equal(t, 400, r.status)
	assert.Equal(t, "IMG.0046", r.code(t))
}

func TestUnknownJobAndProjectMismatch(t *testing.T) {
	f := newFixture(t)
	c := f.client(home)
	jobID := c.startCopy("mine")
	unknown := "0123456789abcdef0123456789abcdef"
	for _, path := range []string{"/v1/cloudimages/job/" + unknown, "/v1/" + home.ProjectID + "/jobs/" + unknown} {
		r := c.do("GET", path, nil)
		assert.Equal(t, 404, r.status, path)
		assert.Equal(t, "IMG.0023", r.code(t), path)
	}
	r := c.do("GET", "/v1/"+east.ProjectID+"/jobs/"+jobID, nil)
	assert.Equal(t, 403, r.status, "a project in the path that is not the caller's")

	r = c.do("GET", "/v1/cloudimages/nothing/here", nil)
	assert.Equal(t, 404, r.status)
	assert.Equal(t, "APIGW.0101", r.code(t))
}
