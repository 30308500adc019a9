package imsclient

import (
	"context"
	"errors"
	"strings"

	ims "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ims/v2"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ims/v2/model"
	"github.com/imscopy/imscopy/imsapi"
)

// GetJob reads a job from the progress API (GET /v1/cloudimages/job/{job_id}), which reports the
// target image ID and process_percent while the job runs. Deployments without that route answer 404
// with no IMS code; then the classic API (GET /v1/{project_id}/jobs/{job_id}) is read instead.
//
// A finished member job is also read from the classic API, because only its entities carry the
// per-pair results (SDK JobEntities.Results; JobProgressEntities has none).
func (r *RegionClient) GetJob(ctx context.Context, jobID string) (imsapi.Job, error) {
	const op = "GetJob"
	if err := imsapi.ValidateJobID(jobID); err != nil {
		return imsapi.Job{}, err
	}
	job, err := call(ctx, r, op, func(c *ims.ImsClient) (imsapi.Job, error) {
		resp, err := c.ShowJobProgress(&model.ShowJobProgressRequest{JobId: jobID})
		if err != nil {
			return imsapi.Job{}, err
		}
		return jobFromProgress(resp), nil
	})
	var e *imsapi.Error
	switch {
	case errors.As(err, &e) && e.Status == 404 && !strings.HasPrefix(e.Code, "IMG."):
		return r.showJob(ctx, jobID)
	case err != nil:
		return imsapi.Job{}, err
	case job.Status.Terminal() && isMemberJob(job.Type):
		return r.showJob(ctx, jobID)
	}
	return job, nil
}

func (r *RegionClient) showJob(ctx context.Context, jobID string) (imsapi.Job, error) {
	return call(ctx, r, "GetJob", func(c *ims.ImsClient) (imsapi.Job, error) {
		resp, err := c.ShowJob(&model.ShowJobRequest{JobId: jobID})
		if err != nil {
			return imsapi.Job{}, err
		}
		return jobFromShow(resp), nil
	})
}

// isMemberJob recognises imsAddImageMembersJob, imsDelImageMembersJob and imsUpdateImageMembersJob.
func isMemberJob(jobType string) bool {
	return strings.HasSuffix(jobType, "MembersJob")
}

func jobFromProgress(resp *model.ShowJobProgressResponse) imsapi.Job {
	j := newJob(resp.JobId, resp.JobType, resp.BeginTime, resp.EndTime, resp.ErrorCode, resp.FailReason, statusOf(resp.Status))
	if e := resp.Entities; e != nil {
		setProgress(&j, e.ImageId, e.ImageName, e.CurrentTask, e.ProcessPercent)
	}
	return j
}

func jobFromShow(resp *model.ShowJobResponse) imsapi.Job {
	j := newJob(resp.JobId, resp.JobType, resp.BeginTime, resp.EndTime, resp.ErrorCode, resp.FailReason, statusOf(resp.Status))
	if e := resp.Entities; e != nil {
		setProgress(&j, e.ImageId, e.ImageName, e.CurrentTask, e.ProcessPercent)
		if j.ErrorCode == "" {
			// Some failures put their detail only into entities (SDK JobEntities.ErrorCode/Error).
			j.ErrorCode = deref(e.ErrorCode)
		}
		if j.FailReason == "" {
			j.FailReason = deref(e.Error)
		}
		for _, res := range deref(e.Results) {
			j.MemberResults = append(j.MemberResults, imsapi.MemberResult{
				ImageID:   deref(res.ImageId),
				ProjectID: deref(res.ProjectId),
				Status:    deref(res.Status),
			})
		}
	}
	return j
}

// newJob fills the header both job APIs answer with. The SDK gives each API its own response type
// with the same optional fields, so they meet here as plain values.
func newJob(id, jobType, begin, end, errorCode, failReason *string, status imsapi.JobStatus) imsapi.Job {
	return imsapi.Job{
		ID:         deref(id),
		Type:       deref(jobType),
		Status:     status,
		BeginTime:  deref(begin),
		EndTime:    deref(end),
		ErrorCode:  deref(errorCode),
		FailReason: deref(failReason),
	}
}

// setProgress fills what both job APIs report in their entities.
func setProgress(j *imsapi.Job, imageID, imageName, currentTask *string, percent *float64) {
	j.ImageID = deref(imageID)
	j.ImageName = deref(imageName)
	j.CurrentTask = deref(currentTask)
	j.Percent = deref(percent)
}

// statusOf reads either API's status enum; "" when IMS sent none.
func statusOf[E interface{ Value() string }](status *E) imsapi.JobStatus {
	if status == nil {
		return ""
	}
	return imsapi.JobStatus((*status).Value())
}
