package imsemu

import (
	"math"
	"time"
)

// Image statuses (docs/ims-api.md section 5.3).
const (
	statusQueued  = "queued"
	statusSaving  = "saving"
	statusActive  = "active"
	statusKilled  = "killed"
	statusDeleted = "deleted"
)

// Job statuses, upper case as IMS's enum.
const (
	jobInit    = "INIT"
	jobRunning = "RUNNING"
	jobSuccess = "SUCCESS"
	jobFail    = "FAIL"
)

// image is one image in one region. A copy's status is not stored: it follows its job's clock
// (queued, saving, then active or killed), so it never needs a timer or a state write.
type image struct {
	ID                  string    `json:"id"`
	Region              string    `json:"region"`
	Owner               string    `json:"owner"`
	Name                string    `json:"name"`
	Description         string    `json:"description,omitempty"`
	Visibility          string    `json:"visibility"`
	OSType              string    `json:"os_type"`
	OSVersion           string    `json:"os_version"`
	OSBit               string    `json:"os_bit"`
	Platform            string    `json:"platform"`
	Architecture        string    `json:"architecture"`
	DiskFormat          string    `json:"disk_format"`
	VirtualEnvType      string    `json:"virtual_env_type"`
	MinDisk             int       `json:"min_disk"`
	MinRAM              int       `json:"min_ram"`
	SizeBytes           int64     `json:"size_bytes"`
	CMKID               string    `json:"cmk_id,omitempty"`
	OriginalImageName   string    `json:"original_image_name,omitempty"`
	DataOrigin          string    `json:"data_origin,omitempty"`
	EnterpriseProjectID string    `json:"enterprise_project_id"`
	CreatedAt           time.Time `json:"created_at"`
	VisibleAt           time.Time `json:"visible_at"`
	DeletedAt           time.Time `json:"deleted_at,omitzero"`
	JobID               string    `json:"job_id,omitempty"` // the copy job that creates it
	FixedStatus         string    `json:"fixed_status,omitempty"`

	job *job // JobID resolved; rebuilt on load
}

// job is an asynchronous IMS job. Its state is a function of the clock: see view.
type job struct {
	ID            string         `json:"id"`
	Type          string         `json:"type"`
	Region        string         `json:"region"`
	Project       string         `json:"project"`
	SubJobID      string         `json:"sub_job_id"`
	ImageID       string         `json:"image_id,omitempty"`
	ImageName     string         `json:"image_name,omitempty"`
	SourceImageID string         `json:"source_image_id,omitempty"`
	TargetRegion  string         `json:"target_region,omitempty"`
	Begin         time.Time      `json:"begin"`
	Duration      time.Duration  `json:"duration"`
	FailAt        float64        `json:"fail_at,omitempty"` // 0: succeeds; else the share of Duration at which it fails
	Results       []memberResult `json:"results,omitempty"`
	// AnswerLost says that the answer to the request that created the job was lost on purpose
	// (LostResponseRate), so its caller never learned the job ID.
	AnswerLost bool `json:"answer_lost,omitempty"`
	// ProgressSeed draws the job's realistic progress curve (progress.go); 0 means linear.
	ProgressSeed uint64 `json:"progress_seed,omitempty"`

	curve progressCurve // from ProgressSeed; rebuilt on load
}

type memberResult struct {
	ImageID   string `json:"image_id"`
	ProjectID string `json:"project_id"`
	Status    string `json:"status"` // "success" or "failed"
}

// member is one project an image is shared with.
type member struct {
	ImageID   string    `json:"image_id"`
	ProjectID string    `json:"project_id"`
	Status    string    `json:"status"` // pending, accepted, rejected
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// jobView is a job as seen at one instant.
type jobView struct {
	Status  string
	Percent float64
	Task    string
	End     time.Time // zero while not terminal
}

func (j *job) isCopy() bool { return j.Type == jobTypeInRegion || j.Type == jobTypeCrossRegion }

func (j *job) initPhase() time.Duration {
	return min(j.Duration/initShare, maxInitPhase)
}

// view derives the job's state at now from its begin time and duration.
func (j *job) view(now time.Time) jobView {
	elapsed := now.Sub(j.Begin)
	length := j.Duration
	if j.FailAt > 0 {
		length = time.Duration(float64(j.Duration) * j.FailAt)
	}
	task := j.task()
	switch {
	case elapsed >= length && j.FailAt > 0:
		return jobView{Status: jobFail, Percent: floorPercent(j.failPercent()), Task: task, End: j.Begin.Add(length)}
	case elapsed >= length:
		return jobView{Status: jobSuccess, Percent: 1, End: j.Begin.Add(length)}
	case elapsed < j.queueWait():
		return jobView{Status: jobInit, Percent: 0}
	}
	return jobView{Status: jobRunning, Percent: floorPercent(j.doneShare(elapsed)), Task: task}
}

// task names the phase, as IMS's current_task does ("CopyImageInRegionTask:" in the docs).
func (j *job) task() string {
	switch j.Type {
	case jobTypeInRegion:
		return "CopyImageInRegionTask:"
	case jobTypeCrossRegion:
		return "CopyImageCrossRegionTask:"
	}
	return ""
}

// floorPercent keeps two decimals, as IMS shows (0.40), and never rounds a running job up to 1.
func floorPercent(p float64) float64 { return math.Floor(p*100) / 100 }

// status derives the image's status at now.
func (img *image) status(now time.Time) string {
	switch {
	case !img.DeletedAt.IsZero():
		return statusDeleted
	case img.job == nil:
		return img.FixedStatus
	}
	switch img.job.view(now).Status {
	case jobInit:
		return statusQueued
	case jobRunning:
		return statusSaving
	case jobSuccess:
		return statusActive
	}
	return statusKilled
}

// building reports whether the image's copy job is still running (delete answers IMG.0090).
func (img *image) building(now time.Time) bool {
	return img.job != nil && img.DeletedAt.IsZero() && img.job.view(now).End.IsZero()
}

// timestamps derives updated_at and active_at at now.
func (img *image) timestamps(now time.Time) (updated, active time.Time) {
	updated = img.CreatedAt
	if img.job != nil {
		v := img.job.view(now)
		if !v.End.IsZero() {
			updated = v.End
			if v.Status == jobSuccess {
				active = v.End
			}
		}
	} else if img.FixedStatus == statusActive {
		active = img.CreatedAt
	}
	if !img.DeletedAt.IsZero() {
		updated = img.DeletedAt
	}
	return updated, active
}
