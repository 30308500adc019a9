package copyimage

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strings"
	"time"

	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/imscopy/imscopy/activities/activityapi"
	"github.com/imscopy/imscopy/imsapi"
	"github.com/imscopy/imscopy/internal/strictjson"
	"github.com/imscopy/imscopy/internal/workflowid"
)

// Input is one image copy, in a region or to another. The starter and the workflow validate it
// with the same function, so bad input fails before anything is started or called.
//
// Its JSON is a contract that other languages' clients write (docs/api.md): snake_case keys, read
// by DecodeInput, which refuses an unknown key by name (a misspelt cmk_id must never make an
// unencrypted copy). The Go field names are accepted too, exactly as spelt: encoding/json wrote
// them before the keys existed, and histories and running copies still carry them.
type Input struct {
	Region              string `json:"region"` // the region of the source image, where the copy is made
	SourceImageID       string `json:"source_image_id"`
	Name                string `json:"name"`
	Description         string `json:"description,omitempty"`
	CMKID               string `json:"cmk_id,omitempty"` // KMS key; non-empty makes the copy encrypted
	EnterpriseProjectID string `json:"enterprise_project_id,omitempty"`
	// KeepFailedImages leaves a failed copy's image in place for inspection instead of deleting it.
	KeepFailedImages bool `json:"keep_failed_images,omitempty"`
	// TargetRegion, when set to another region than Region, makes this a cross-region copy: the job
	// runs in Region and the image is made in TargetRegion, through the IAM agency AgencyName.
	// IMS cannot encrypt during a cross-region copy, so CMKID must be empty.
	TargetRegion string `json:"target_region,omitempty"`
	AgencyName   string `json:"agency_name,omitempty"`
}

// inputFields is Input without its UnmarshalJSON, for DecodeInput to decode into.
type inputFields Input

// DecodeInput reads a copy's input as JSON: one object with Input's keys (or their legacy Go
// names). Anything else is an error that says what is wrong and names the key: an unknown key
// (and the known one it resembles), a value of the wrong type, a key given under both names,
// another JSON value than an object, or no input at all. It never fills a default in.
func DecodeInput(data []byte) (Input, error) {
	if t := bytes.TrimSpace(data); bytes.Equal(t, []byte("null")) {
		return Input{}, errors.New("the input is null: give one JSON object with the copy's keys (region, source_image_id, name, ...)")
	}
	var in inputFields
	data, err := strictjson.GoNames(data, &in)
	if err == nil {
		err = strictjson.Decode(data, &in)
	}
	if err != nil {
		return Input{}, fmt.Errorf("the copy's input: %w", err)
	}
	return Input(in), nil
}

// UnmarshalJSON reads an Input as DecodeInput does, so that every Go reader of a payload (the
// starter reading a running copy's input from its history) takes the same keys as the workflow.
func (in *Input) UnmarshalJSON(data []byte) error {
	v, err := DecodeInput(data)
	if err != nil {
		return err
	}
	*in = v
	return nil
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
// and the image it names are in PollJob's heartbeat details (activityapi.PollHeartbeat), not here:
// the workflow learns them only when PollJob ends, so that no event is added per step of progress.
// Its JSON keys are a contract (docs/api.md); it reads the legacy Go names too, from a worker of
// the version before them.
type Progress struct {
	Phase          string    `json:"phase"`
	Percent        float64   `json:"percent"` // 0..1: 1 once the job has succeeded; once it failed, how far it got
	JobID          string    `json:"job_id"`
	ImageID        string    `json:"image_id"` // from SubmitCopy when it adopted an image, else from PollJob's end
	Polls          int       `json:"polls"`    // the status calls PollJob made, once it has ended
	LastError      string    `json:"last_error"`
	StartedAt      time.Time `json:"started_at"`
	PhaseStartedAt time.Time `json:"phase_started_at"`
}

// UnmarshalJSON reads the documented keys and the legacy Go names. Unknown keys are ignored: a
// reader must keep working when a newer worker adds one.
func (p *Progress) UnmarshalJSON(data []byte) error {
	type fields Progress
	return unmarshalRenamed(data, (*fields)(p))
}

// PhaseTime is how long one phase took. Its JSON is {"phase": ..., "seconds": ...}: durations in
// the contract are seconds, as in the promotion's report.
type PhaseTime struct {
	Phase    string
	Duration time.Duration
}

type phaseTimeJSON struct {
	Phase   string  `json:"phase"`
	Seconds float64 `json:"seconds"`
	// Duration is the legacy form: nanoseconds, under the Go name.
	Duration *int64 `json:"Duration,omitempty"`
}

// MarshalJSON writes the phase's duration in seconds.
func (p PhaseTime) MarshalJSON() ([]byte, error) {
	return json.Marshal(phaseTimeJSON{Phase: p.Phase, Seconds: p.Duration.Seconds()})
}

// UnmarshalJSON reads seconds, or the legacy nanoseconds under "Duration".
func (p *PhaseTime) UnmarshalJSON(data []byte) error {
	var v phaseTimeJSON
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	p.Phase, p.Duration = v.Phase, time.Duration(math.Round(v.Seconds*float64(time.Second)))
	if v.Duration != nil {
		p.Duration = time.Duration(*v.Duration)
	}
	return nil
}

// Where an adopted image came from (Result.AdoptedFrom).
const (
	// AdoptedFromThisCopy: an earlier attempt of this copy's submit made it and its answer was
	// lost; the image was created after this copy's submit was first scheduled.
	AdoptedFromThisCopy = activityapi.AdoptedFromThisCopy
	// AdoptedFromEarlierCopy: the image existed before this copy submitted: an earlier copy of the
	// same request (same region, source, name and key; another workflow, or by hand) made it.
	AdoptedFromEarlierCopy = activityapi.AdoptedFromEarlierCopy
	// AdoptedFromUnknown: the image was adopted by a worker of the version before this was
	// recorded, which did not say.
	AdoptedFromUnknown = "unknown"
)

// Result is what a successful copy returns. Its JSON keys are a contract (docs/api.md); it reads
// the legacy Go names too, as a promotion reads the result of a copy that a worker of the version
// before them finished.
type Result struct {
	ImageID string `json:"image_id"`
	// JobID is IMS's copy job. Empty exactly when Adopted: this copy sent no job, and IMS has no API
	// that finds a job from its image.
	JobID string `json:"job_id"`
	// Adopted says an existing image was taken instead of copying again (see AdoptedFrom).
	Adopted bool `json:"adopted"`
	// AdoptedFrom says which copy made an adopted image: AdoptedFromThisCopy,
	// AdoptedFromEarlierCopy or AdoptedFromUnknown; empty when not adopted.
	AdoptedFrom string `json:"adopted_from,omitempty"`
	// ImageCreatedAt is when IMS created an adopted image, as IMS gives it (created_at); empty when
	// not adopted, or adopted by a worker of the version before this was recorded.
	ImageCreatedAt string      `json:"image_created_at,omitempty"`
	Phases         []PhaseTime `json:"phases"`
}

// UnmarshalJSON reads the documented keys and the legacy Go names; unknown keys are ignored.
func (r *Result) UnmarshalJSON(data []byte) error {
	type fields Result
	return unmarshalRenamed(data, (*fields)(r))
}

// unmarshalRenamed decodes data into v (a pointer to a type without UnmarshalJSON), leniently,
// with its legacy Go names renamed to its keys.
func unmarshalRenamed(data []byte, v any) error {
	data, err := strictjson.GoNames(data, v)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, v)
}

// WorkflowName is CopyImage's registered name, as other clients start it and histories record it.
const WorkflowName = "CopyImage"

// Register registers CopyImage on w under WorkflowName, in the form that decodes its own input
// (copyImagePayload), so that every client's input is read by DecodeInput.
func Register(w worker.WorkflowRegistry) {
	w.RegisterWorkflowWithOptions(copyImagePayload, workflow.RegisterOptions{Name: WorkflowName})
}

// WorkflowID is the workflow ID of a copy: derived from what makes the copy the same copy,
// so that starting it twice attaches to the one workflow instead of copying twice. A workflow ID
// travels as a gRPC header value, which must be printable ASCII: a name with other characters
// (Chinese, which IMS allows) is percent-encoded; other names appear as they are. An ID longer
// than Temporal takes is cut and hashed (workflowid.Fit).
func WorkflowID(in Input) string {
	name := in.Name
	if strings.ContainsFunc(name, func(r rune) bool { return r < ' ' || r > '~' }) {
		name = url.PathEscape(name)
	}
	if in.CrossRegion() {
		return workflowid.Fit("copy/" + in.Region + "/" + in.SourceImageID + "/to/" + in.TargetRegion + "/" + name)
	}
	return workflowid.Fit("copy/" + in.Region + "/" + in.SourceImageID + "/" + name)
}
