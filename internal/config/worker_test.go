package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zapcore"

	"github.com/imscopy/imscopy/activities"
)

const (
	testAK      = "HPUAXJ3KZ5W0TESTAKEY"
	testSK      = "sEcReTkEy0123456789abcdefghijklmnopqrstu"
	testToken   = "temporary-security-token-value"
	testProject = "0b3f6ab0e2a64c2c9f2c4c6f4c1d7e01"
	eastProject = "5c5e0f6a1b2c4d3e8f9a0b1c2d3e4f50"
)

// setEnv gives the test an environment with exactly vars among the variables the specs read,
// whatever the machine running the test has set; t.Setenv restores the originals afterwards.
func setEnv(t *testing.T, vars map[string]string) {
	t.Helper()
	for _, spec := range []any{Worker{}, Starter{}} {
		typ := reflect.TypeOf(spec)
		for i := range typ.NumField() {
			name := typ.Field(i).Tag.Get("envconfig")
			t.Setenv(name, "")
			require.NoError(t, os.Unsetenv(name))
		}
	}
	for k, v := range vars {
		t.Setenv(k, v)
	}
}

// credentials is the smallest environment a worker starts with.
func credentials(extra map[string]string) map[string]string {
	vars := map[string]string{
		"HUAWEICLOUD_SDK_AK":         testAK,
		"HUAWEICLOUD_SDK_SK":         testSK,
		"HUAWEICLOUD_SDK_PROJECT_ID": testProject,
	}
	for k, v := range extra {
		vars[k] = v
	}
	return vars
}

func TestLoadWorkerDefaults(t *testing.T) {
	setEnv(t, credentials(nil))

	w, err := LoadWorker()
	require.NoError(t, err)

	assert.True(t, w.DevMode())
	assert.Equal(t, "default", w.Namespace)
	assert.Equal(t, "imscopy", w.TaskQueue)
	assert.Equal(t, ".imscopy", w.DataDir)
	assert.Equal(t, HostPort("127.0.0.1:7233"), w.DevServerAddress)
	assert.Equal(t, "cn-north-4", w.Region)
	assert.Equal(t, zapcore.InfoLevel, w.LogLevel.Zap())
	assert.Equal(t, 30*time.Second, w.WorkerStopTimeout)
	assert.Equal(t, activities.DefaultPollConfig(), w.Poll())
	assert.Empty(t, w.Endpoints)
	assert.Empty(t, w.Projects)
	assert.Equal(t, testAK, w.AK.Reveal())
	assert.Equal(t, testSK, w.SK.Reveal())
	assert.Empty(t, w.SecurityToken.Reveal())
}

func TestLoadWorkerReadsEveryVariable(t *testing.T) {
	setEnv(t, credentials(map[string]string{
		"TEMPORAL_ADDRESS":               "temporal.internal:7233",
		"TEMPORAL_NAMESPACE":             "images",
		"TEMPORAL_TASK_QUEUE":            "imscopy-prod",
		"DATA_DIR":                       "/var/lib/imscopy",
		"DEV_SERVER_ADDRESS":             "127.0.0.1:7300",
		"IMS_REGION":                     "cn-east-3",
		"IMS_ENDPOINTS":                  "cn-east-3=http://127.0.0.1:8080, cn-north-4=https://ims.example.test",
		"IMS_PROJECTS":                   "cn-north-4=" + eastProject,
		"HUAWEICLOUD_SDK_SECURITY_TOKEN": testToken,
		"LOG_LEVEL":                      "DEBUG",
		"POLL_INITIAL":                   "500ms",
		"POLL_MIN":                       "250ms",
		"POLL_MAX":                       "5s",
		"POLL_JITTER":                    "0",
		"POLL_HEARTBEAT":                 "2s",
		"VISIBILITY_WAIT":                "3s",
		"WORKER_STOP_TIMEOUT":            "45s",
	}))

	w, err := LoadWorker()
	require.NoError(t, err)

	assert.False(t, w.DevMode())
	assert.Equal(t, HostPort("temporal.internal:7233"), w.TemporalAddress)
	assert.Equal(t, "images", w.Namespace)
	assert.Equal(t, "imscopy-prod", w.TaskQueue)
	assert.Equal(t, "/var/lib/imscopy", w.DataDir)
	assert.Equal(t, HostPort("127.0.0.1:7300"), w.DevServerAddress)
	assert.Equal(t, "cn-east-3", w.Region)
	assert.Equal(t, Endpoints{"cn-east-3": "http://127.0.0.1:8080", "cn-north-4": "https://ims.example.test"}, w.Endpoints)
	assert.Equal(t, Projects{"cn-north-4": eastProject}, w.Projects)
	assert.Equal(t, testToken, w.SecurityToken.Reveal())
	assert.Equal(t, zapcore.DebugLevel, w.LogLevel.Zap())
	assert.Equal(t, activities.PollConfig{
		Initial: 500 * time.Millisecond, Min: 250 * time.Millisecond, Max: 5 * time.Second,
		Jitter: 0, HeartbeatEvery: 2 * time.Second, VisibilityWait: 3 * time.Second,
	}, w.Poll())
	assert.Equal(t, 45*time.Second, w.WorkerStopTimeout)
	assert.ElementsMatch(t, []string{testAK, testSK, testToken}, w.Secrets())
}

// An env file or a script may set TEMPORAL_ADDRESS to nothing to mean dev mode.
func TestLoadWorkerEmptyTemporalAddressIsDevMode(t *testing.T) {
	setEnv(t, credentials(map[string]string{"TEMPORAL_ADDRESS": ""}))

	w, err := LoadWorker()
	require.NoError(t, err)
	assert.True(t, w.DevMode())
}

func TestLoadWorkerRefusesBadVariables(t *testing.T) {
	cases := []struct {
		name    string
		env     map[string]string
		drop    string   // a credential variable to leave unset
		varName string   // the variable the error must name
		says    []string // fragments the message must contain
	}{
		{name: "missing AK", drop: "HUAWEICLOUD_SDK_AK", varName: "HUAWEICLOUD_SDK_AK", says: []string{"is not set", "access key"}},
		{name: "missing SK", drop: "HUAWEICLOUD_SDK_SK", varName: "HUAWEICLOUD_SDK_SK", says: []string{"is not set", "secret access key"}},
		{name: "missing project", drop: "HUAWEICLOUD_SDK_PROJECT_ID", varName: "HUAWEICLOUD_SDK_PROJECT_ID", says: []string{"is not set", "32 lower-case hex"}},
		{name: "malformed project", env: map[string]string{"HUAWEICLOUD_SDK_PROJECT_ID": "my-project"}, varName: "HUAWEICLOUD_SDK_PROJECT_ID", says: []string{`"my-project"`, "not a project ID"}},
		{name: "duration", env: map[string]string{"POLL_MAX": "abc"}, varName: "POLL_MAX", says: []string{`"abc"`, "a duration such as 30s"}},
		{name: "duration without unit", env: map[string]string{"WORKER_STOP_TIMEOUT": "30"}, varName: "WORKER_STOP_TIMEOUT", says: []string{`"30"`, "such as 30s"}},
		{name: "zero stop timeout", env: map[string]string{"WORKER_STOP_TIMEOUT": "0s"}, varName: "WORKER_STOP_TIMEOUT", says: []string{"not a positive duration"}},
		{name: "zero visibility wait", env: map[string]string{"VISIBILITY_WAIT": "0s"}, varName: "VISIBILITY_WAIT", says: []string{"not a positive duration"}},
		{name: "negative heartbeat", env: map[string]string{"POLL_HEARTBEAT": "-1s"}, varName: "POLL_HEARTBEAT", says: []string{"not a positive duration"}},
		{name: "min above max", env: map[string]string{"POLL_MIN": "1m", "POLL_MAX": "30s"}, varName: "POLL_MIN", says: []string{"more than POLL_MAX"}},
		{name: "jitter too big", env: map[string]string{"POLL_JITTER": "1.5"}, varName: "POLL_JITTER", says: []string{"outside 0 <= jitter < 1"}},
		{name: "jitter not a number", env: map[string]string{"POLL_JITTER": "lots"}, varName: "POLL_JITTER", says: []string{`"lots"`, "a fraction"}},
		{name: "log level", env: map[string]string{"LOG_LEVEL": "verbose"}, varName: "LOG_LEVEL", says: []string{`"verbose"`, "debug, info, warn, error"}},
		{name: "endpoint without region", env: map[string]string{"IMS_ENDPOINTS": "http://127.0.0.1:8080"}, varName: "IMS_ENDPOINTS", says: []string{"region=URL"}},
		{name: "endpoint with path", env: map[string]string{"IMS_ENDPOINTS": "cn-north-4=http://127.0.0.1:8080/v2"}, varName: "IMS_ENDPOINTS", says: []string{"no path"}},
		{name: "projects malformed", env: map[string]string{"IMS_PROJECTS": "cn-east-3=xyz"}, varName: "IMS_PROJECTS", says: []string{"project ID", "region=projectID pairs"}},
		{name: "projects contradict home", env: map[string]string{"IMS_PROJECTS": "cn-north-4=" + eastProject}, varName: "IMS_PROJECTS", says: []string{"home region", "remove that pair"}},
		{name: "region", env: map[string]string{"IMS_REGION": "Mars"}, varName: "IMS_REGION", says: []string{`"Mars"`, "e.g. cn-north-4"}},
		{name: "temporal address", env: map[string]string{"TEMPORAL_ADDRESS": "temporal"}, varName: "TEMPORAL_ADDRESS", says: []string{"want host:port"}},
		{name: "dev server port", env: map[string]string{"DEV_SERVER_ADDRESS": "127.0.0.1:http"}, varName: "DEV_SERVER_ADDRESS", says: []string{"not a number"}},
		{name: "dev server not loopback", env: map[string]string{"DEV_SERVER_ADDRESS": "0.0.0.0:7233"}, varName: "DEV_SERVER_ADDRESS", says: []string{"not a loopback IP", "no authentication"}},
		{name: "dev server empty", env: map[string]string{"DEV_SERVER_ADDRESS": ""}, varName: "DEV_SERVER_ADDRESS", says: []string{"is empty in dev mode"}},
		{name: "data dir empty", env: map[string]string{"DATA_DIR": ""}, varName: "DATA_DIR", says: []string{"is empty in dev mode"}},
		{name: "namespace empty", env: map[string]string{"TEMPORAL_NAMESPACE": ""}, varName: "TEMPORAL_NAMESPACE", says: []string{"is empty"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			vars := credentials(tc.env)
			delete(vars, tc.drop)
			setEnv(t, vars)

			_, err := LoadWorker()
			require.Error(t, err)
			var cfgErr *Error
			require.ErrorAs(t, err, &cfgErr)
			assert.Equal(t, tc.varName, cfgErr.Var)
			assert.Contains(t, err.Error(), tc.varName)
			for _, s := range tc.says {
				assert.Contains(t, err.Error(), s)
			}
		})
	}
}

func TestLoadWorkerReportsEveryProblemAtOnce(t *testing.T) {
	setEnv(t, map[string]string{"POLL_JITTER": "2", "IMS_REGION": "Mars"})

	_, err := LoadWorker()
	require.Error(t, err)
	for _, name := range []string{"HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK", "HUAWEICLOUD_SDK_PROJECT_ID", "POLL_JITTER", "IMS_REGION"} {
		assert.Contains(t, err.Error(), name)
	}
}

// Only the devserver-free settings apply to a worker that dials a Temporal cluster.
func TestLoadWorkerIgnoresDevSettingsWithACluster(t *testing.T) {
	setEnv(t, credentials(map[string]string{"TEMPORAL_ADDRESS": "10.0.0.5:7233", "DATA_DIR": "", "DEV_SERVER_ADDRESS": "0.0.0.0:7233"}))

	_, err := LoadWorker()
	assert.NoError(t, err)
}

func TestWorkerNeverShowsSecrets(t *testing.T) {
	setEnv(t, credentials(map[string]string{"HUAWEICLOUD_SDK_SECURITY_TOKEN": testToken}))
	w, err := LoadWorker()
	require.NoError(t, err)

	js, err := json.Marshal(w)
	require.NoError(t, err)
	for _, shown := range []string{fmt.Sprintf("%v", w), fmt.Sprintf("%+v", w), fmt.Sprintf("%#v", w), string(js)} {
		assert.NotContains(t, shown, testAK)
		assert.NotContains(t, shown, testSK)
		assert.NotContains(t, shown, testToken)
		assert.Contains(t, shown, "[redacted]")
	}
}

func TestErrorMessagesNeverShowSecrets(t *testing.T) {
	// A broken configuration with secrets set: whatever is reported must not contain them.
	setEnv(t, credentials(map[string]string{"HUAWEICLOUD_SDK_SECURITY_TOKEN": testToken, "HUAWEICLOUD_SDK_PROJECT_ID": "bad", "POLL_MAX": "x"}))
	_, err := LoadWorker()
	require.Error(t, err)
	assert.NotContains(t, err.Error(), testSK)
	assert.NotContains(t, err.Error(), testToken)

	var cfgErr *Error
	assert.True(t, errors.As(err, &cfgErr))
}
