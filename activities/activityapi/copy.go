package activityapi

import (
	"encoding/json"
	"time"

	"github.com/imscopy/imscopy/activities/pollschedule"
	"github.com/imscopy/imscopy/imsapi"
	"github.com/imscopy/imscopy/internal/strictjson"
)

// SubmitCopyInput is one copy request, sent to Region ("" = the worker's home region), where the
// source image is and the job runs. With TargetRegion set to another region it is a cross-region
// copy (Request.CMKID must be empty: IMS cannot encrypt during one) whose image is made there,
// through the IAM agency AgencyName.
type SubmitCopyInput struct {
	Region       string
	Request      imsapi.CopyRequest
	TargetRegion string `json:",omitempty"`
	AgencyName   string `json:",omitempty"`
}

// CrossRegion says whether the copy goes to another region.
func (in SubmitCopyInput) CrossRegion() bool {
	return in.TargetRegion != "" && in.TargetRegion != in.Region
}

// Validate checks the request as the copy it is, in-region or cross-region.
func (in SubmitCopyInput) Validate() error {
	if !in.CrossRegion() {
		return in.Request.Validate()
	}
	if in.Request.CMKID != "" {
		return &imsapi.ValidationError{Field: "cmk_id", Value: in.Request.CMKID,
			Rule: "cannot be used with a cross-region copy: IMS cannot encrypt during one; copy plain, then copy in the target region with the key"}
	}
	return in.CrossRegionRequest().Validate()
}

// CrossRegionRequest is the request of a cross-region copy.
func (in SubmitCopyInput) CrossRegionRequest() imsapi.CrossRegionCopyRequest {
	return imsapi.CrossRegionCopyRequest{SourceImageID: in.Request.SourceImageID, Name: in.Request.Name,
		Description: in.Request.Description, TargetRegion: in.TargetRegion, AgencyName: in.AgencyName}
}

// SubmitCopyResult is either a new job (JobID set, ImageID learned later from the job) or an
// image an earlier attempt or run already created (Adopted, ImageID set, JobID empty).
type SubmitCopyResult struct {
	JobID   string
	ImageID string
	Adopted bool
	// AdoptedStatus is the adopted image's status when it was found. An image that was already
	// active may be the result of an earlier, finished copy, so the workflow must not delete it.
	// A killed one is this copy's failed result: an earlier attempt's POST made it, its answer
	// was lost, and its job failed (PollJob then fails the copy with it).
	AdoptedStatus string
	// AdoptedFrom says which copy made the adopted image: AdoptedFromThisCopy when IMS created it
	// at or after Temporal first scheduled this submit (an attempt's POST whose answer was lost),
	// else AdoptedFromEarlierCopy. AdoptedCreatedAt is IMS's created_at of it, as IMS gives it.
	AdoptedFrom      string
	AdoptedCreatedAt string
}

// Which copy made an adopted image (SubmitCopyResult.AdoptedFrom).
const (
	AdoptedFromThisCopy    = "this-copy"
	AdoptedFromEarlierCopy = "earlier-copy"
)

// SubmitHeartbeat is SubmitCopy's heartbeat detail: the record one attempt leaves the next, so that
// the next knows whether a copy may exist that it cannot see yet. Its JSON keys are documented
// (docs/api.md) for diagnosis; it reads the legacy Go names, which a worker of the version before
// wrote, so that an attempt after a deploy still knows about an earlier attempt's POST.
type SubmitHeartbeat struct {
	Attempt int32 `json:"attempt"`
	// PostAt is when an attempt last sent a POST that may have created the copy, carried from
	// attempt to attempt; zero while none has.
	PostAt time.Time `json:"post_at"`
	// Ended says the attempt returned, so its PostAt is complete. The SDK sends an attempt's first
	// heartbeat at once but holds later ones back (its throttle) until the attempt ends: an attempt
	// whose worker was killed or hung leaves only its first record, without the POST it may have
	// made after it.
	Ended bool `json:"ended"`
	// Since is the earliest moment any attempt may have POSTed: when Temporal scheduled the
	// activity's first attempt, carried from attempt to attempt. A killed image of the request
	// made before it cannot be this copy's.
	Since time.Time `json:"since"`
}

// UnmarshalJSON reads the documented keys and the legacy Go names; unknown keys are ignored.
func (h *SubmitHeartbeat) UnmarshalJSON(data []byte) error {
	type fields SubmitHeartbeat
	data, err := strictjson.GoNames(data, (*fields)(h))
	if err != nil {
		return err
	}
	return json.Unmarshal(data, (*fields)(h))
}

// SubmitRetry is SubmitCopy's second heartbeat detail while it retries inside its attempt, for the
// starter to show: Temporal's attempt count does not move meanwhile.
type SubmitRetry struct {
	Tries       int       `json:"tries"` // failed tries in this attempt
	LastFailure string    `json:"last_failure"`
	NextAt      time.Time `json:"next_at"`
}

// PollJobInput names what to wait for: the copy job, or, when JobID is empty (an adopted image
// whose job is unknown), the image itself.
type PollJobInput struct {
	Region  string // where the job runs: the source's region
	JobID   string
	ImageID string
	// ImageRegion is where the image is, when it is not Region: a cross-region copy's target.
	ImageRegion string `json:",omitempty"`
	// MemberJob says JobID shares or accepts an image (a member job): it names no image, and it
	// fails when any of its image-project pairs failed, even if IMS calls the job a SUCCESS.
	MemberJob bool `json:",omitempty"`
}

// PollJobResult is a finished copy.
type PollJobResult struct {
	ImageID string
	Status  string // the job's SUCCESS, or the adopted image's active
	EndTime string // IMS's end time of the job; empty for an adopted image
	Polls   int
	// BeginTime is IMS's start time of the job; empty for an adopted image. Only the worker's
	// metrics read it (job duration, and with EndTime the lag before the poll that saw the end).
	BeginTime string
}

// PollHeartbeat is PollJob's heartbeat detail, the poll schedule's state; its JSON is part of the
// workflow API (docs/api.md).
type PollHeartbeat = pollschedule.Heartbeat

// VerifyImageInput is the new image and what it must be.
type VerifyImageInput struct {
	Region        string // where the new image is
	ImageID       string
	SourceImageID string
	Name          string
	CMKID         string // the requested KMS key; "" means the copy must not be encrypted
	// SourceRegion is where the source is, when it is not Region: a cross-region copy's source.
	SourceRegion string `json:",omitempty"`
}

// CleanupInput names the copy to undo: its image, the job that will name it, or, when the workflow
// learned neither, the request whose POST may have created it.
type CleanupInput struct {
	Region  string // where the job runs: the source's region
	JobID   string
	ImageID string // "" when the workflow never learned it; CleanupCopy then asks the job
	// Lost is the request of a SubmitCopy that returned no result although one of its POSTs may
	// have reached IMS (the answer lost, then the submit failed or was cancelled). With no JobID or
	// ImageID, CleanupCopy looks for that copy as SubmitCopy's adoption does.
	Lost *imsapi.CopyRequest
	// LostSince is when the workflow scheduled that SubmitCopy: a killed copy of Lost made at or
	// after it is the failed result of a lost POST and is deleted too. Zero: killed copies are
	// left alone (a workflow from before this field).
	LostSince time.Time
	// ImageRegion is where the image is, when it is not Region: a cross-region copy's target.
	ImageRegion string `json:",omitempty"`
}
