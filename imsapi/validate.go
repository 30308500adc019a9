package imsapi

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// Limits from docs/ims-api.md section 2 (DOC "镜像属性").
const (
	MaxNameLen        = 128
	MaxDescriptionLen = 1024
)

var (
	// Runes, not bytes: IMS does not say how it counts a name's length, so characters are
	// assumed (docs/ims-api.md section 2).
	nameChars = regexp.MustCompile(`^[A-Za-z0-9._\- \x{4E00}-\x{9FFF}]+$`)
	uuidRE    = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	jobIDRE   = regexp.MustCompile(`^[0-9a-f]{32}$`)
	regionRE  = regexp.MustCompile(`^[a-z]{2,}(-[a-z0-9]+)+$`)
)

// ValidateName checks an image name against IMS's rules: 1-128 characters of letters, digits,
// "-", ".", "_", space and CJK ideographs, not starting or ending with a space.
func ValidateName(name string) error {
	n := utf8.RuneCountInString(name)
	switch {
	case n == 0:
		return Invalid("name", name, "must not be empty")
	case n > MaxNameLen:
		return Invalid("name", name, "must be at most %d characters, got %d", MaxNameLen, n)
	case !nameChars.MatchString(name):
		return Invalid("name", name, "may contain only letters, digits, '-', '.', '_', spaces and Chinese characters")
	case strings.HasPrefix(name, " ") || strings.HasSuffix(name, " "):
		return Invalid("name", name, "must not start or end with a space")
	}
	return nil
}

// ValidateDescription checks an image description: at most 1024 characters, with no carriage
// return, '<' or '>' (IMS answers IMG.0054 for those).
func ValidateDescription(d string) error {
	if n := utf8.RuneCountInString(d); n > MaxDescriptionLen {
		return Invalid("description", d, "must be at most %d characters, got %d", MaxDescriptionLen, n)
	}
	if i := strings.IndexAny(d, "\r<>"); i >= 0 {
		return Invalid("description", d, "must not contain a carriage return, '<' or '>' (found %q)", d[i])
	}
	if !utf8.ValidString(d) {
		return Invalid("description", d, "must be valid UTF-8")
	}
	return nil
}

// ValidateUUID checks an image, KMS key or enterprise-project ID named field.
func ValidateUUID(field, id string) error {
	if !uuidRE.MatchString(id) {
		return Invalid(field, id, "must be a UUID like 465076de-dc36-4aec-80f5-ef9d8009428f")
	}
	return nil
}

// ValidateJobID checks an IMS job ID: 32 lower-case hexadecimal characters.
func ValidateJobID(id string) error {
	if !jobIDRE.MatchString(id) {
		return Invalid("job_id", id, "must be 32 lower-case hexadecimal characters")
	}
	return nil
}

// ValidateRegion checks the shape of a region ID such as cn-north-4 or ap-southeast-1.
func ValidateRegion(field, region string) error {
	if !regionRE.MatchString(region) {
		return Invalid(field, region, "must be a region ID like cn-north-4")
	}
	return nil
}

// ValidateEnterpriseProjectID accepts "", "0" (the default enterprise project) or a UUID.
func ValidateEnterpriseProjectID(id string) error {
	if id == "" || id == "0" {
		return nil
	}
	if err := ValidateUUID("enterprise_project_id", id); err != nil {
		return Invalid("enterprise_project_id", id, `must be "0" or a UUID`)
	}
	return nil
}

// validateCopyOf checks what every copy request has: the source image, and the new image's name
// and description.
func validateCopyOf(sourceImageID, name, description string) error {
	if err := ValidateUUID("image_id", sourceImageID); err != nil {
		return err
	}
	if err := ValidateName(name); err != nil {
		return err
	}
	return ValidateDescription(description)
}

// Validate checks every field of an in-region copy; the first broken rule is returned.
func (r CopyRequest) Validate() error {
	if err := validateCopyOf(r.SourceImageID, r.Name, r.Description); err != nil {
		return err
	}
	if r.CMKID != "" {
		if err := ValidateUUID("cmk_id", r.CMKID); err != nil {
			return err
		}
	}
	return ValidateEnterpriseProjectID(r.EnterpriseProjectID)
}

// Validate checks every field of a cross-region copy; the first broken rule is returned.
func (r CrossRegionCopyRequest) Validate() error {
	if err := validateCopyOf(r.SourceImageID, r.Name, r.Description); err != nil {
		return err
	}
	if err := ValidateRegion("region", r.TargetRegion); err != nil {
		return err
	}
	if r.AgencyName == "" {
		return Invalid("agency_name", r.AgencyName, "must name an IAM agency with IMS rights in both regions")
	}
	return nil
}
