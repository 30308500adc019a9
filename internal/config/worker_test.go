package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zapcore"

	"github.com/imscopy/imscopy/activities/activityapi"
	"github.com/imscopy/imscopy/activities/pollschedule"
	"github.com/imscopy/imscopy/internal/temporalconn"
	"github.com/imscopy/imscopy/internal/testkit"
)

const (
	testAK      = "HPUAXJ3KZ5W0TESTAKEY"
	testSK      = "sEcReTkEy0123456789abcdefghijklmnopqrstu"
	testToken   = "temporary-security-token-value"
	testProject = "0b3f6ab0e2a64c2c9f2c4c6f4c1d7e01"
	eastProject = "5c5e0f6a1b2c4d3e8f9a0b1c2d3e4f50"
	testAPIKey  = "tmprl-test-api-key-never-show-me"
)

// setEnv gives the test an environment with exactly vars among the variables the specs read,
// whatever the machine running the test has set; t.Setenv restores the originals afterwards.
func setEnv(t *testing.T, vars map[string]string) {
	t.Helper()
	var names []string
	for _, spec := range []any{Worker{}, Starter{}} {
		typ := reflect.TypeOf(spec)
		for i := range typ.NumField() {
			if name := typ.Field(i).Tag.Get("envconfig"); name != "" {
				names = append(names, name)
			}
		}
	}
	for _, v := range temporalconn.Variables {
		if temporalconn.Reads(v.Name) && !strings.HasPrefix(v.Name, temporalconn.GRPCMetaPrefix) {
			names = append(names, v.Name)
		}
	}
	testkit.Environ(t, names, vars)
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
	assert.Equal(t, HostPort("127.0.0.1:8233"), w.DevUIAddress, "the Web UI where `temporal server start-dev` serves it")
	assert.Equal(t, "cn-north-4", w.Region)
	assert.Equal(t, zapcore.InfoLevel, w.LogLevel.Zap())
	assert.Equal(t, 30*time.Second, w.WorkerStopTimeout)
	assert.Equal(t, activityapi.DefaultPollConfig(), w.Poll())
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
		"DEV_UI_ADDRESS":                 "[::1]:8300",
		"IMS_REGION":                     "cn-east-3",
		"IMS_ENDPOINTS":                  "cn-east-3=http://127.0.0.1:8080, cn-north-4=https://ims.example.test",
		"IMS_PROJECTS":                   "cn-north-4=" + eastProject,
		"HUAWEICLOUD_SDK_SECURITY_TOKEN": testToken,
		"LOG_LEVEL":                      "DEBUG",
		"POLL_INITIAL":                   "500ms",
		"POLL_MIN":                       "250ms",
		"POLL_MAX":                       "5s",
		"POLL_LAG":                       "3s",
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
	assert.Equal(t, HostPort("[::1]:8300"), w.DevUIAddress)
	assert.Equal(t, "cn-east-3", w.Region)
	assert.Equal(t, Endpoints{"cn-east-3": "http://127.0.0.1:8080", "cn-north-4": "https://ims.example.test"}, w.Endpoints)
	assert.Equal(t, Projects{"cn-north-4": eastProject}, w.Projects)
	assert.Equal(t, testToken, w.SecurityToken.Reveal())
	assert.Equal(t, zapcore.DebugLevel, w.LogLevel.Zap())
	assert.Equal(t, activityapi.PollConfig{
		Config: pollschedule.Config{
			Initial: 500 * time.Millisecond, Min: 250 * time.Millisecond, Max: 5 * time.Second, Lag: 3 * time.Second, Jitter: 0,
		},
		HeartbeatEvery: 2 * time.Second, VisibilityWait: 3 * time.Second,
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

// DEV_UI_ADDRESS set to nothing turns the Web UI off, rather than falling back to its default.
func TestLoadWorkerEmptyUIAddressServesNoUI(t *testing.T) {
	setEnv(t, credentials(map[string]string{"DEV_UI_ADDRESS": ""}))

	w, err := LoadWorker()
	require.NoError(t, err)
	assert.True(t, w.DevMode())
	assert.Empty(t, w.DevUIAddress)
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
		{name: "lag above max", env: map[string]string{"POLL_LAG": "1m", "POLL_MAX": "30s"}, varName: "POLL_LAG", says: []string{"more than POLL_MAX"}},
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
		{name: "UI not loopback", env: map[string]string{"DEV_UI_ADDRESS": "0.0.0.0:8233"}, varName: "DEV_UI_ADDRESS", says: []string{"not a loopback IP", "no authentication"}},
		{name: "UI port", env: map[string]string{"DEV_UI_ADDRESS": "127.0.0.1:ui"}, varName: "DEV_UI_ADDRESS", says: []string{"not a number", "or empty for no UI"}},
		{name: "UI on the server's address", env: map[string]string{"DEV_UI_ADDRESS": "127.0.0.1:7233"}, varName: "DEV_UI_ADDRESS", says: []string{"DEV_SERVER_ADDRESS"}},
		{name: "data dir empty", env: map[string]string{"DATA_DIR": ""}, varName: "DATA_DIR", says: []string{"is empty in dev mode"}},
		{name: "namespace empty", env: map[string]string{"TEMPORAL_NAMESPACE": ""}, varName: "TEMPORAL_NAMESPACE", says: []string{"is empty"}},
		{name: "metrics address", env: map[string]string{"METRICS_ADDR": ":9090"}, varName: "METRICS_ADDR", says: []string{"host is missing", "0.0.0.0:9090"}},
		{name: "activity slots", env: map[string]string{"WORKER_ACTIVITY_SLOTS": "0"}, varName: "WORKER_ACTIVITY_SLOTS", says: []string{"less than 1"}},
		{name: "workflow slots", env: map[string]string{"WORKER_WORKFLOW_SLOTS": "1"}, varName: "WORKER_WORKFLOW_SLOTS", says: []string{"less than 2"}},
		{name: "workflow pollers", env: map[string]string{"WORKER_WORKFLOW_POLLERS": "1"}, varName: "WORKER_WORKFLOW_POLLERS", says: []string{"less than 2"}},
		{name: "activity pollers", env: map[string]string{"WORKER_ACTIVITY_POLLERS": "many"}, varName: "WORKER_ACTIVITY_POLLERS", says: []string{`"many"`}},
		{name: "heartbeat throttle", env: map[string]string{"WORKER_HEARTBEAT_THROTTLE_MAX": "0s"}, varName: "WORKER_HEARTBEAT_THROTTLE_MAX", says: []string{"not a positive duration"}},
		{name: "heartbeat default", env: map[string]string{"WORKER_HEARTBEAT_THROTTLE_DEFAULT": "soon"}, varName: "WORKER_HEARTBEAT_THROTTLE_DEFAULT", says: []string{`"soon"`}},
		{name: "TLS setting malformed", env: map[string]string{"TEMPORAL_ADDRESS": "10.0.0.5:7233", "TEMPORAL_TLS": "on"}, varName: "TEMPORAL_TLS", says: []string{"true or false"}},
		{name: "certificate file missing", env: map[string]string{"TEMPORAL_ADDRESS": "10.0.0.5:7233", "TEMPORAL_TLS_SERVER_CA_CERT_PATH": "/nonexistent/ca.pem"},
			varName: "TEMPORAL_TLS_SERVER_CA_CERT_PATH", says: []string{"/nonexistent/ca.pem", "cannot be read"}},
		{name: "TLS in dev mode", env: map[string]string{"TEMPORAL_API_KEY": testToken}, varName: "TEMPORAL_ADDRESS", says: []string{"dev mode", "API key"}},
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
	setEnv(t, credentials(map[string]string{"TEMPORAL_ADDRESS": "10.0.0.5:7233", "DATA_DIR": "", "DEV_SERVER_ADDRESS": "0.0.0.0:7233",
		"DEV_UI_ADDRESS": "0.0.0.0:8233"}))

	_, err := LoadWorker()
	assert.NoError(t, err)
}

func TestWorkerNeverShowsSecrets(t *testing.T) {
	setEnv(t, credentials(map[string]string{"HUAWEICLOUD_SDK_SECURITY_TOKEN": testToken,
		"TEMPORAL_ADDRESS": "ns.acct.tmprl.cloud:7233", "TEMPORAL_API_KEY": testAPIKey}))
	w, err := LoadWorker()
	require.NoError(t, err)

	js, err := json.Marshal(w)
	require.NoError(t, err)
	for _, shown := range []string{fmt.Sprintf("%v", w), fmt.Sprintf("%+v", w), fmt.Sprintf("%#v", w), string(js)} {
		assert.NotContains(t, shown, testAK)
		assert.NotContains(t, shown, testSK)
		assert.NotContains(t, shown, testToken)
		assert.NotContains(t, shown, testAPIKey)
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

func TestWorkerTuningDefaultsAndOptions(t *testing.T) {
	setEnv(t, credentials(nil))
	w, err := LoadWorker()
	require.NoError(t, err)
	o := w.WorkerOptions()
	assert.Equal(t, 200, o.MaxConcurrentActivityExecutionSize)
	assert.Equal(t, 100, o.MaxConcurrentWorkflowTaskExecutionSize)
	assert.Equal(t, 2, o.MaxConcurrentActivityTaskPollers)
	assert.Equal(t, 2, o.MaxConcurrentWorkflowTaskPollers)
	assert.Equal(t, 10*time.Second, o.MaxHeartbeatThrottleInterval)
	assert.Equal(t, time.Second, o.DefaultHeartbeatThrottleInterval)
	assert.Equal(t, 30*time.Second, o.WorkerStopTimeout)
	assert.Empty(t, w.MetricsAddr, "no metrics unless asked")

	setEnv(t, credentials(map[string]string{
		"WORKER_ACTIVITY_SLOTS": "50", "WORKER_WORKFLOW_SLOTS": "8", "WORKER_ACTIVITY_POLLERS": "4", "WORKER_WORKFLOW_POLLERS": "3",
		"WORKER_HEARTBEAT_THROTTLE_MAX": "5s", "WORKER_HEARTBEAT_THROTTLE_DEFAULT": "500ms", "METRICS_ADDR": "0.0.0.0:9090",
	}))
	w, err = LoadWorker()
	require.NoError(t, err)
	o = w.WorkerOptions()
	assert.Equal(t, 50, o.MaxConcurrentActivityExecutionSize)
	assert.Equal(t, 8, o.MaxConcurrentWorkflowTaskExecutionSize)
	assert.Equal(t, 4, o.MaxConcurrentActivityTaskPollers)
	assert.Equal(t, 3, o.MaxConcurrentWorkflowTaskPollers)
	assert.Equal(t, 5*time.Second, o.MaxHeartbeatThrottleInterval)
	assert.Equal(t, 500*time.Millisecond, o.DefaultHeartbeatThrottleInterval)
	assert.Equal(t, HostPort("0.0.0.0:9090"), w.MetricsAddr)
}

// The Temporal CLI's profile file supplies the address and namespace when the environment does
// not; the environment wins when it does, and an empty TEMPORAL_ADDRESS still means dev mode.
func TestWorkerTakesTheTemporalProfile(t *testing.T) {
	profile := filepath.Join(t.TempDir(), "temporal.toml")
	require.NoError(t, os.WriteFile(profile, []byte("[profile.prod]\naddress = \"temporal.prod:7233\"\nnamespace = \"images\"\napi_key = \""+testToken+"\"\n"), 0o600))

	setEnv(t, credentials(map[string]string{"TEMPORAL_CONFIG_FILE": profile, "TEMPORAL_PROFILE": "prod"}))
	w, err := LoadWorker()
	require.NoError(t, err)
	assert.False(t, w.DevMode())
	assert.Equal(t, HostPort("temporal.prod:7233"), w.TemporalAddress)
	assert.Equal(t, "images", w.Namespace)
	assert.True(t, w.Temporal.Secure())
	assert.Contains(t, w.Secrets(), testToken, "the API key is redacted from logs")

	setEnv(t, credentials(map[string]string{"TEMPORAL_CONFIG_FILE": profile, "TEMPORAL_PROFILE": "prod", "TEMPORAL_NAMESPACE": "other"}))
	w, err = LoadWorker()
	require.NoError(t, err)
	assert.Equal(t, "other", w.Namespace)

	s, err := LoadStarter()
	require.NoError(t, err)
	assert.Equal(t, "temporal.prod:7233", s.Address())
	assert.Equal(t, "other", s.Namespace)
	assert.True(t, s.Temporal.Secure())
}

func TestUsageListsTheTemporalConnectionVariables(t *testing.T) {
	var out strings.Builder
	require.NoError(t, WorkerUsage(&out))
	for _, want := range []string{"TEMPORAL_API_KEY (default: unset)", "TEMPORAL_TLS_CLIENT_CERT_PATH", "TEMPORAL_PROFILE",
		"METRICS_ADDR (default: unset)", "DEV_UI_ADDRESS (default: 127.0.0.1:8233)", "WORKER_ACTIVITY_SLOTS (default: 200)", "WORKER_HEARTBEAT_THROTTLE_MAX (default: 10s)"} {
		assert.Contains(t, out.String(), want)
	}
	assert.NotContains(t, out.String(), "(default: unset)\n      \n", "every variable has a meaning")
}

// One run names every bad variable, those that do not parse and those that break a rule alike,
// and a variable read twice (TEMPORAL_ADDRESS) once.
func TestLoadWorkerReportsEveryBadVariableAtOnce(t *testing.T) {
	setEnv(t, credentials(map[string]string{
		"POLL_MAX": "abc", "CROSS_REGION_COPIES": "x", "IMS_REGION": "CN North", "TEMPORAL_ADDRESS": "no-port",
	}))
	_, err := LoadWorker()
	require.Error(t, err)
	for _, name := range []string{"POLL_MAX", "CROSS_REGION_COPIES", "IMS_REGION", "TEMPORAL_ADDRESS"} {
		assert.Contains(t, err.Error(), name+" is ")
	}
	assert.Equal(t, 1, strings.Count(err.Error(), "TEMPORAL_ADDRESS is"), err.Error())
	assert.Equal(t, 4, strings.Count(err.Error(), "\n")+1, "one line each: %s", err)
}

// A file where dev mode's data folder should be is a mistake in the environment: reported with
// the other variables (the worker exits 2 with plain text), not when the server fails to start.
func TestLoadWorkerRefusesADataDirThatIsAFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "data")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	for _, dir := range []string{file, filepath.Join(file, "below")} {
		setEnv(t, credentials(map[string]string{"TEMPORAL_ADDRESS": "", "DATA_DIR": dir}))
		_, err := LoadWorker()
		require.Error(t, err, dir)
		assert.Contains(t, err.Error(), "DATA_DIR is "+strconv.Quote(dir), dir)
	}
	setEnv(t, credentials(map[string]string{"TEMPORAL_ADDRESS": "", "DATA_DIR": filepath.Join(t.TempDir(), "new")}))
	_, err := LoadWorker()
	assert.NoError(t, err, "a folder not made yet is made at start")
}
