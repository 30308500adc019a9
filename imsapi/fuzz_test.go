package imsapi

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// The rules of validate.go said again, plainly, for the fuzz target to compare with.
func nameOK(s string) bool {
	n := utf8.RuneCountInString(s)
	if n == 0 || n > MaxNameLen || !utf8.ValidString(s) || s[0] == ' ' || s[len(s)-1] == ' ' {
		return false
	}
	for _, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			strings.ContainsRune("-._ ", r) || r >= 0x4E00 && r <= 0x9FFF
		if !ok {
			return false
		}
	}
	return true
}

func descriptionOK(s string) bool {
	return utf8.RuneCountInString(s) <= MaxDescriptionLen && utf8.ValidString(s) && !strings.ContainsAny(s, "\r<>")
}

func hexOK(s string, lower bool) bool {
	for _, c := range []byte(s) {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || !lower && c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

func uuidOK(s string) bool {
	parts := strings.Split(s, "-")
	if len(parts) != 5 {
		return false
	}
	for i, want := range []int{8, 4, 4, 4, 12} {
		if len(parts[i]) != want || !hexOK(parts[i], false) {
			return false
		}
	}
	return true
}

func regionOK(s string) bool {
	parts := strings.Split(s, "-")
	if len(parts) < 2 || len(parts[0]) < 2 {
		return false
	}
	for i, p := range parts {
		if p == "" {
			return false
		}
		for _, c := range []byte(p) {
			if !(c >= 'a' && c <= 'z' || i > 0 && c >= '0' && c <= '9') {
				return false
			}
		}
	}
	return true
}

// check is one field's rule, in the order Validate checks them.
type check struct {
	field string
	value string
	ok    bool
}

// firstBroken is the field the first broken rule names, or "".
func firstBroken(checks []check) check {
	for _, c := range checks {
		if !c.ok {
			return c
		}
	}
	return check{}
}

// requireRefusal checks err against the rules said plainly: nil exactly when every rule holds,
// else a ValidationError naming the first broken field and showing the start of its value.
func requireRefusal(t *testing.T, err error, checks []check) {
	t.Helper()
	want := firstBroken(checks)
	if want.field == "" {
		require.NoError(t, err)
		return
	}
	require.Error(t, err, "%s %q breaks a rule", want.field, want.value)
	var v *ValidationError
	require.True(t, errors.As(err, &v), "%v is a ValidationError", err)
	require.Equal(t, want.field, v.Field, err.Error())
	require.NotEmpty(t, v.Rule)
	require.LessOrEqual(t, utf8.RuneCountInString(v.Value), 40, "the value shown is shortened")
	require.Contains(t, err.Error(), "invalid "+v.Field+" ")
	if utf8.ValidString(want.value) {
		require.True(t, strings.HasPrefix(want.value, strings.TrimSuffix(v.Value, "...")), "%q shows the start of %q", v.Value, want.value)
	}
}

// FuzzValidateCopyRequest: any fields give nil exactly when every IMS rule holds, else a
// ValidationError naming the first broken field; never a panic.
func FuzzValidateCopyRequest(f *testing.F) {
	const image, key = "465076de-dc36-4aec-80f5-ef9d8009428f", "bd66288c-9081-460a-8227-4cbd0c814cb4"
	for _, s := range [][7]string{
		{image, "ims_encrypted_copy3", "test copy", key, "0", "cn-east-3", "ims_admin_agency"},
		{image, "金色镜像 2026.12", "", "", "", "ap-southeast-1", "a"},
		{image, strings.Repeat("镜", 128), strings.Repeat("é", 1024), "", key, "cn-north-4", ""},
		{image, strings.Repeat("a", 129), strings.Repeat("x", 1025), "k", "1", "north", ""},
		{"", "", "", "", "", "", ""},
		{strings.ToUpper(image), " name", "a\rb", key + " ", "00", "cn--north", "x"},
		{image, "name ", "<b>", "", "", "cn-north-4\n", "x"},
		{image, "é\u200b", "\xff", "", "", "CN-north-4", "x"},
		{image, "\xe9", "\u2028", "", "", "c-north-4", "x"},
		{image + "\n", "a", "", "", "", "", ""},
	} {
		f.Add(s[0], s[1], s[2], s[3], s[4], s[5], s[6])
	}
	f.Fuzz(func(t *testing.T, image, name, description, cmk, epid, region, agency string) {
		common := []check{{"image_id", image, uuidOK(image)}, {"name", name, nameOK(name)}, {"description", description, descriptionOK(description)}}
		requireRefusal(t, CopyRequest{SourceImageID: image, Name: name, Description: description, CMKID: cmk, EnterpriseProjectID: epid}.Validate(),
			append(common, check{"cmk_id", cmk, cmk == "" || uuidOK(cmk)}, check{"enterprise_project_id", epid, epid == "" || epid == "0" || uuidOK(epid)}))
		requireRefusal(t, CrossRegionCopyRequest{SourceImageID: image, Name: name, Description: description, TargetRegion: region, AgencyName: agency}.Validate(),
			append(common, check{"region", region, regionOK(region)}, check{"agency_name", agency, agency != ""}))
		requireRefusal(t, ValidateJobID(cmk), []check{{"job_id", cmk, len(cmk) == 32 && hexOK(cmk, true)}})
		requireRefusal(t, ValidateProjectID("member_id", cmk), []check{{"member_id", cmk, len(cmk) == 32 && hexOK(cmk, true)}})
		requireRefusal(t, ListFilter{ID: epid, Name: name, Owner: agency, Status: region}.Validate(), []check{
			{"id", epid, epid == "" || uuidOK(epid)}, {"name", name, name == "" || nameOK(name)},
			{"owner", agency, agency == "" || len(agency) == 32 && hexOK(agency, true)},
			{"status", region, region == "" || slices.Contains([]string{"queued", "saving", "deleted", "killed", "active"}, region)}})
	})
}
