package promote

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/imscopy/imscopy/imsapi"
)

// Plan is a promotion: one source image, the name every promoted image gets, and the targets it
// goes to. It is the contract of a plan file (YAML or JSON, docs/promotion.md) and of the
// PromoteImage workflow's input, so its JSON names are stable.
type Plan struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Source      Source `json:"source"`
	// AgencyName is the IAM agency IMS uses for cross-region copies; required when any target is
	// in another region than the source.
	AgencyName string   `json:"agency_name,omitempty"`
	Targets    []Target `json:"targets"`
}

// Source is the golden image; it is only read, never changed.
type Source struct {
	Region  string `json:"region"`
	ImageID string `json:"image_id"`
}

// Target is one place the image goes: a region, with or without a KMS key, and the projects of
// that region it is shared with.
type Target struct {
	Region string `json:"region"`
	// CMKID encrypts the target's image with this KMS key of the target region.
	CMKID string `json:"cmk_id,omitempty"`
	// Name and Description override the plan's for this target.
	Name                string `json:"name,omitempty"`
	Description         string `json:"description,omitempty"`
	EnterpriseProjectID string `json:"enterprise_project_id,omitempty"`
	// ShareWith are project IDs of the target region that get the image as members.
	ShareWith []string `json:"share_with,omitempty"`
	// Accept accepts the share in each recipient project with the worker's own credentials
	// (recipient projects of the worker's account).
	Accept bool `json:"accept,omitempty"`
	// AcceptQueue schedules the accept on this task queue instead, served by a worker holding
	// the recipients' account's credentials; it implies Accept.
	AcceptQueue string `json:"accept_queue,omitempty"`
}

// ImageName is the name of the target's image: its own, or the plan's.
func (t Target) ImageName(p Plan) string {
	if t.Name != "" {
		return t.Name
	}
	return p.Name
}

// ImageDescription is the description of the target's image: its own, or the plan's.
func (t Target) ImageDescription(p Plan) string {
	if t.Description != "" {
		return t.Description
	}
	return p.Description
}

// CrossRegion says whether the target is in another region than the source.
func (t Target) CrossRegion(p Plan) bool { return t.Region != p.Source.Region }

// Accepts says whether the target's shares are accepted on the recipients' behalf.
func (t Target) Accepts() bool { return t.Accept || t.AcceptQueue != "" }

// maxTaskQueueLen is Temporal's limit on a task queue name.
const maxTaskQueueLen = 1000

// reservedTaskQueuePrefix says whether name starts with a prefix the Temporal server keeps for
// itself ("/_sys/" for partitions, "temporal-sys-" for its internal queues), which it refuses only
// when the accept is scheduled, after the copy and the share are done.
func reservedTaskQueuePrefix(name string) (string, bool) {
	for _, prefix := range []string{"/_sys/", "temporal-sys-"} {
		if strings.HasPrefix(name, prefix) {
			return prefix, true
		}
	}
	return "", false
}

// Validate checks the whole plan without any I/O against every rule IMS would otherwise refuse
// (docs/ims-api.md sections 2, 3 and 6), and returns the first broken one, naming the target and the
// field. Two rules need facts only IMS has (whether the source is encrypted, and the project a
// target's image belongs to): the workflow checks those with reads before it writes anything.
func (p Plan) Validate() error {
	if err := imsapi.ValidateRegion("source.region", p.Source.Region); err != nil {
		return err
	}
	if err := imsapi.ValidateUUID("source.image_id", p.Source.ImageID); err != nil {
		return err
	}
	if err := imsapi.ValidateName(p.Name); err != nil {
		return err
	}
	if err := imsapi.ValidateDescription(p.Description); err != nil {
		return err
	}
	if len(p.Targets) == 0 {
		return imsapi.Invalid("targets", "", "must list at least one target (a region to copy the image to)")
	}
	seen := map[string]int{}
	for i, t := range p.Targets {
		if err := t.validate(p); err != nil {
			return inTarget(i, t, err)
		}
		key := t.Region + "\x00" + t.ImageName(p)
		if j, ok := seen[key]; ok {
			return inTarget(i, t, imsapi.Invalid("region", t.Region,
				"repeats targets[%d]: both would make an image named %q there; give one of them its own name", j, t.ImageName(p)))
		}
		seen[key] = i
		if t.CrossRegion(p) && p.AgencyName == "" {
			return imsapi.Invalid("agency_name", "", "is required because targets[%d] (%s) is in another region than the source (%s): "+
				"name an IAM agency with IMS rights in both regions", i, t.Region, p.Source.Region)
		}
	}
	return nil
}

func (t Target) validate(p Plan) error {
	if err := imsapi.ValidateRegion("region", t.Region); err != nil {
		return err
	}
	if t.Name != "" {
		if err := imsapi.ValidateName(t.Name); err != nil {
			return err
		}
	}
	if err := imsapi.ValidateDescription(t.Description); err != nil {
		return err
	}
	if t.CMKID != "" {
		if err := imsapi.ValidateUUID("cmk_id", t.CMKID); err != nil {
			return err
		}
	}
	if err := imsapi.ValidateEnterpriseProjectID(t.EnterpriseProjectID); err != nil {
		return err
	}
	if t.CrossRegion(p) && t.CMKID == "" && t.EnterpriseProjectID != "" && t.EnterpriseProjectID != "0" {
		return imsapi.Invalid("enterprise_project_id", t.EnterpriseProjectID, "cannot be used for a plain target in another region: "+
			"IMS's cross-region copy puts the image in the default enterprise project")
	}
	if len(t.ShareWith) > 0 && t.CMKID != "" {
		return imsapi.Invalid("share_with", strings.Join(t.ShareWith, ","), "cannot be used with cmk_id: IMS cannot share an encrypted image (IMG.0098); "+
			"share an unencrypted target instead, and let each recipient project copy it with its own key")
	}
	if len(t.ShareWith) > imsapi.MaxMembers {
		return imsapi.Invalid("share_with", fmt.Sprint(len(t.ShareWith), " projects"), "must list at most %d projects: IMS shares an image with no more", imsapi.MaxMembers)
	}
	members := map[string]bool{}
	for i, id := range t.ShareWith {
		field := fmt.Sprintf("share_with[%d]", i)
		if err := imsapi.ValidateProjectID(field, id); err != nil {
			return err
		}
		if members[id] {
			return imsapi.Invalid(field, id, "is listed twice")
		}
		members[id] = true
	}
	if t.Accepts() && len(t.ShareWith) == 0 {
		return imsapi.Invalid("accept", "true", "needs share_with: there is no share to accept")
	}
	if len(t.AcceptQueue) > maxTaskQueueLen || strings.TrimSpace(t.AcceptQueue) != t.AcceptQueue {
		return imsapi.Invalid("accept_queue", t.AcceptQueue, "must be a task queue name of at most %d characters, without surrounding spaces", maxTaskQueueLen)
	}
	if prefix, ok := reservedTaskQueuePrefix(t.AcceptQueue); ok {
		return imsapi.Invalid("accept_queue", t.AcceptQueue, "must not start with %q, which Temporal keeps for its own task queues: "+
			"name the queue the recipients' worker polls (its TEMPORAL_TASK_QUEUE)", prefix)
	}
	return nil
}

// inTarget puts the target's index and region in front of a field's name, so the user finds it.
// The region is shown only when it is one short word: a newline, a space or a page of text would
// make the field's name unreadable, and the value of a bad region is in the message anyway.
func inTarget(i int, t Target, err error) error {
	var v *imsapi.ValidationError
	if !errors.As(err, &v) {
		return err
	}
	named := *v
	label := fmt.Sprintf("targets[%d]", i)
	if n := utf8.RuneCountInString(t.Region); n > 0 && n <= 40 && utf8.ValidString(t.Region) &&
		!strings.ContainsFunc(t.Region, func(r rune) bool { return !unicode.IsGraphic(r) || unicode.IsSpace(r) }) {
		label += " (" + t.Region + ")"
	}
	named.Field = label + " " + v.Field
	return &named
}
