package main

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/imscopy/imscopy/activities"
	"github.com/imscopy/imscopy/imsapi"
	"github.com/imscopy/imscopy/workflows"
	"github.com/imscopy/imscopy/workflows/copyimage"
)

// The strategies, in the order of the report.
const (
	strategyAdaptive  = "adaptive"      // imscopy's CopyImage and PollJob, as shipped
	strategyHeartbeat = "heartbeat-5s"  // a heartbeating activity polling every 5 s
	strategyTerraform = "terraform-10s" // Terraform's provider: first poll after 10 s, then every 10 s
	strategyRetry     = "retry-30s"     // one poll per attempt; the retry policy is the loop
	strategyTimer     = "timer-10s"     // a workflow timer loop with a one-shot poll activity
)

var allStrategies = []string{strategyAdaptive, strategyHeartbeat, strategyTerraform, strategyRetry, strategyTimer}

// The comparison strategies' intervals in job time; the bench divides them by -scale.
const (
	heartbeatEvery = 5 * time.Second
	// heartbeatLoopTimeout is Temporal's "frequent polling" sample's HeartbeatTimeout
	// (samples-go/polling/frequent); the SDK sends a heartbeat at most every 80 % of it.
	heartbeatLoopTimeout = 30 * time.Second
	terraformDelay       = 10 * time.Second
	terraformEvery       = 10 * time.Second
	retryEvery           = 30 * time.Second
	timerEvery           = 10 * time.Second
)

// StrategyInput is a comparison workflow's input: the same copy the adaptive workflow gets.
type StrategyInput struct {
	Copy     copyimage.Input
	Strategy string
	Scale    float64
}

// WaitInput tells a comparison activity which job to wait for and how.
type WaitInput struct {
	JobID      string
	FirstDelay time.Duration
	Every      time.Duration
}

// JobCheck is one read of a job's status.
type JobCheck struct {
	Done    bool
	ImageID string
}

// errJobRunning is the retry strategy's "not yet": a retryable failure that makes Temporal
// schedule the next attempt, i.e. the next poll.
const errJobRunning = "JobStillRunning"

// strategyActivities are the comparison strategies' waits. SubmitCopy and VerifyImage are the
// product's own, so every strategy submits and verifies the same way.
type strategyActivities struct {
	acts *activities.Activities
}

// readJob asks IMS once; FAIL becomes the product's non-retryable error type.
func (s *strategyActivities) readJob(ctx context.Context, jobID string) (JobCheck, error) {
	job, err := s.acts.IMS.Home().GetJob(ctx, jobID)
	if err != nil {
		return JobCheck{}, err // retryable or not, Temporal's retry policy decides
	}
	switch job.Status {
	case imsapi.JobSuccess:
		return JobCheck{Done: true, ImageID: job.ImageID}, nil
	case imsapi.JobFail:
		return JobCheck{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("job %s failed: %s %s", jobID, job.ErrorCode, job.FailReason), activities.ErrCopyFailed, nil)
	}
	return JobCheck{ImageID: job.ImageID}, nil
}

// WaitLoop polls after FirstDelay and then every Every, heartbeating on each poll, until the
// job ends: the heartbeat-5s and terraform-10s strategies.
func (s *strategyActivities) WaitLoop(ctx context.Context, in WaitInput) (JobCheck, error) {
	wait := in.FirstDelay
	for polls := 0; ; polls++ {
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return JobCheck{}, ctx.Err()
			case <-t.C:
			}
		}
		check, err := s.readJob(ctx, in.JobID)
		if err != nil || check.Done {
			return check, err
		}
		activity.RecordHeartbeat(ctx, polls)
		wait = in.Every
	}
}

// PollUntilDone polls once and fails with a retryable error while the job runs: retry-30s.
func (s *strategyActivities) PollUntilDone(ctx context.Context, jobID string) (JobCheck, error) {
	check, err := s.readJob(ctx, jobID)
	if err == nil && !check.Done {
		return check, temporal.NewApplicationError("the copy job is still running", errJobRunning)
	}
	return check, err
}

// CheckJob polls once and reports: timer-10s's one-shot activity.
func (s *strategyActivities) CheckJob(ctx context.Context, jobID string) (JobCheck, error) {
	return s.readJob(ctx, jobID)
}

// registerStrategies registers the product's workflow and activities and the comparison ones.
func registerStrategies(w worker.Registry, acts *activities.Activities) {
	workflows.Register(w, acts)
	w.RegisterWorkflow(StrategyCopy)
	w.RegisterActivity(&strategyActivities{acts: acts})
}

var (
	productActs  *activities.Activities
	strategyActs *strategyActivities
)

// scaled divides a job-time interval by the time scale.
func scaled(d time.Duration, scale float64) time.Duration {
	return time.Duration(float64(d) / scale)
}

// StrategyCopy is one copy under a comparison strategy: the product's SubmitCopy, the strategy's
// wait, the product's VerifyImage. No compensation: the benchmark injects no failures.
func StrategyCopy(ctx workflow.Context, in StrategyInput) (string, error) {
	quick := workflow.ActivityOptions{
		StartToCloseTimeout: 2 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: scaled(2*time.Second, in.Scale), BackoffCoefficient: 2,
			MaximumInterval: scaled(time.Minute, in.Scale), NonRetryableErrorTypes: activities.NonRetryableErrorTypes,
		},
	}
	var sub activities.SubmitCopyResult
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, quick), productActs.SubmitCopy,
		activities.SubmitCopyInput{Region: in.Copy.Region, Request: in.Copy.CopyRequest()}).Get(ctx, &sub)
	if err != nil {
		return "", err
	}
	check, err := waitFor(ctx, in, sub.JobID)
	if err != nil {
		return "", err
	}
	imageID := check.ImageID
	if imageID == "" {
		imageID = sub.ImageID
	}
	err = workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, quick), productActs.VerifyImage,
		activities.VerifyImageInput{Region: in.Copy.Region, ImageID: imageID, SourceImageID: in.Copy.SourceImageID,
			Name: in.Copy.Name, CMKID: in.Copy.CMKID}).Get(ctx, nil)
	return imageID, err
}

// waitFor runs the strategy's wait for the job.
func waitFor(ctx workflow.Context, in StrategyInput, jobID string) (JobCheck, error) {
	sc := func(d time.Duration) time.Duration { return scaled(d, in.Scale) }
	var check JobCheck
	switch in.Strategy {
	case strategyHeartbeat, strategyTerraform:
		wait := WaitInput{JobID: jobID, Every: sc(heartbeatEvery)}
		if in.Strategy == strategyTerraform {
			wait = WaitInput{JobID: jobID, FirstDelay: sc(terraformDelay), Every: sc(terraformEvery)}
		}
		opts := workflow.ActivityOptions{
			StartToCloseTimeout: 24 * time.Hour,
			HeartbeatTimeout:    sc(heartbeatLoopTimeout),
			RetryPolicy:         &temporal.RetryPolicy{InitialInterval: sc(time.Second), NonRetryableErrorTypes: activities.NonRetryableErrorTypes},
		}
		err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, opts), strategyActs.WaitLoop, wait).Get(ctx, &check)
		return check, err
	case strategyRetry:
		opts := workflow.ActivityOptions{
			StartToCloseTimeout: time.Minute,
			RetryPolicy: &temporal.RetryPolicy{InitialInterval: sc(retryEvery), BackoffCoefficient: 1,
				NonRetryableErrorTypes: activities.NonRetryableErrorTypes},
		}
		err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, opts), strategyActs.PollUntilDone, jobID).Get(ctx, &check)
		return check, err
	case strategyTimer:
		opts := workflow.ActivityOptions{
			StartToCloseTimeout: time.Minute,
			RetryPolicy:         &temporal.RetryPolicy{InitialInterval: sc(time.Second), NonRetryableErrorTypes: activities.NonRetryableErrorTypes},
		}
		for {
			if err := workflow.Sleep(ctx, sc(timerEvery)); err != nil {
				return check, err
			}
			if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, opts), strategyActs.CheckJob, jobID).Get(ctx, &check); err != nil || check.Done {
				return check, err
			}
		}
	}
	return check, temporal.NewNonRetryableApplicationError("unknown strategy "+in.Strategy, activities.ErrInvalidInput, nil)
}
