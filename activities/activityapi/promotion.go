package activityapi

// CheckPromotionInput is what a promotion needs IMS to confirm before anything is written: the
// source, and each target's region and members.
type CheckPromotionInput struct {
	SourceRegion  string
	SourceImageID string
	Targets       []CheckTarget
}

// CheckTarget is one target as CheckPromotion sees it.
type CheckTarget struct {
	Region    string
	ShareWith []string
}

// FindReencryptedInput names the final image of an encrypted target in another region, and the
// intermediate image a second hop under way must have been copied from.
type FindReencryptedInput struct {
	Region string
	Name   string
	CMKID  string
	// IntermediateName and SourceImageID identify this target's intermediate: a final image still
	// being made from anything else is not this target's.
	IntermediateName string `json:",omitempty"`
	SourceImageID    string `json:",omitempty"`
}

// FoundImage is an image a lookup found; ID is empty when none was.
type FoundImage struct {
	ID     string
	Status string
	// SourceImageID is the image it was copied from (__originalimagename).
	SourceImageID string
}

// ShareInput is an image to share with projects of its region.
type ShareInput struct {
	Region   string
	ImageID  string
	Projects []string
}

// ShareResult is the member job that adds the projects not yet members; JobID is empty when every
// project already was one, so that a rerun adds nothing.
type ShareResult struct {
	JobID string
	Added []string
}

// MembersInput names an image whose members to list.
type MembersInput struct {
	Region  string
	ImageID string
}

// MemberState is one project an image is shared with, and what the project did with the share.
type MemberState struct {
	ProjectID string
	Status    string // pending, accepted or rejected
}

// AcceptInput is a share to accept in the recipient's project.
type AcceptInput struct {
	Region    string
	ImageID   string
	ProjectID string // the recipient
}
