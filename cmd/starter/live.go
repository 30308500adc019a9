package main

import (
	"context"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/imscopy/imscopy/activities/activityapi"
	"github.com/imscopy/imscopy/workflows/copyimage"
)

// livePoll is what the server holds about a pending PollJob. The workflow hears nothing from
// PollJob until it ends (so a long job does not lengthen the history); while it waits, the job's
// percent, image and poll count are in its last heartbeat, which the server keeps with the
// pending activity and DescribeWorkflowExecution returns.
type livePoll struct {
	HasHeartbeat bool // false until a heartbeat reaches the server, or when its details do not decode
	JobStatus    string
	Percent      float64
	ImageID      string
	Polls        int
	NextPollAt   time.Time
	HeartbeatAt  time.Time
	Attempt      int32
	// LastFailure is why the previous attempt ended (its worker died, it stopped for a deploy),
	// while PollJob is being retried; "" on the first attempt.
	LastFailure string
}

// livePollOf finds the workflow's pending PollJob in a describe answer; nil when there is none.
func livePollOf(desc *workflowservice.DescribeWorkflowExecutionResponse) *livePoll {
	for _, a := range desc.GetPendingActivities() {
		if a.GetActivityType().GetName() != activityapi.NamePollJob {
			continue
		}
		live := &livePoll{Attempt: a.GetAttempt()}
		if a.GetAttempt() > 1 {
			live.LastFailure = a.GetLastFailure().GetMessage()
		}
		var hb activityapi.PollHeartbeat
		// Details a worker of another version wrote may not decode; the phase and IDs still come
		// from the progress query, so they are skipped rather than reported.
		if details := a.GetHeartbeatDetails(); len(details.GetPayloads()) > 0 &&
			converter.GetDefaultDataConverter().FromPayloads(details, &hb) == nil {
			live.HasHeartbeat = true
			live.JobStatus, live.Percent, live.ImageID, live.Polls, live.NextPollAt = hb.Status, hb.Percent, hb.ImageID, hb.Polls, hb.NextPollAt
			if t := a.GetLastHeartbeatTime(); t != nil {
				live.HeartbeatAt = t.AsTime()
			}
		}
		return live
	}
	return nil
}

// describeLive asks the server for the workflow's pending PollJob and retried activity once.
func describeLive(ctx context.Context, c client.Client, workflowID string) (*livePoll, *retrying, error) {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	desc, err := c.DescribeWorkflowExecution(ctx, workflowID, "")
	if err != nil {
		return nil, nil, err
	}
	return livePollOf(desc), retryingOf(desc), nil
}

// retrying is a pending activity that Temporal is retrying: while IMS is unreachable, for one,
// the workflow's phase and percent stand still, and only this says why.
type retrying struct {
	Activity    string
	Attempt     int32 // the attempt running or due next
	LastFailure string
	NextAt      time.Time // when the next attempt is due, while it waits
}

// retryingOf finds the first pending activity past its first attempt that failed before; nil when
// none is.
func retryingOf(desc *workflowservice.DescribeWorkflowExecutionResponse) *retrying {
	for _, a := range desc.GetPendingActivities() {
		// SubmitCopy retries inside an attempt while no POST can have gone out, and says so in its
		// heartbeat's second value.
		var sr activityapi.SubmitRetry
		if p := a.GetHeartbeatDetails().GetPayloads(); a.GetActivityType().GetName() == activityapi.NameSubmitCopy && len(p) > 1 &&
			converter.GetDefaultDataConverter().FromPayload(p[1], &sr) == nil && sr.Tries > 0 {
			return &retrying{Activity: activityapi.NameSubmitCopy, Attempt: int32(sr.Tries) + 1, LastFailure: sr.LastFailure, NextAt: sr.NextAt}
		}
		if a.GetAttempt() <= 1 || a.GetLastFailure() == nil {
			continue
		}
		r := &retrying{Activity: a.GetActivityType().GetName(), Attempt: a.GetAttempt(),
			LastFailure: a.GetLastFailure().GetMessage()}
		if t := a.GetNextAttemptScheduleTime(); t != nil {
			r.NextAt = t.AsTime()
		}
		return r
	}
	return nil
}

// snapshot is what the starter shows of a copy: the workflow's progress query, completed with
// PollJob's live state while it waits for the job, and any activity being retried.
type snapshot struct {
	copyimage.Progress
	Live  *livePoll
	Retry *retrying
}

// combine puts the live poll over the query's answer: while PollJob waits, its heartbeat knows
// the percent, the polls and the image, and the workflow does not yet.
func combine(p copyimage.Progress, live *livePoll) snapshot {
	if live == nil || (p.Phase != "" && p.Phase != copyimage.PhasePolling) {
		// The describe and the query are two calls: PollJob may have ended between them.
		return snapshot{Progress: p}
	}
	s := snapshot{Progress: p, Live: live}
	if s.Phase == "" {
		// The query got no answer (no worker), but a pending PollJob says where the copy is.
		s.Phase = copyimage.PhasePolling
	}
	if live.HasHeartbeat {
		s.Percent, s.Polls = live.Percent, live.Polls
		if live.ImageID != "" {
			s.ImageID = live.ImageID
		}
	}
	return s
}
