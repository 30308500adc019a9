package main

import (
	"context"
	"io"
	"math"
	"net/http"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/imscopy/imscopy/activities"
	"github.com/imscopy/imscopy/imsapi/imsemu"
	"github.com/imscopy/imscopy/internal/testkit"
	"github.com/imscopy/imscopy/internal/testkit/emutest"
	"github.com/imscopy/imscopy/workflows"
	"github.com/imscopy/imscopy/workflows/copyimage"
)

// The worker's metrics endpoint after two real copies on the embedded server and the emulator, one
// that succeeds and one whose IMS job fails: imscopy's counters and histograms say so, the IMS
// calls match what the emulator received, and the Temporal SDK's own metrics are there too.
func TestWorkerServesMetricsAfterRealCopies(t *testing.T) {
	emu := emutest.Start(t, imsemu.Config{JobDuration: time.Second, Seed: 3})
	devAddr, metricsAddr := testkit.FreeAddr(t), testkit.FreeAddr(t)
	w := startDevWorker(t, emu, devAddr, map[string]string{"METRICS_ADDR": metricsAddr})
	assert.Equal(t, http.StatusOK, httpStatus(t, "http://"+metricsAddr+"/healthz"), "a polling worker is healthy")

	c, err := client.Dial(client.Options{HostPort: devAddr, Logger: quietLogger{}})
	require.NoError(t, err)
	defer c.Close()
	copyImage := func(name string) error {
		in := copyimage.Input{Region: "cn-north-4", SourceImageID: imsemu.SeedImageID, Name: name, CMKID: imsemu.SeedKMSKeyID}
		run, err := c.ExecuteWorkflow(context.Background(),
			client.StartWorkflowOptions{ID: copyimage.WorkflowID(in), TaskQueue: workflows.TaskQueue}, copyimage.CopyImage, in)
		require.NoError(t, err)
		return run.Get(context.Background(), nil)
	}
	require.NoError(t, copyImage("metrics-ok"))
	emu.SetFaults(imsemu.Faults{JobFailureRate: 1})
	err = copyImage("metrics-job-fails")
	app := testkit.AppError(t, err)
	require.Equal(t, activities.ErrCopyFailed, app.Type())

	// The SDK counts a workflow's end after it has answered the server, so the client can see the
	// failure a moment before the worker's counter moves: wait for it rather than race it.
	var got families
	require.Eventually(t, func() bool {
		got = scrape(t, "http://"+metricsAddr+"/metrics")
		_, ok := got["temporal_workflow_failed_total"]
		return ok
	}, 30*time.Second, 100*time.Millisecond, "the SDK never counted the failed workflow")
	assert.Equal(t, 2.0, got.value(t, "imscopy_copies_started_total", nil))
	assert.Equal(t, 1.0, got.value(t, "imscopy_copies_succeeded_total", nil))
	assert.Equal(t, 1.0, got.value(t, "imscopy_copies_failed_total", map[string]string{"reason": activities.ErrCopyFailed}))
	posts := 0
	for _, rc := range emu.Counts() {
		if rc.Route == imsemu.RouteCopyInRegion {
			posts += rc.Count
		}
	}
	assert.Equal(t, float64(posts), got.value(t, "imscopy_ims_calls_total", map[string]string{"op": "CopyInRegion", "class": "ok"}),
		"one CopyInRegion per copy, as the emulator counted")
	assert.Positive(t, got.value(t, "imscopy_ims_calls_total", map[string]string{"op": "GetJob", "class": "ok"}))
	// Every IMS call is timed: per operation, the call-duration histogram has one sample for each
	// call counted (of any class), and no series for an operation that was never called.
	calls := map[string]uint64{}
	for _, m := range got["imscopy_ims_calls_total"].GetMetric() {
		calls[label(m, "op")] += uint64(m.GetCounter().GetValue())
	}
	for _, op := range []string{"ListImages", "CopyInRegion", "GetJob", "GetImage", "DeleteImage"} {
		assert.Positive(t, calls[op], "the copies made %s calls (submit, poll, verify, clean-up)", op)
	}
	durations, ok := got["imscopy_ims_call_duration_seconds"]
	require.True(t, ok, "imscopy_ims_call_duration_seconds is served")
	series := durations.GetMetric()
	assert.Len(t, series, len(calls), "one series per operation called: %v", calls)
	for _, m := range series {
		op := label(m, "op")
		assert.Len(t, m.GetLabel(), 1, "the call-duration histogram is labelled by op alone")
		h := m.GetHistogram()
		assert.Equal(t, calls[op], h.GetSampleCount(), "one duration sample per %s call", op)
		assert.Positive(t, h.GetSampleSum(), "%s calls took time", op)
		var largest *dto.Bucket // the largest finite bucket: the text format lists +Inf too
		for _, b := range h.GetBucket() {
			if !math.IsInf(b.GetUpperBound(), 1) {
				largest = b
			}
		}
		require.NotNil(t, largest, "%s: the histogram has buckets", op)
		assert.Equal(t, h.GetSampleCount(), largest.GetCumulativeCount(),
			"every %s call of a fault-free emulator took under the largest bucket (%vs)", op, largest.GetUpperBound())
	}
	assert.Equal(t, uint64(1), got.histogram(t, "imscopy_ims_job_duration_seconds").GetSampleCount(), "the successful job")
	assert.Positive(t, got.histogram(t, "imscopy_ims_job_duration_seconds").GetSampleSum())
	assert.Equal(t, uint64(1), got.histogram(t, "imscopy_poll_lag_seconds").GetSampleCount())
	for _, outcome := range []string{"succeeded", "failed"} {
		assert.Equal(t, uint64(1), got.histogramWith(t, "imscopy_copy_duration_seconds", map[string]string{"outcome": outcome}).GetSampleCount(), outcome)
	}
	for _, family := range []string{"temporal_workflow_completed_total", "temporal_workflow_failed_total",
		"temporal_activity_execution_latency_seconds", "temporal_request_total", "temporal_worker_start_total"} {
		assert.Contains(t, got, family, "the Temporal SDK's metrics are served too")
	}

	w.stop()
	require.Equal(t, exitOK, <-w.exited)
	_, err = http.Get("http://" + metricsAddr + "/metrics")
	assert.Error(t, err, "a stopped worker serves nothing")
}

// families is a scrape, by metric name.
type families map[string]*dto.MetricFamily

func scrape(t *testing.T, url string) families {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var parser expfmt.TextParser
	fams, err := parser.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)
	return fams
}

// metric finds the series of name whose labels include labels.
func (f families) metric(t *testing.T, name string, labels map[string]string) *dto.Metric {
	t.Helper()
	fam, ok := f[name]
	require.True(t, ok, "no metric %s", name)
	for _, m := range fam.GetMetric() {
		matches := 0
		for _, l := range m.GetLabel() {
			if v, ok := labels[l.GetName()]; ok && v == l.GetValue() {
				matches++
			}
		}
		if matches == len(labels) {
			return m
		}
	}
	t.Fatalf("no series of %s with labels %v", name, labels)
	return nil
}

func (f families) value(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	m := f.metric(t, name, labels)
	if m.GetCounter() != nil {
		return m.GetCounter().GetValue()
	}
	return m.GetGauge().GetValue()
}

func (f families) histogram(t *testing.T, name string) *dto.Histogram {
	return f.histogramWith(t, name, nil)
}

func (f families) histogramWith(t *testing.T, name string, labels map[string]string) *dto.Histogram {
	t.Helper()
	return f.metric(t, name, labels).GetHistogram()
}

func httpStatus(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// quietLogger keeps the test's own client from logging.
type quietLogger struct{}

func (quietLogger) Debug(string, ...interface{}) {}
func (quietLogger) Info(string, ...interface{})  {}
func (quietLogger) Warn(string, ...interface{})  {}
func (quietLogger) Error(string, ...interface{}) {}

// label is the value of a series' label, "" when it has none of that name.
func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}
