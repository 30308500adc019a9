package config

import (
	"strings"
	"testing"

	"github.com/imscopy/imscopy/activities/activityapi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoadStarterDefaults(t *testing.T) {
	setEnv(t, nil)

	s, err := LoadStarter()
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:7233", s.Address())
	assert.Equal(t, "default", s.Namespace)
	assert.Equal(t, "imscopy", s.TaskQueue)
	assert.Equal(t, "cn-north-4", s.Region)
}

func TestStarterAddressPrecedence(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"temporal address wins", map[string]string{"TEMPORAL_ADDRESS": "10.0.0.5:7233", "DEV_SERVER_ADDRESS": "127.0.0.1:7300"}, "10.0.0.5:7233"},
		{"dev-mode worker's address when TEMPORAL_ADDRESS is empty", map[string]string{"TEMPORAL_ADDRESS": "", "DEV_SERVER_ADDRESS": "127.0.0.1:7300"}, "127.0.0.1:7300"},
		{"default", map[string]string{"TEMPORAL_ADDRESS": ""}, DefaultTemporalAddress},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			setEnv(t, tc.env)
			s, err := LoadStarter()
			require.NoError(t, err)
			assert.Equal(t, tc.want, s.Address())
		})
	}
}

func TestLoadStarterRefusesBadVariables(t *testing.T) {
	setEnv(t, map[string]string{"TEMPORAL_ADDRESS": "no-port", "IMS_REGION": "CN North"})
	_, err := LoadStarter()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "TEMPORAL_ADDRESS")

	setEnv(t, map[string]string{"IMS_REGION": "CN North", "TEMPORAL_TASK_QUEUE": ""})
	_, err = LoadStarter()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "IMS_REGION")
	assert.Contains(t, err.Error(), "TEMPORAL_TASK_QUEUE")
}

func TestUsageListsEveryVariableWithItsDefault(t *testing.T) {
	var out strings.Builder
	require.NoError(t, WorkerUsage(&out))
	for _, want := range []string{
		"TEMPORAL_ADDRESS (default: unset)",
		"TEMPORAL_NAMESPACE (default: default)",
		"POLL_MAX (default: " + activityapi.DefaultPollConfig().Max.String() + ")", // not a tag: the activities own it
		"WORKER_STOP_TIMEOUT (default: 30s)",
		"HUAWEICLOUD_SDK_SK (default: unset)",
	} {
		assert.Contains(t, out.String(), want)
	}

	out.Reset()
	require.NoError(t, StarterUsage(&out))
	// Unset, the starter dials the dev-mode worker's address; the help must not say "unset".
	assert.Contains(t, out.String(), "TEMPORAL_ADDRESS (default: DEV_SERVER_ADDRESS, else "+DefaultTemporalAddress+")")
	assert.Contains(t, out.String(), "IMS_REGION (default: cn-north-4)")
}
