package copyimage

import (
	"time"

	"github.com/imscopy/imscopy/activities/activityapi"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Each activity's timeouts and retries, with the reason for each. Retry policies also list the
// non-retryable error types, so that an error which lost its flag on the way is not retried.
var (
	submitOptions = workflow.ActivityOptions{
		// An attempt retries inside itself while no POST can have gone out (IMS unreachable,
		// throttled), so that a cancellation meanwhile reaches it and learns that no copy exists:
		// it may last as long as the submit may.
		StartToCloseTimeout: time.Hour,
		// It heartbeats while it waits; one list or POST lasts at most two requests of
		// imsapi.DefaultRequestTimeout (20 s): a minute of silence means its worker is gone.
		HeartbeatTimeout: time.Minute,
		// Throttling (IMG.0060: at most 40 running jobs per project) lasts as long as other copies
		// run; after an hour of it a person should look rather than the copy wait on.
		ScheduleToCloseTimeout: time.Hour,
		// A POST in flight when the workflow is cancelled must still report its job, so that the
		// compensation can delete what it created.
		WaitForCancellation: true,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        2 * time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        time.Minute,
			NonRetryableErrorTypes: activityapi.NonRetryableErrorTypes,
		},
	}

	pollOptions = workflow.ActivityOptions{
		// Copies of large images take hours (Terraform's own tests take up to half an hour for
		// small ones); a job still running after a day is stuck and a person should look.
		StartToCloseTimeout:    24 * time.Hour,
		ScheduleToCloseTimeout: 24 * time.Hour,
		// PollJob heartbeats every PollConfig.HeartbeatEvery (10 s) between calls and one call
		// (GetJob: up to two requests of imsapi.DefaultRequestTimeout, 20 s each) lasts at most
		// 40 s: a minute of silence means its worker is gone, and the retry on another worker
		// resumes from the last heartbeat instead of waiting out the day.
		HeartbeatTimeout: time.Minute,
		// Read errors are retried inside PollJob; Temporal retries only after a lost worker.
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        30 * time.Second,
			NonRetryableErrorTypes: activityapi.NonRetryableErrorTypes,
		},
	}

	verifyOptions = workflow.ActivityOptions{
		// Two reads of image metadata.
		StartToCloseTimeout: time.Minute,
		// ImageNotReady is retried: IMS may report a job's success a moment before the image's
		// status follows. Ten minutes of "not active" after SUCCESS means something is wrong.
		ScheduleToCloseTimeout: 10 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        2 * time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        30 * time.Second,
			NonRetryableErrorTypes: activityapi.NonRetryableErrorTypes,
		},
	}

	cleanupOptions = workflow.ActivityOptions{
		// IMS refuses to delete an image while its copy job runs (IMG.0090), and CleanupCopy waits
		// that out: as long as a copy may take.
		StartToCloseTimeout: 24 * time.Hour,
		// It heartbeats while it waits, like PollJob.
		HeartbeatTimeout: time.Minute,
		// Leaving a half-made image behind costs quota and money, so keep trying for two days.
		ScheduleToCloseTimeout: 48 * time.Hour,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        5 * time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        5 * time.Minute,
			NonRetryableErrorTypes: activityapi.NonRetryableErrorTypes,
		},
	}
)
