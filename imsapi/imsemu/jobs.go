package imsemu

import (
	"net/http"
	"time"
)

// jobResponse is the body of both job APIs (SDK ShowJobResponse / ShowJobProgressResponse).
// error_code and fail_reason are null unless the job failed, as in IMS's examples.
type jobResponse struct {
	Status     string  `json:"status"`
	JobID      string  `json:"job_id"`
	JobType    string  `json:"job_type"`
	BeginTime  string  `json:"begin_time"`
	EndTime    string  `json:"end_time"`
	ErrorCode  *string `json:"error_code"`
	FailReason *string `json:"fail_reason"`
	Entities   any     `json:"entities"`
}

// jobEntities is ShowJob's entities (SDK JobEntities).
type jobEntities struct {
	ImageID        string          `json:"image_id,omitempty"`
	ImageName      string          `json:"image_name,omitempty"`
	CurrentTask    string          `json:"current_task,omitempty"`
	ProcessPercent *float64        `json:"process_percent,omitempty"`
	Results        *[]memberResult `json:"results,omitempty"`
	ErrorCode      string          `json:"error_code,omitempty"`
	Error          string          `json:"error,omitempty"`
}

// progressEntities is ShowJobProgress's entities (SDK JobProgressEntities; note "subJobId").
type progressEntities struct {
	ImageID        string   `json:"image_id,omitempty"`
	ImageName      string   `json:"image_name,omitempty"`
	CurrentTask    string   `json:"current_task,omitempty"`
	ProcessPercent *float64 `json:"process_percent,omitempty"`
	SubJobID       string   `json:"subJobId,omitempty"`
}

const failReason = "copying the image data failed (failure injected by the emulator's job failure rate)"

// showJobProgress is GET /v1/cloudimages/job/{job_id}.
func (e *Emulator) showJobProgress(c *call) reply {
	e.mu.RLock()
	j := e.findJob(c, c.params.get("job_id"))
	e.mu.RUnlock()
	if j == nil {
		return unknownJob(c.params.get("job_id"))
	}
	resp, v := j.response(c.now)
	ent := progressEntities{CurrentTask: v.Task, SubJobID: j.SubJobID}
	if j.isCopy() {
		ent.ProcessPercent = &v.Percent
		if v.Status != jobInit {
			ent.ImageID, ent.ImageName = j.ImageID, j.ImageName
		}
	}
	resp.Entities = ent
	return okReply(resp)
}

// showJob is GET /v1/{project_id}/jobs/{job_id}; the path's project must be the caller's.
func (e *Emulator) showJob(c *call) reply {
	if p := c.params.get("project_id"); p != c.project {
		return gatewayError(http.StatusForbidden, codeProjectMismatch,
			"The IAM or ACL authentication failed: project "+p+" in the path is not the project of the credentials ("+c.project+")", c.requestID)
	}
	e.mu.RLock()
	j := e.findJob(c, c.params.get("job_id"))
	e.mu.RUnlock()
	if j == nil {
		return unknownJob(c.params.get("job_id"))
	}
	resp, v := j.response(c.now)
	ent := jobEntities{CurrentTask: v.Task}
	if j.isCopy() {
		ent.ProcessPercent = &v.Percent
		if v.Status != jobInit {
			ent.ImageID, ent.ImageName = j.ImageID, j.ImageName
		}
		if v.Status == jobFail {
			ent.ErrorCode, ent.Error = codeJobFailed, failReason
		}
	} else {
		results := []memberResult{}
		if v.Status == jobSuccess {
			results = j.Results
		}
		ent.Results = &results
	}
	resp.Entities = ent
	return okReply(resp)
}

// findJob returns the job if it belongs to the caller's project in this region. Jobs are
// immutable once created, so the pointer may be used after the lock is released.
func (e *Emulator) findJob(c *call, id string) *job {
	j := e.jobs[id]
	if j == nil || j.Region != c.region.Name || j.Project != c.project {
		return nil
	}
	return j
}

func unknownJob(id string) reply {
	return imsError(http.StatusNotFound, codeUnknownJob, "job %s does not exist in this region for this project; check the job ID and the region", id)
}

// response renders the fields both job APIs share.
func (j *job) response(now time.Time) (jobResponse, jobView) {
	v := j.view(now)
	resp := jobResponse{Status: v.Status, JobID: j.ID, JobType: j.Type, BeginTime: formatJobTime(j.Begin)}
	if !v.End.IsZero() {
		resp.EndTime = formatJobTime(v.End)
	}
	if v.Status == jobFail {
		code, reason := codeJobFailed, failReason
		resp.ErrorCode, resp.FailReason = &code, &reason
	}
	return resp, v
}

func formatJobTime(t time.Time) string { return t.UTC().Format(jobTimeFormat) }
