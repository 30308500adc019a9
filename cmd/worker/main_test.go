package main

import (
	"bytes"
	"context"
	"maps"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/imscopy/imscopy/imsapi/imsemu"
	"github.com/imscopy/imscopy/internal/config"
	"github.com/imscopy/imscopy/internal/logging"
	"github.com/imscopy/imscopy/internal/testkit"
	"github.com/imscopy/imscopy/internal/testkit/emutest"
	"github.com/imscopy/imscopy/workflows"
	"github.com/imscopy/imscopy/workflows/copyimage"
)

// workerEnv gives the test exactly vars among the worker's variables.
func workerEnv(t *testing.T, vars map[string]string) {
	t.Helper()
	var usage strings.Builder
	require.NoError(t, config.WorkerUsage(&usage))
	var names []string
	for _, line := range strings.Split(usage.String(), "\n") {
		if name, _, ok := strings.Cut(strings.TrimSpace(line), " (default:"); ok {
			names = append(names, name)
		}
	}
	testkit.Environ(t, names, vars)
}

func TestMissingVariablesStopTheWorkerAtStart(t *testing.T) {
	workerEnv(t, map[string]string{"POLL_MAX": "soon"})
	var out bytes.Buffer

	code := start(context.Background(), nil, &out)

	assert.Equal(t, exitConfig, code)
	assert.Contains(t, out.String(), `POLL_MAX is "soon"`)
	assert.Contains(t, out.String(), "`worker -h` lists every variable")
}

func TestHelpListsTheVariables(t *testing.T) {
	var out bytes.Buffer
	assert.Equal(t, exitOK, start(context.Background(), []string{"-h"}, &out))
	for _, name := range []string{"TEMPORAL_ADDRESS", "DATA_DIR", "HUAWEICLOUD_SDK_SK", "POLL_HEARTBEAT", "WORKER_STOP_TIMEOUT"} {
		assert.Contains(t, out.String(), name)
	}
	assert.Equal(t, exitConfig, start(context.Background(), []string{"stray"}, &out))
}

// The worker in dev mode against the emulator: it gets ready, runs a copy, keeps the credentials
// out of its log even at debug level, and stops cleanly when its context ends (as on SIGTERM).
func TestDevModeWorkerRunsACopyAndStops(t *testing.T) {
	emu := emutest.Start(t, imsemu.Config{JobDuration: time.Second})
	devAddr := testkit.FreeAddr(t)
	w := startDevWorker(t, emu, devAddr, map[string]string{"LOG_LEVEL": "debug"})

	c, err := client.Dial(client.Options{HostPort: devAddr, Logger: logging.NewTemporalLogger(logging.New(logging.Options{Output: os.Stderr}))})
	require.NoError(t, err)
	defer c.Close()
	in := copyimage.Input{Region: "cn-north-4", SourceImageID: imsemu.SeedImageID, Name: "worker-test-copy",
		CMKID: imsemu.SeedKMSKeyID}
	run, err := c.ExecuteWorkflow(context.Background(),
		client.StartWorkflowOptions{ID: copyimage.WorkflowID(in), TaskQueue: workflows.TaskQueue}, copyimage.CopyImage, in)
	require.NoError(t, err)
	var res copyimage.Result
	require.NoError(t, run.Get(context.Background(), &res))
	assert.NotEmpty(t, res.ImageID)

	w.stop()
	select {
	case code := <-w.exited:
		assert.Equal(t, exitOK, code)
	case <-time.After(time.Minute):
		t.Fatal("the worker did not stop")
	}
	log := w.out.String()
	assert.Contains(t, log, "worker stopped")
	assert.Contains(t, log, "embedded Temporal server stopped")
	assert.Contains(t, log, "POST /v1/cloudimages/"+imsemu.SeedImageID+"/copy", "IMS calls are logged at debug")
	assert.NotContains(t, log, imsemu.DefaultSK)
	assert.NotContains(t, log, imsemu.DefaultAK)
}

// devWorker is the worker's start function running in dev mode against an emulator.
type devWorker struct {
	stop   context.CancelFunc // what SIGTERM does
	exited chan int           // start's exit code
	out    *testkit.Buffer    // its log
}

// startDevWorker runs the worker in dev mode on devAddr with short poll intervals, with extra
// variables over the common ones, and waits until it polls.
func startDevWorker(t *testing.T, emu *imsemu.Server, devAddr string, extra map[string]string) devWorker {
	t.Helper()
	vars := emutest.WorkerVars(emu, imsemu.DefaultAK, imsemu.DefaultSK)
	maps.Copy(vars, map[string]string{
		"DATA_DIR":            t.TempDir(),
		"DEV_SERVER_ADDRESS":  devAddr,
		"POLL_INITIAL":        "200ms",
		"POLL_MIN":            "100ms",
		"POLL_MAX":            "500ms",
		"POLL_LAG":            "200ms",
		"POLL_HEARTBEAT":      "1s",
		"VISIBILITY_WAIT":     "1s",
		"WORKER_STOP_TIMEOUT": "5s",
		// No Web UI unless a test asks: its default port would be shared by every test worker.
		"DEV_UI_ADDRESS": "",
	})
	for k, v := range extra {
		vars[k] = v
	}
	workerEnv(t, vars)
	ctx, stop := context.WithCancel(context.Background())
	t.Cleanup(stop)
	w := devWorker{stop: stop, exited: make(chan int, 1), out: &testkit.Buffer{}}
	go func() { w.exited <- start(ctx, nil, w.out) }()
	require.Eventually(t, func() bool { return strings.Contains(w.out.String(), "worker ready") }, time.Minute, 50*time.Millisecond,
		"the worker never got ready:\n%s", w.out.String())
	return w
}
