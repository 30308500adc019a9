package imsapi

import (
	"encoding/json"
	"time"

	"github.com/imscopy/imscopy/internal/strictjson"
)

// CopyRequest is an in-region copy (POST /v1/cloudimages/{image_id}/copy).
type CopyRequest struct {
	SourceImageID       string
	Name                string
	Description         string
	CMKID               string // KMS key; non-empty makes the copy encrypted
	EnterpriseProjectID string // "" or "0" is the default enterprise project
}

// CrossRegionCopyRequest is a cross-region copy (POST /v1/cloudimages/{image_id}/cross_region_copy).
// The request is sent to the source region; the job lives there and the new image in TargetRegion.
type CrossRegionCopyRequest struct {
	SourceImageID string
	Name          string
	Description   string
	TargetRegion  string
	// TargetProjectName is the destination project name; empty means the target region's ID,
	// which is what IMS expects for a region's default project.
	TargetProjectName string
	AgencyName        string
	VaultID           string
}

// JobStatus is IMS's job state enum, compared case-sensitively as the SDK and Terraform do.
type JobStatus string

const (
	JobInit    JobStatus = "INIT"
	JobRunning JobStatus = "RUNNING"
	JobSuccess JobStatus = "SUCCESS"
	JobFail    JobStatus = "FAIL"
)

// Terminal reports whether the job will not change any more.
func (s JobStatus) Terminal() bool { return s == JobSuccess || s == JobFail }

// Job is an asynchronous IMS job as the progress API reports it.
type Job struct {
	ID          string
	Type        string
	Status      JobStatus
	BeginTime   string
	EndTime     string
	ErrorCode   string
	FailReason  string
	ImageID     string // the target image; known while RUNNING for copy jobs
	ImageName   string
	Percent     float64 // 0..1
	CurrentTask string
	// MemberResults holds the per-pair outcome of member (share/accept) jobs.
	MemberResults []MemberResult
}

// MemberResult is one entry of entities.results of a member job. Its JSON (a ShareFailed
// failure's failed_pairs, docs/api.md) has IMS's keys; it reads the Go names that encoding/json
// wrote before them too, from failures recorded then.
type MemberResult struct {
	ImageID   string `json:"image_id"`
	ProjectID string `json:"project_id"`
	Status    string `json:"status"` // "success" or "failed"
}

// UnmarshalJSON reads the keys and the legacy Go names; unknown keys are ignored.
func (m *MemberResult) UnmarshalJSON(data []byte) error {
	type fields MemberResult
	data, err := strictjson.GoNames(data, (*fields)(m))
	if err != nil {
		return err
	}
	return json.Unmarshal(data, (*fields)(m))
}

// Image is the subset of IMS image attributes imscopy reads.
type Image struct {
	ID                  string
	Name                string
	Status              string // queued, saving, active, killed, deleted
	Owner               string
	Visibility          string
	ImageType           string // __imagetype
	OriginalImageName   string // __originalimagename: lineage (source image ID for copies)
	DataOrigin          string // __data_origin: "image,<region>,<source id>" for copies
	CMKID               string // __system__cmkid
	MinDisk             int
	MinRAM              int
	OSType              string // __os_type
	OSVersion           string // __os_version
	OSBit               string // __os_bit
	Platform            string // __platform
	Architecture        string
	ImageSize           string // __image_size, bytes as a string
	Description         string // __description
	EnterpriseProjectID string
	CreatedAt           string
	UpdatedAt           string
}

// ListFilter selects images in GET /v2/cloudimages. Empty fields are not sent.
type ListFilter struct {
	ID        string
	Name      string // exact match
	Owner     string
	Status    string
	ImageType string // __imagetype: gold, private, shared, market
	Limit     int
	Marker    string
}

// MemberStatus is the state of a share as the recipient sees it.
type MemberStatus string

const (
	MemberPending  MemberStatus = "pending"
	MemberAccepted MemberStatus = "accepted"
	MemberRejected MemberStatus = "rejected"
)

// Member is one project an image is shared with.
type Member struct {
	ImageID   string
	MemberID  string // the project ID
	Status    MemberStatus
	CreatedAt string
	UpdatedAt string
}

// DefaultRequestTimeout bounds one HTTP exchange with IMS. The SDK's own default is 120 s;
// every IMS call imscopy makes is a small JSON exchange, so a request that takes longer is
// hung and retrying it (Temporal does) is faster than waiting. 20 s, not more, because a waiting
// activity heartbeats only between calls and GetJob may make two requests (the progress route,
// then the classic one): two hung requests and a heartbeat interval (40 s + 10 s) must stay well
// inside the activities' one-minute heartbeat timeout, or a healthy wait is timed out.
const DefaultRequestTimeout = 20 * time.Second
