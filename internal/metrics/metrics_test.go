package metrics

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"

	"github.com/imscopy/imscopy/activities"
	"github.com/imscopy/imscopy/imsapi"
	"github.com/imscopy/imscopy/workflows"
	"github.com/imscopy/imscopy/workflows/copyimage"
)

const (
	sourceID = "465076de-dc36-4aec-80f5-ef9d8009428f"
	jobID    = "edc89b490d7d4392898e19b2deb34797"
	imageID  = "498cc67e-0f9b-4b4e-8f53-2a6f1c0e7d11"
)

var acts *activities.Activities

func newMetrics(t *testing.T) *Metrics {
	t.Helper()
	m, err := New(func(err error) { t.Errorf("OpenTelemetry pipeline: %v", err) })
	require.NoError(t, err)
	return m
}

// copyEnv is the real CopyImage workflow with the metrics interceptor, its activities mocked.
func copyEnv(m *Metrics) *testsuite.TestWorkflowEnvironment {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{m.Interceptor()}})
	workflows.Register(env, &activities.Activities{})
	env.OnActivity(acts.SubmitCopy, mock.Anything, mock.Anything).Return(activities.SubmitCopyResult{JobID: jobID}, nil)
	return env
}

func input() copyimage.Input {
	return copyimage.Input{Region: "cn-north-4", SourceImageID: sourceID, Name: "metrics-copy"}
}

func TestCopyOutcomesAreCounted(t *testing.T) {
	m := newMetrics(t)

	ok := copyEnv(m)
	ok.OnActivity(acts.PollJob, mock.Anything, mock.Anything).After(3*time.Minute).
		Return(activities.PollJobResult{ImageID: imageID, Status: "SUCCESS"}, nil)
	ok.OnActivity(acts.VerifyImage, mock.Anything, mock.Anything).Return(nil)
	ok.ExecuteWorkflow(copyimage.CopyImage, input())
	require.NoError(t, ok.GetWorkflowError())

	failed := copyEnv(m)
	failed.OnActivity(acts.PollJob, mock.Anything, mock.Anything).Return(activities.PollJobResult{},
		temporal.NewNonRetryableApplicationError("IMS copy job failed", activities.ErrCopyFailed, nil,
			activities.CopyFailure{JobID: jobID, ImageID: imageID, ErrorCode: "IMG.0099"}))
	failed.OnActivity(acts.CleanupCopy, mock.Anything, mock.Anything).Return(nil)
	failed.ExecuteWorkflow(copyimage.CopyImage, input())
	require.Error(t, failed.GetWorkflowError())

	invalid := copyEnv(m)
	bad := input()
	bad.Name = "bad/name"
	invalid.ExecuteWorkflow(copyimage.CopyImage, bad)
	require.Error(t, invalid.GetWorkflowError())

	assert.Equal(t, 3.0, testutil.ToFloat64(m.copiesStarted))
	assert.Equal(t, 1.0, testutil.ToFloat64(m.copiesSucceeded))
	assert.Equal(t, 1.0, testutil.ToFloat64(m.copiesFailed.WithLabelValues(activities.ErrCopyFailed)))
	assert.Equal(t, 1.0, testutil.ToFloat64(m.copiesFailed.WithLabelValues(activities.ErrInvalidInput)))
	assert.Equal(t, 2, testutil.CollectAndCount(m.copyDuration), "one series per outcome")
}

func TestCancelledCopyCountsAsCanceled(t *testing.T) {
	m := newMetrics(t)
	env := copyEnv(m)
	env.OnActivity(acts.PollJob, mock.Anything, mock.Anything).After(time.Hour).
		Return(activities.PollJobResult{ImageID: imageID, Status: "SUCCESS"}, nil)
	env.OnActivity(acts.CleanupCopy, mock.Anything, mock.Anything).Return(nil)
	env.RegisterDelayedCallback(env.CancelWorkflow, time.Minute)
	env.ExecuteWorkflow(copyimage.CopyImage, input())
	require.True(t, temporal.IsCanceledError(env.GetWorkflowError()))
	assert.Equal(t, 1.0, testutil.ToFloat64(m.copiesFailed.WithLabelValues("Canceled")))
	assert.Equal(t, 0.0, testutil.ToFloat64(m.copiesSucceeded))
}

func TestFailureReason(t *testing.T) {
	cases := map[string]error{
		"Canceled":     temporal.NewCanceledError(),
		"IMSQuota":     temporal.NewApplicationError("quota", activities.ErrIMSQuota),
		"Timeout":      temporal.NewTimeoutError(0, nil),
		"Internal":     io.EOF,
		"VerifyFailed": temporal.NewNonRetryableApplicationError("x", activities.ErrVerifyFailed, nil),
	}
	for want, err := range cases {
		assert.Equal(t, want, FailureReason(err))
	}
}

func TestJobTimes(t *testing.T) {
	m := newMetrics(t)
	end := time.Date(2026, 11, 26, 6, 16, 38, 446e6, time.UTC)
	m.observeJob(activities.PollJobResult{BeginTime: "2026-11-26T06:14:27.168Z", EndTime: "2026-11-26T06:16:38.446Z"}, end.Add(1500*time.Millisecond))
	// The documentation's older format, and an adopted image (no job, no times).
	m.observeJob(activities.PollJobResult{BeginTime: "04-Jun-2015 18:11:06:586", EndTime: "04-Jun-2015 18:12:06:586"},
		time.Date(2015, 6, 4, 18, 12, 7, 586e6, time.UTC))
	m.observeJob(activities.PollJobResult{Status: "active"}, end)

	lag := histogram(t, m, "imscopy_poll_lag_seconds")
	assert.Equal(t, uint64(2), lag.GetSampleCount())
	assert.InDelta(t, 2.5, lag.GetSampleSum(), 1e-9)
	job := histogram(t, m, "imscopy_ims_job_duration_seconds")
	assert.Equal(t, uint64(2), job.GetSampleCount())
	assert.InDelta(t, 131.278+60, job.GetSampleSum(), 1e-9)
}

func TestIMSCallsByOperationAndClass(t *testing.T) {
	m := newMetrics(t)
	m.ObserveIMSCall("GetJob", "", 20*time.Millisecond)
	m.ObserveIMSCall("GetJob", "", 30*time.Millisecond)
	m.ObserveIMSCall("CopyInRegion", imsapi.ClassThrottled, time.Second)
	assert.Equal(t, 2.0, testutil.ToFloat64(m.imsCalls.WithLabelValues("GetJob", "ok")))
	assert.Equal(t, 1.0, testutil.ToFloat64(m.imsCalls.WithLabelValues("CopyInRegion", "throttled")))
}

// The endpoint serves imscopy's metrics and the Temporal SDK's side by side, and /healthz follows
// SetReady.
func TestServerServesBothFamiliesAndHealth(t *testing.T) {
	m := newMetrics(t)
	m.Temporal().WithTags(map[string]string{"task_queue": "imscopy"}).Counter("temporal_poller_start").Inc(1)
	m.Temporal().Timer("temporal_activity_execution_latency").Record(250 * time.Millisecond)
	m.ObserveIMSCall("GetJob", "", time.Millisecond)

	srv, err := m.Listen("127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close(context.Background()) })
	base := "http://" + srv.Addr()

	assert.Equal(t, http.StatusServiceUnavailable, status(t, base+"/healthz"))
	srv.SetReady(true)
	assert.Equal(t, http.StatusOK, status(t, base+"/healthz"))

	body := get(t, base+"/metrics")
	for _, want := range []string{
		`temporal_poller_start_total{task_queue="imscopy"} 1`,
		`temporal_activity_execution_latency_seconds_bucket{le="0.25"} 1`,
		`imscopy_ims_calls_total{class="ok",op="GetJob"} 1`,
		"imscopy_copies_started_total 0",
		"go_goroutines",
	} {
		assert.Contains(t, body, want)
	}
}

func TestListenOnABusyAddressSaysWhatToDo(t *testing.T) {
	m := newMetrics(t)
	first, err := m.Listen("127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = first.Close(context.Background()) })
	_, err = m.Listen(first.Addr())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "METRICS_ADDR")
}

func status(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

// A workflow replayed from its history (its worker died, or it left the cache) is not counted
// again: replaying the recorded histories of a success, a failure and a cancel counts nothing.
func TestReplayCountsNothing(t *testing.T) {
	m := newMetrics(t)
	for _, name := range []string{"success", "job-failure-compensated", "cancelled-while-polling"} {
		r, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{
			Interceptors: []interceptor.WorkerInterceptor{m.Interceptor()},
		})
		require.NoError(t, err)
		r.RegisterWorkflow(copyimage.CopyImage)
		require.NoError(t, r.ReplayWorkflowHistoryFromJSONFile(nil, "../../workflows/copyimage/testdata/histories/"+name+".json"), name)
	}
	assert.Equal(t, 0.0, testutil.ToFloat64(m.copiesStarted))
	assert.Equal(t, 0.0, testutil.ToFloat64(m.copiesSucceeded))
	assert.Equal(t, 0, testutil.CollectAndCount(m.copiesFailed))
}
