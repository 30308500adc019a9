package promote

import (
	"time"

	"github.com/imscopy/imscopy/activities/activityapi"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Each activity's timeouts and retries, with the reason for each. Retry policies list the
// non-retryable error types, so an error that lost its flag on the way is not retried.
var (
	retries = &temporal.RetryPolicy{
		InitialInterval:        2 * time.Second,
		BackoffCoefficient:     2,
		MaximumInterval:        time.Minute,
		NonRetryableErrorTypes: activityapi.NonRetryableErrorTypes,
	}

	// readOptions: a few reads of image metadata or members; retried through IMS's throttling for
	// up to ten minutes, after which a person should look.
	readOptions = workflow.ActivityOptions{
		StartToCloseTimeout:    time.Minute,
		ScheduleToCloseTimeout: 10 * time.Minute,
		RetryPolicy:            retries,
	}

	// shareOptions: a members list and one POST.
	shareOptions = workflow.ActivityOptions{
		StartToCloseTimeout:    2 * time.Minute,
		ScheduleToCloseTimeout: time.Hour,
		RetryPolicy:            retries,
	}

	// memberJobOptions: PollJob on a member job, which lasts seconds; it heartbeats every
	// PollConfig.HeartbeatEvery, so a minute of silence means its worker is gone.
	memberJobOptions = workflow.ActivityOptions{
		StartToCloseTimeout:    time.Hour,
		ScheduleToCloseTimeout: 2 * time.Hour,
		HeartbeatTimeout:       time.Minute,
		RetryPolicy:            retries,
	}

	// acceptOptions: the accept and its member job, on the recipients' worker. ScheduleToStart is
	// not bounded: with accept_queue, the recipients' worker may be started after the promotion,
	// and the target waits for it (its progress says so).
	acceptOptions = workflow.ActivityOptions{
		StartToCloseTimeout:    time.Hour,
		ScheduleToCloseTimeout: 7 * 24 * time.Hour,
		HeartbeatTimeout:       time.Minute,
		RetryPolicy:            retries,
	}

	// deleteOptions: deleting an intermediate image, waiting out IMG.0090 like a copy's
	// compensation.
	deleteOptions = workflow.ActivityOptions{
		StartToCloseTimeout:    24 * time.Hour,
		ScheduleToCloseTimeout: 48 * time.Hour,
		HeartbeatTimeout:       time.Minute,
		RetryPolicy:            retries,
	}
)
