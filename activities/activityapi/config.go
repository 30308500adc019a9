package activityapi

import (
	"time"

	"github.com/imscopy/imscopy/activities/pollschedule"
)

// PollConfig tunes how often the activities ask IMS about a job or an image: the poll
// schedule's knobs (pollschedule.Config) and the activities' own.
type PollConfig struct {
	pollschedule.Config
	// HeartbeatEvery is how often a waiting activity records a heartbeat. Default 10 s: with a
	// GetJob of two hung requests (2 × imsapi.DefaultRequestTimeout) between two records, the
	// longest silence stays inside the workflows' one-minute heartbeat timeouts. The SDK sends
	// records to the server at most every 0.8 × the heartbeat timeout (it holds the others back)
	// unless the worker sets worker.Options.MaxHeartbeatThrottleInterval lower; the worker sets it
	// to HeartbeatEvery (WORKER_HEARTBEAT_THROTTLE_MAX, 10 s), because a cancellation reaches an
	// activity only in the answer to a sent heartbeat.
	HeartbeatEvery time.Duration
	// VisibilityWait is how long SubmitCopy keeps looking for an image that an earlier attempt may
	// have created before it POSTs again. Default 20 s: a new image appears in IMS's list at job
	// creation, but the list is eventually consistent; POSTing too early makes a second copy.
	VisibilityWait time.Duration
}

// DefaultPollConfig returns the defaults explained on each PollConfig field.
func DefaultPollConfig() PollConfig {
	return PollConfig{
		Config:         pollschedule.DefaultConfig(),
		HeartbeatEvery: 10 * time.Second,
		VisibilityWait: 20 * time.Second,
	}
}
