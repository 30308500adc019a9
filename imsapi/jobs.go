package imsapi

import (
	"context"
	"errors"
	"strings"

	ims "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ims/v2"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ims/v2/model"
)

// GetJob reads a job from the progress API (GET /v1/cloudimages/job/{job_id}), which reports the
// target image ID and process_percent while the job runs. Deployments without that route answer 404
// with no IMS code; then the classic API (GET /v1/{project_id}/jobs/{job_id}) is read instead.
//
// A finished member job is also read from the classic API, because only its entities carry the
// per-pair results (SDK JobEntities.Results; JobProgressEntities has none).
func (r *RegionClient) GetJob(ctx context.Context, jobID string) (Job, error) {
	const op = "GetJob"
	if err := ValidateJobID(jobID); err != nil {
		return Job{}, err
	}
	job, err := call(ctx, r, op, func(c *ims.ImsClient) (Job, error) {
		resp, err := c.ShowJobProgress(&model.ShowJobProgressRequest{JobId: jobID})
		if err != nil {
			return Job{}, err
		}
		return jobFromProgress(resp), nil
	})
	var e *Error
	switch {
	case errors.As(err, &e) && e.Status == 404 && !strings.HasPrefix(e.Code, "IMG."):
		return r.showJob(ctx, jobID)
	case err != nil:
		return Job{}, err
	case job.Status.Terminal() && isMemberJob(job.Type):
		return r.showJob(ctx, jobID)
	}
	return job, nil
}

func (r *RegionClient) showJob(ctx context.Context, jobID string) (Job, error) {
	return call(ctx, r, "GetJob", func(c *ims.ImsClient) (Job, error) {
		resp, err := c.ShowJob(&model.ShowJobRequest{JobId: jobID})
		if err != nil {
			return Job{}, err
		}
		return jobFromShow(resp), nil
	})
}

// isMemberJob recognises imsAddImageMembersJob, imsDelImageMembersJob and imsUpdateImageMembersJob.
func isMemberJob(jobType string) bool {
	return strings.HasSuffix(jobType, "MembersJob")
}

func jobFromProgress(resp *model.ShowJobProgressResponse) Job {
	j := Job{
		ID:         deref(resp.JobId),
		Type:       deref(resp.JobType),
		BeginTime:  deref(resp.BeginTime),
		EndTime:    deref(resp.EndTime),
		ErrorCode:  deref(resp.ErrorCode),
		FailReason: deref(resp.FailReason),
	}
	if resp.Status != nil {
		j.Status = JobStatus(resp.Status.Value())
	}
	if e := resp.Entities; e != nil {
		j.ImageID = deref(e.ImageId)
		j.ImageName = deref(e.ImageName)
		j.Percent = deref(e.ProcessPercent)
		j.CurrentTask = deref(e.CurrentTask)
	}
	return j
}

func jobFromShow(resp *model.ShowJobResponse) Job {
	j := Job{
		ID:         deref(resp.JobId),
		Type:       deref(resp.JobType),
		BeginTime:  deref(resp.BeginTime),
		EndTime:    deref(resp.EndTime),
		ErrorCode:  deref(resp.ErrorCode),
		FailReason: deref(resp.FailReason),
	}
	if resp.Status != nil {
		j.Status = JobStatus(resp.Status.Value())
	}
	if e := resp.Entities; e != nil {
		j.ImageID = deref(e.ImageId)
		j.ImageName = deref(e.ImageName)
		j.Percent = deref(e.ProcessPercent)
		j.CurrentTask = deref(e.CurrentTask)
		if j.ErrorCode == "" {
			// Some failures put their detail only into entities (SDK JobEntities.ErrorCode/Error).
			j.ErrorCode = deref(e.ErrorCode)
		}
		if j.FailReason == "" {
			j.FailReason = deref(e.Error)
		}
		for _, res := range deref(e.Results) {
			j.MemberResults = append(j.MemberResults, MemberResult{
				ImageID:   deref(res.ImageId),
				ProjectID: deref(res.ProjectId),
				Status:    deref(res.Status),
			})
		}
	}
	return j
}
