package activities

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imscopy/imscopy/activities/pollschedule"
)

func TestZeroPollConfigGetsDefaults(t *testing.T) {
	a := &Activities{}
	assert.Equal(t, DefaultPollConfig(), a.pollConfig())
	a.Poll = PollConfig{Config: pollschedule.Config{Min: 50 * time.Millisecond, Max: 10 * time.Millisecond}}
	p := a.pollConfig()
	require.Equal(t, 50*time.Millisecond, p.Min)
	assert.Equal(t, p.Min, p.Max, "Max below Min is raised to Min")
	assert.Equal(t, DefaultPollConfig().HeartbeatEvery, p.HeartbeatEvery)
	assert.Zero(t, p.Jitter, "Jitter 0 is a choice, not unset")
}
