package imsapi

import (
	"fmt"
	"regexp"
	"slices"
)

// Checks of call arguments that are not request types of their own (project IDs, ID lists, list
// filters, member states); same rules of engagement as validate.go: name the field, send nothing.

// projectIDRE is the shape of a Huawei Cloud project ID: 32 lower-case hex characters, as in every
// `owner` and `member_id` of the IMS documentation's samples.
var projectIDRE = regexp.MustCompile(`^[0-9a-f]{32}$`)

// ValidateProjectID checks a project ID (an image owner or share member).
func ValidateProjectID(field, id string) error {
	if !projectIDRE.MatchString(id) {
		return Invalid(field, id, "must be a project ID: 32 lower-case hexadecimal characters")
	}
	return nil
}

// MaxMembers bounds the ID lists of the batch member calls. IMS lets an image be shared with at most
// 128 projects (docs/ims-api.md section 6), so a longer list cannot succeed.
const MaxMembers = 128

func ValidateImageIDs(ids []string) error {
	if err := checkBatch("images", len(ids)); err != nil {
		return err
	}
	for i, id := range ids {
		if err := ValidateUUID(fmt.Sprintf("images[%d]", i), id); err != nil {
			return err
		}
	}
	return nil
}

func ValidateProjectIDs(ids []string) error {
	if err := checkBatch("projects", len(ids)); err != nil {
		return err
	}
	for i, id := range ids {
		if err := ValidateProjectID(fmt.Sprintf("projects[%d]", i), id); err != nil {
			return err
		}
	}
	return nil
}

func checkBatch(field string, n int) error {
	switch {
	case n == 0:
		return Invalid(field, "", "must list at least one ID")
	case n > MaxMembers:
		return Invalid(field, fmt.Sprint(n, " IDs"), "must list at most %d IDs", MaxMembers)
	}
	return nil
}

// ValidateDecision accepts the two states a recipient can set; "pending" is where a share starts and
// cannot be set.
func ValidateDecision(s MemberStatus) error {
	if s != MemberAccepted && s != MemberRejected {
		return Invalid("status", string(s), "must be %q or %q", MemberAccepted, MemberRejected)
	}
	return nil
}

// Enumerations of GET /v2/cloudimages (docs/ims-api.md section 5.1).
var (
	imageTypes    = []string{"gold", "private", "shared", "market"}
	imageStatuses = []string{"queued", "saving", "deleted", "killed", "active"}
)

// Validate checks every non-empty field of a list filter.
func (f ListFilter) Validate() error {
	if f.ID != "" {
		if err := ValidateUUID("id", f.ID); err != nil {
			return err
		}
	}
	if f.Name != "" {
		if err := ValidateName(f.Name); err != nil {
			return err
		}
	}
	if f.Owner != "" {
		if err := ValidateProjectID("owner", f.Owner); err != nil {
			return err
		}
	}
	if f.Status != "" && !slices.Contains(imageStatuses, f.Status) {
		return Invalid("status", f.Status, "must be one of %v", imageStatuses)
	}
	if f.ImageType != "" && !slices.Contains(imageTypes, f.ImageType) {
		return Invalid("__imagetype", f.ImageType, "must be one of %v", imageTypes)
	}
	if f.Limit < 0 {
		return Invalid("limit", fmt.Sprint(f.Limit), "must not be negative (0 means IMS's default)")
	}
	if f.Marker != "" {
		if err := ValidateUUID("marker", f.Marker); err != nil {
			return err
		}
	}
	return nil
}
