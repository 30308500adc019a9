package imsapi_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imscopy/imscopy/imsapi"
)

const (
	seedImageID = "465076de-dc36-4aec-80f5-ef9d8009428f"
	seedKeyID   = "bd66288c-9081-460a-8227-4cbd0c814cb4"
	projectA    = "0b3f6ab0e2a64c2c9f2c4c6f4c1d7e01"
	projectB    = "5c2e8f0d4a7b4e1f9c3d2b6a8e0f1a23"
	jobIDSample = "edc89b490d7d4392898e19b2deb34797"
)

// inputCase is one value for a rule; valid says whether IMS accepts it.
type inputCase struct {
	name  string
	value string
	valid bool
}

// nameCases and descriptionCases cover every rule of docs/ims-api.md section 2 from both sides; the
// emulator-backed tests send them through CopyInRegion too.
var nameCases = []inputCase{
	{"doc example", "ims_encrypted_copy3", true},
	{"one char", "a", true},
	{"all allowed ASCII", "Golden-CentOS 7.9_x86", true},
	{"Chinese", "黄金镜像 副本", true},
	{"128 Chinese runes (384 bytes)", strings.Repeat("镜", 128), true},
	{"128 ASCII", strings.Repeat("a", 128), true},
	{"empty", "", false},
	{"129 chars", strings.Repeat("a", 129), false},
	{"slash", "golden/copy", false},
	{"exclamation", "copy!", false},
	{"accented latin", "café", false},
	{"emoji", "copy😀", false},
	{"tab", "a\tb", false},
	{"leading space", " copy", false},
	{"trailing space", "copy ", false},
}

var descriptionCases = []inputCase{
	{"empty", "", true},
	{"doc example", "test copy", true},
	{"Chinese and punctuation", "测试, copy: (v1) & more!", true},
	{"newline", "line one\nline two", true},
	{"1024 chars", strings.Repeat("d", 1024), true},
	{"1024 Chinese runes", strings.Repeat("述", 1024), true},
	{"1025 chars", strings.Repeat("d", 1025), false},
	{"carriage return", "a\r\nb", false},
	{"less-than", "<script>", false},
	{"greater-than", "a > b", false},
	{"invalid UTF-8", "a\xffb", false},
}

// validationCase is one input to a validator: wantField "" means valid, otherwise the field the
// *ValidationError must name.
type validationCase struct {
	name      string
	check     func() error
	wantField string
}

func validationCases() []validationCase {
	var cases []validationCase
	field := func(valid bool, f string) string {
		if valid {
			return ""
		}
		return f
	}
	for _, c := range nameCases {
		v := c.value
		cases = append(cases, validationCase{"name/" + c.name, func() error { return imsapi.ValidateName(v) }, field(c.valid, "name")})
	}
	for _, c := range descriptionCases {
		v := c.value
		cases = append(cases, validationCase{"description/" + c.name, func() error { return imsapi.ValidateDescription(v) },
			field(c.valid, "description")})
	}
	uuid := func(s string) func() error { return func() error { return imsapi.ValidateUUID("image_id", s) } }
	job := func(s string) func() error { return func() error { return imsapi.ValidateJobID(s) } }
	region := func(s string) func() error { return func() error { return imsapi.ValidateRegion("region", s) } }
	eps := func(s string) func() error { return func() error { return imsapi.ValidateEnterpriseProjectID(s) } }
	project := func(s string) func() error { return func() error { return imsapi.ValidateProjectID("project_id", s) } }
	return append(cases, []validationCase{
		{"uuid/seed image", uuid(seedImageID), ""},
		{"uuid/upper case", uuid(strings.ToUpper(seedImageID)), ""},
		{"uuid/empty", uuid(""), "image_id"},
		{"uuid/no dashes", uuid(strings.ReplaceAll(seedImageID, "-", "")), "image_id"},
		{"uuid/too short", uuid(seedImageID[:35]), "image_id"},
		{"uuid/not hex", uuid("465076de-dc36-4aec-80f5-ef9d8009428g"), "image_id"},
		{"uuid/path injection", uuid("../../v2/images"), "image_id"},

		{"job/doc example", job(jobIDSample), ""},
		{"job/empty", job(""), "job_id"},
		{"job/upper case", job(strings.ToUpper(jobIDSample)), "job_id"},
		{"job/31 chars", job(jobIDSample[:31]), "job_id"},
		{"job/uuid", job(seedImageID), "job_id"},

		{"region/cn-north-4", region("cn-north-4"), ""},
		{"region/ap-southeast-1", region("ap-southeast-1"), ""},
		{"region/eu-west-101", region("eu-west-101"), ""},
		{"region/empty", region(""), "region"},
		{"region/upper case", region("CN-NORTH-4"), "region"},
		{"region/no dash", region("cnnorth4"), "region"},
		{"region/URL", region("https://ims.cn-north-4.myhuaweicloud.com"), "region"},

		{"enterprise project/absent", eps(""), ""},
		{"enterprise project/default", eps("0"), ""},
		{"enterprise project/uuid", eps(seedKeyID), ""},
		{"enterprise project/other", eps("default"), "enterprise_project_id"},

		{"project/emulator home", project(projectA), ""},
		{"project/empty", project(""), "project_id"},
		{"project/upper case", project(strings.ToUpper(projectA)), "project_id"},
		{"project/uuid", project(seedImageID), "project_id"},
	}...)
}

func TestValidators(t *testing.T) {
	for _, tc := range validationCases() {
		t.Run(tc.name, func(t *testing.T) {
			assertValidation(t, tc.check(), tc.wantField)
		})
	}
}

func assertValidation(t *testing.T, err error, wantField string) {
	t.Helper()
	if wantField == "" {
		require.NoError(t, err)
		return
	}
	var v *imsapi.ValidationError
	require.True(t, errors.As(err, &v), "want *ValidationError, got %v", err)
	assert.Equal(t, wantField, v.Field)
	assert.NotEmpty(t, v.Rule)
	assert.Contains(t, err.Error(), wantField, "the message names the field")
	assert.Equal(t, imsapi.ClassInvalid, imsapi.ClassOf(err))
}

func TestValidationErrorShortensLongValues(t *testing.T) {
	err := imsapi.ValidateName(strings.Repeat("x", 500))
	var v *imsapi.ValidationError
	require.True(t, errors.As(err, &v))
	assert.LessOrEqual(t, len([]rune(v.Value)), 40)
	assert.Contains(t, v.Rule, "500")
}

func validCopy() imsapi.CopyRequest {
	return imsapi.CopyRequest{SourceImageID: seedImageID, Name: "ims_encrypted_copy3", Description: "test copy", CMKID: seedKeyID}
}

func validCrossCopy() imsapi.CrossRegionCopyRequest {
	return imsapi.CrossRegionCopyRequest{SourceImageID: seedImageID, Name: "test-copy-1001-4", Description: "test",
		TargetRegion: "cn-east-3", AgencyName: "ims_copy_image"}
}

func TestCopyRequestValidate(t *testing.T) {
	tests := []struct {
		name      string
		edit      func(*imsapi.CopyRequest)
		wantField string
	}{
		{"seed example", func(*imsapi.CopyRequest) {}, ""},
		{"unencrypted, no description", func(r *imsapi.CopyRequest) { r.CMKID, r.Description = "", "" }, ""},
		{"default enterprise project", func(r *imsapi.CopyRequest) { r.EnterpriseProjectID = "0" }, ""},
		{"bad source", func(r *imsapi.CopyRequest) { r.SourceImageID = "nope" }, "image_id"},
		{"bad name", func(r *imsapi.CopyRequest) { r.Name = "a/b" }, "name"},
		{"bad description", func(r *imsapi.CopyRequest) { r.Description = "<b>" }, "description"},
		{"bad key", func(r *imsapi.CopyRequest) { r.CMKID = "key-1" }, "cmk_id"},
		{"bad enterprise project", func(r *imsapi.CopyRequest) { r.EnterpriseProjectID = "ep" }, "enterprise_project_id"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := validCopy()
			tc.edit(&req)
			assertValidation(t, req.Validate(), tc.wantField)
		})
	}
}

func TestCrossRegionCopyRequestValidate(t *testing.T) {
	tests := []struct {
		name      string
		edit      func(*imsapi.CrossRegionCopyRequest)
		wantField string
	}{
		{"doc example", func(*imsapi.CrossRegionCopyRequest) {}, ""},
		{"bad source", func(r *imsapi.CrossRegionCopyRequest) { r.SourceImageID = "" }, "image_id"},
		{"bad name", func(r *imsapi.CrossRegionCopyRequest) { r.Name = " x" }, "name"},
		{"bad description", func(r *imsapi.CrossRegionCopyRequest) { r.Description = "\r" }, "description"},
		{"bad region", func(r *imsapi.CrossRegionCopyRequest) { r.TargetRegion = "East" }, "region"},
		{"no agency", func(r *imsapi.CrossRegionCopyRequest) { r.AgencyName = "" }, "agency_name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := validCrossCopy()
			tc.edit(&req)
			assertValidation(t, req.Validate(), tc.wantField)
		})
	}
}

func TestListFilterValidate(t *testing.T) {
	tests := []struct {
		name      string
		filter    imsapi.ListFilter
		wantField string
	}{
		{"empty", imsapi.ListFilter{}, ""},
		{"everything", imsapi.ListFilter{ID: seedImageID, Name: "golden", Owner: projectA, Status: "active",
			ImageType: "private", Limit: 10, Marker: seedKeyID}, ""},
		{"bad id", imsapi.ListFilter{ID: "x"}, "id"},
		{"bad name", imsapi.ListFilter{Name: "a>b"}, "name"},
		{"bad owner", imsapi.ListFilter{Owner: "me"}, "owner"},
		{"bad status", imsapi.ListFilter{Status: "ACTIVE"}, "status"},
		{"bad image type", imsapi.ListFilter{ImageType: "public"}, "__imagetype"},
		{"negative limit", imsapi.ListFilter{Limit: -1}, "limit"},
		{"bad marker", imsapi.ListFilter{Marker: "next"}, "marker"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assertValidation(t, tc.filter.Validate(), tc.wantField)
		})
	}
}
