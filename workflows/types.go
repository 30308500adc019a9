package workflows

import (
	"time"

	"github.com/imscopy/imscopy/imsapi"
)

// CopyInput is one in-region image copy. The starter and the workflow validate it with the
// same function, so bad input fails before anything is started or called.
type CopyInput struct {
	Region              string // the region of the source image, where the copy is made
	SourceImageID       string
	Name                string
	Description         string
	CMKID               string // KMS key; non-empty makes the copy encrypted
	EnterpriseProjectID string
	// KeepFailedImages leaves a failed copy's image in place for inspection instead of deleting it.
	KeepFailedImages bool
}

// CopyRequest is the IMS request this input asks for.
func (in CopyInput) CopyRequest() imsapi.CopyRequest {
	return imsapi.CopyRequest{
		SourceImageID:       in.SourceImageID,
		Name:                in.Name,
		Description:         in.Description,
		CMKID:               in.CMKID,
		EnterpriseProjectID: in.EnterpriseProjectID,
	}
}

// Validate checks the input without any I/O.
func (in CopyInput) Validate() error {
	if err := imsapi.ValidateRegion("region", in.Region); err != nil {
		return err
	}
	return in.CopyRequest().Validate()
}

// Phases of a copy, as the progress query reports them.
const (
	PhaseValidating   = "validating"
	PhaseSubmitting   = "submitting"
	PhasePolling      = "polling"
	PhaseVerifying    = "verifying"
	PhaseCompensating = "compensating"
	PhaseSucceeded    = "succeeded"
	PhaseFailed       = "failed"
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

// CopyResult is what a successful copy returns.
type CopyResult struct {
	ImageID string
	JobID   string
	Adopted bool // an earlier attempt's image was found and adopted instead of copying again
	Phases  []PhaseTime
}
