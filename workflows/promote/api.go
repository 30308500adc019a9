// Package promote is the PromoteImage workflow: one plan takes a golden image to many regions and
// projects, one child workflow (PromoteTarget) per target, each copying, verifying, re-encrypting,
// sharing and accepting, and a report of it all. This file is its contract: input, report,
// progress, names and IDs, in JSON that other languages use as documented in docs/promotion.md.
package promote

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"

	"github.com/imscopy/imscopy/internal/strictjson"
	"github.com/imscopy/imscopy/internal/workflowid"
)

// Workflow names, as other clients start and replay them.
const (
	WorkflowName       = "PromoteImage"
	TargetWorkflowName = "PromoteTarget"
)

// ProgressQuery is the name of the query that returns a Progress.
const ProgressQuery = "progress"

// ErrPromotionFailed is the error type of a promotion with a failed target; its details carry the
// whole Report.
const ErrPromotionFailed = "PromotionFailed"

// Input is a promotion as started: its plan, and whether failed images are kept for inspection.
type Input struct {
	Plan             Plan `json:"plan"`
	KeepFailedImages bool `json:"keep_failed_images,omitempty"`
}

// DecodeInput reads a promotion's input as JSON, refusing an unknown key (in the plan too) by name,
// with the known key it resembles, a value of the wrong type, and anything but one object. The
// plan is checked further by Plan.Validate.
func DecodeInput(data []byte) (Input, error) {
	if bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
		return Input{}, errors.New("the promotion's input is null: give one JSON object, {\"plan\": {...}}")
	}
	var in Input
	if err := strictjson.Decode(data, &in); err != nil {
		return Input{}, fmt.Errorf("the promotion's input: %w", err)
	}
	return in, nil
}

// TargetInput is one target's child workflow input: the whole plan (names and the source come
// from it) and which target.
type TargetInput struct {
	Plan             Plan `json:"plan"`
	Target           int  `json:"target"`
	KeepFailedImages bool `json:"keep_failed_images,omitempty"`
}

// Target statuses.
const (
	StatusRunning   = "running"
	StatusDone      = "done"
	StatusFailed    = "failed"
	StatusCancelled = "cancelled"
)

// Steps of a target, in order; a target skips those its plan does not ask for.
const (
	StepCheck     = "check"     // the promotion's read-only checks of the plan against IMS
	StepCopy      = "copy"      // in-region, or cross-region (the first hop of an encrypted one)
	StepReencrypt = "reencrypt" // an encrypted target in another region: the in-region copy with the key
	StepShare     = "share"
	StepAccept    = "accept"
	StepMembers   = "members" // the final check that every member has accepted
	StepDone      = "done"
)

// Image roles and fates in a report.
const (
	RoleFinal        = "final"
	RoleIntermediate = "intermediate"
	FateKept         = "kept"
	FateDeleted      = "deleted"
	FateLeft         = "left" // could not be deleted: the report's error says why; delete it by hand
)

// Report is a promotion's result: one entry per target, in the plan's order.
type Report struct {
	PromotionID string         `json:"promotion_id"`
	Targets     []TargetReport `json:"targets"`
}

// Failed counts the targets that did not end done.
func (r Report) Failed() int {
	n := 0
	for _, t := range r.Targets {
		if t.Status != StatusDone {
			n++
		}
	}
	return n
}

// TargetReport is what became of one target.
type TargetReport struct {
	Region     string `json:"region"`
	Name       string `json:"name"`
	WorkflowID string `json:"workflow_id"`
	Status     string `json:"status"`
	// Step is the step the target reached, or failed or was cancelled in.
	Step    string        `json:"step"`
	ImageID string        `json:"image_id,omitempty"` // the final image, once made
	Images  []ImageRecord `json:"images,omitempty"`
	JobIDs  []string      `json:"job_ids,omitempty"`
	Members []Member      `json:"members,omitempty"`
	// Adopted says the final image already existed (a rerun, or a lost answer) and was not copied.
	Adopted bool `json:"adopted,omitempty"`
	// ErrorType and Error describe a failure; ErrorCode and FailReason are IMS's when it gave them.
	ErrorType  string     `json:"error_type,omitempty"`
	Error      string     `json:"error,omitempty"`
	ErrorCode  string     `json:"error_code,omitempty"`
	FailReason string     `json:"fail_reason,omitempty"`
	Steps      []StepTime `json:"steps,omitempty"`
}

// ImageRecord is an image a target made or adopted, and what became of it.
type ImageRecord struct {
	ID     string `json:"id"`
	Region string `json:"region"`
	Role   string `json:"role"`
	Fate   string `json:"fate"`
}

// Member is one project the final image is shared with, and its status (pending, accepted,
// rejected) as the members list says.
type Member struct {
	ProjectID string `json:"project_id"`
	Status    string `json:"status"`
}

// StepTime is how long a step took, in seconds.
type StepTime struct {
	Step    string  `json:"step"`
	Seconds float64 `json:"seconds"`
}

// Progress is what the progress query of a promotion returns: each target's last known state.
// A running target's live step and percent are its child's own progress query (WorkflowID).
type Progress struct {
	PromotionID string         `json:"promotion_id"`
	Targets     []TargetReport `json:"targets"`
}

// ID is a promotion's workflow ID: derived from its source and name, so that starting the same plan
// again attaches to, or resumes, the same promotion. Names may hold Chinese characters, which a
// workflow ID (a gRPC header value) cannot carry as they are: they are percent-encoded. An ID
// longer than Temporal takes is cut and hashed (workflowid.Fit).
func ID(p Plan) string {
	return workflowid.Fit("promote/" + p.Source.Region + "/" + p.Source.ImageID + "/" + url.PathEscape(p.Name))
}

// TargetID is the workflow ID of a target's child workflow: the promotion's ID and what makes the
// target unique in it (its region and image name), so a rerun finds the same children. It is cut
// and hashed as ID is, leaving room for the suffix of the target's copies (workflowid.MaxLen).
func TargetID(promotionID string, p Plan, t Target) string {
	return workflowid.Fit(promotionID + "/" + t.Region + "/" + url.PathEscape(t.ImageName(p)))
}
