package copyimage

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/imscopy/imscopy/activities"
	"github.com/imscopy/imscopy/imsapi"
)

// A waiting activity heartbeats every PollConfig.HeartbeatEvery, between IMS calls, and one GetJob
// may make two requests (the progress route, then the classic one). That longest silence must fit
// in the heartbeat timeout, or Temporal would time out a healthy activity and start it again.
func TestHeartbeatTimeoutsOutlastTheLongestSilence(t *testing.T) {
	silence := 2*imsapi.DefaultRequestTimeout + activities.DefaultPollConfig().HeartbeatEvery
	assert.Less(t, silence, pollOptions.HeartbeatTimeout, "PollJob")
	assert.Less(t, silence, cleanupOptions.HeartbeatTimeout, "CleanupCopy")
}
