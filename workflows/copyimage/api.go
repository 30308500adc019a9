package copyimage

import (
	"net/url"
	"strings"
	"time"

	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/imscopy/imscopy/imsapi"
)

// Input is one in-region image copy. The starter and the workflow validate it with the
// same function, so bad input fails before anything is started or called.
type Input struct {
	Region              string // the region of the source image, where the copy is made
	SourceImageID       string
	Name                string
	Description         string
	CMKID               string // KMS key; non-empty makes the copy encrypted
	EnterpriseProjectID string
	// KeepFailedImages leaves a failed copy's image in place for inspection instead of deleting it.
	KeepFailedImages bool
	// TargetRegion, when set to another region than Region, makes this a cross-region copy: the job
	// runs in Region and the image is made in TargetRegion, through the IAM agency AgencyName.
	// IMS cannot encrypt during a cross-region copy, so CMKID must be empty.
	TargetRegion string `json:",omitempty"`
	AgencyName   string `json:",omitempty"`
}

// CrossRegion says whether the copy goes to another region.
func (in Input) CrossRegion() bool { return in.TargetRegion != "" && in.TargetRegion != in.Region }

// ImageRegion is the region where the new image is made.
func (in Input) ImageRegion() string {
	if in.CrossRegion() {
		return in.TargetRegion
	}
	return in.Region
}

// CopyRequest is the IMS request this input asks for.
func (in Input) CopyRequest() imsapi.CopyRequest {
	return imsapi.CopyRequest{
		SourceImageID:       in.SourceImageID,
		Name:                in.Name,
		Description:         in.Description,
		CMKID:               in.CMKID,
		EnterpriseProjectID: in.EnterpriseProjectID,
	}
}

// Validate checks the input without any I/O.
func (in Input) Validate() error {
	if err := imsapi.ValidateRegion("region", in.Region); err != nil {
		return err
	}
	if !in.CrossRegion() {
		return in.CopyRequest().Validate()
	}
	if err := imsapi.ValidateRegion("target_region", in.TargetRegion); err != nil {
		return err
	}
	switch {
	case in.CMKID != "":
		return &imsapi.ValidationError{Field: "cmk_id", Value: in.CMKID, Rule: "cannot be used with target_region: " +
			"IMS cannot encrypt during a cross-region copy; copy plain, then copy in the target region with the key (a promotion does both)"}
	case in.EnterpriseProjectID != "" && in.EnterpriseProjectID != "0":
		return &imsapi.ValidationError{Field: "enterprise_project_id", Value: in.EnterpriseProjectID,
			Rule: "cannot be used with target_region: IMS's cross-region copy puts the image in the default enterprise project"}
	case in.AgencyName == "":
		return &imsapi.ValidationError{Field: "agency_name", Rule: "is required with target_region: name an IAM agency with IMS rights in both regions"}
	}
	return in.CopyRequest().Validate()
}

// Phases of a copy, as the progress query reports them.
const (
	PhaseValidating = "validating"
	// PhaseAwaitingPermit: a cross-region copy waits for one of the tenant's permits (package permit).
	PhaseAwaitingPermit = "awaiting-permit"
	PhaseSubmitting     = "submitting"
	PhasePolling        = "polling"
	PhaseVerifying      = "verifying"
	PhaseCompensating   = "compensating"
	PhaseSucceeded      = "succeeded"
	PhaseFailed         = "failed"
)

// ProgressQuery is the name of the query that returns a Progress.
const ProgressQuery = "progress"

// Progress is what the progress query returns. While the job copies, its percent, its poll count
// and the image it names are in PollJob's heartbeat details (activities.PollHeartbeat), not here:
// the workflow learns them only when PollJob ends, so that no event is added per step of progress.
type Progress struct {
	Phase          string
	Percent        float64 // 0..1: 1 once the job has succeeded
	JobID          string
	ImageID        string // from SubmitCopy when it adopted an image, else from PollJob's end
	Polls          int    // the status calls PollJob made, once it has ended
	LastError      string
	StartedAt      time.Time
	PhaseStartedAt time.Time
}

// PhaseTime is how long one phase took.
type PhaseTime struct {
	Phase    string
	Duration time.Duration
}

// Result is what a successful copy returns.
type Result struct {
	ImageID string
	JobID   string
	Adopted bool // an earlier attempt's image was found and adopted instead of copying again
	Phases  []PhaseTime
}

// WorkflowName is CopyImage's registered name, as other clients start it and histories record it.
const WorkflowName = "CopyImage"

// Register registers CopyImage on w under WorkflowName.
func Register(w worker.WorkflowRegistry) {
	w.RegisterWorkflowWithOptions(CopyImage, workflow.RegisterOptions{Name: WorkflowName})
}

// WorkflowID is the workflow ID of a copy: derived from what makes the copy the same copy,
// so that starting it twice attaches to the one workflow instead of copying twice. A workflow ID
// travels as a gRPC header value, which must be printable ASCII: a name with other characters
// (Chinese, which IMS allows) is percent-encoded; other names appear as they are.
func WorkflowID(in Input) string {
	name := in.Name
	if strings.ContainsFunc(name, func(r rune) bool { return r < ' ' || r > '~' }) {
		name = url.PathEscape(name)
	}
	if in.CrossRegion() {
		return "copy/" + in.Region + "/" + in.SourceImageID + "/to/" + in.TargetRegion + "/" + name
	}
	return "copy/" + in.Region + "/" + in.SourceImageID + "/" + name
}
