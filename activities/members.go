package activities

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/imscopy/imscopy/activities/pollschedule"
	"github.com/imscopy/imscopy/imsapi"
)

// ShareImage adds the projects that are not yet members of the image (POST
// /v1/cloudimages/members) and returns the member job, which PollJob then waits for (MemberJob).
// Members already present, in any status, are left alone: adding one again would not change a
// rejection, and the members check reports it.
func (a *Activities) ShareImage(ctx context.Context, in ShareInput) (ShareResult, error) {
	r, err := a.region(in.Region)
	if err != nil {
		return ShareResult{}, err
	}
	members, err := r.ListMembers(ctx, in.ImageID)
	if err != nil {
		return ShareResult{}, fromIMS(err)
	}
	var missing []string
	for _, p := range in.Projects {
		if !slices.ContainsFunc(members, func(m imsapi.Member) bool { return m.MemberID == p }) {
			missing = append(missing, p)
		}
	}
	if len(missing) == 0 {
		activity.GetLogger(ctx).Info("Every project is already a member", "ImageID", in.ImageID)
		return ShareResult{}, nil
	}
	jobID, err := r.AddMembers(ctx, []string{in.ImageID}, missing)
	if err != nil {
		return ShareResult{}, fromIMS(err)
	}
	return ShareResult{JobID: jobID, Added: missing}, nil
}

// ListImageMembers lists the image's members as its owner sees them.
func (a *Activities) ListImageMembers(ctx context.Context, in MembersInput) ([]MemberState, error) {
	r, err := a.region(in.Region)
	if err != nil {
		return nil, err
	}
	members, err := r.ListMembers(ctx, in.ImageID)
	if err != nil {
		return nil, fromIMS(err)
	}
	out := make([]MemberState, 0, len(members))
	for _, m := range members {
		out = append(out, MemberState{ProjectID: m.MemberID, Status: string(m.Status)})
	}
	return out, nil
}

// AcceptShare accepts the share in the recipient project, with the credentials of the worker that
// runs it (PUT /v1/cloudimages/members as the recipient), and waits for the member job there,
// which only the recipient can read. A worker of the image owner's account runs it for projects
// of that account; for another account the workflow schedules it on a task queue served by that
// account's worker, so no credential leaves its account. Accepting again is harmless, so a retry
// after a lost worker accepts again rather than remembering the job.
func (a *Activities) AcceptShare(ctx context.Context, in AcceptInput) error {
	r, err := a.region(in.Region)
	if err != nil {
		return err
	}
	recipient, err := r.InProject(in.ProjectID)
	if err != nil {
		return invalidInput(err)
	}
	jobID, err := recipient.UpdateMemberStatus(ctx, []string{in.ImageID}, in.ProjectID, imsapi.MemberAccepted)
	if c := imsapi.ClassOf(err); c == imsapi.ClassForbidden || c == imsapi.ClassAuth {
		// The usual cause: the project belongs to another account, whose credentials this worker
		// must not hold.
		return temporal.NewApplicationErrorWithOptions(fmt.Sprintf("%v; if project %s belongs to another account, "+
			"set the target's accept_queue to a task queue served by a worker of that account", err, in.ProjectID),
			classTypes[c].errType, temporal.ApplicationErrorOptions{NonRetryable: true, Details: fromIMSDetails(err)})
	}
	if err != nil {
		return fromIMS(err)
	}
	p := a.pollConfig()
	for waits := 1; ; waits++ {
		if err := a.sleep(ctx, pollschedule.FailureWait(p.Config, waits, rand.Float64()), func() any { return jobID }); err != nil {
			return err
		}
		job, err := recipient.GetJob(ctx, jobID)
		switch {
		case err != nil && imsapi.ClassOf(err).Retryable():
			activity.GetLogger(ctx).Warn("Reading the accept's job failed; reading again", "JobID", jobID, "Error", err)
			continue
		case err != nil:
			return fromIMS(err)
		case !job.Status.Terminal():
			continue
		}
		var failed []imsapi.MemberResult
		for _, pair := range job.MemberResults {
			if pair.Status != "success" {
				failed = append(failed, pair)
			}
		}
		if job.Status == imsapi.JobFail || len(failed) > 0 {
			return shareFailed(jobID, &CopyFailure{ErrorCode: job.ErrorCode, FailReason: job.FailReason}, failed)
		}
		return nil
	}
}
