// Package metrics is the worker's Prometheus endpoint: the Temporal SDK's own metrics (through its
// OpenTelemetry handler) and imscopy's: copies started, succeeded and failed by reason, IMS calls
// by operation and class, and the poll-lag and job-duration histograms.
package metrics

import (
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.temporal.io/sdk/client"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"

	"github.com/imscopy/imscopy/imsapi"
)

// Metrics holds every metric the worker exports, in one registry.
type Metrics struct {
	registry *prometheus.Registry
	temporal client.MetricsHandler

	copiesStarted   prometheus.Counter
	copiesSucceeded prometheus.Counter
	copiesFailed    *prometheus.CounterVec
	copyDuration    *prometheus.HistogramVec
	imsCalls        *prometheus.CounterVec
	imsCallDuration *prometheus.HistogramVec
	pollLag         prometheus.Histogram
	jobDuration     prometheus.Histogram
}

// Buckets, in seconds.
var (
	// A copy takes minutes to hours (a day is the workflow's limit).
	copyBuckets = []float64{10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 43200, 86400}
	// One IMS request, which imsapi.DefaultRequestTimeout bounds (the SDK may send it twice).
	callBuckets = []float64{0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}
	// PollJob aims its last poll within POLL_LAG (8 s) of the job's end; POLL_MAX (5 min) bounds
	// the lag when IMS's progress is not linear.
	lagBuckets = []float64{0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300}
	// The SDK's timers span a gRPC call (milliseconds) to a workflow's end-to-end time (hours).
	temporalBuckets = []float64{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600, 21600, 86400}
)

// New builds the metrics. onError receives the rare errors of the OpenTelemetry pipeline (an
// instrument the SDK asks for twice with different kinds); they cost a metric, never the worker.
func New(onError func(error)) (*Metrics, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	exporter, err := otelprom.New(
		otelprom.WithRegisterer(reg),
		otelprom.WithoutScopeInfo(),
		otelprom.WithoutTargetInfo(),
		otelprom.WithAggregationSelector(func(kind sdkmetric.InstrumentKind) sdkmetric.Aggregation {
			if kind == sdkmetric.InstrumentKindHistogram {
				return sdkmetric.AggregationExplicitBucketHistogram{Boundaries: temporalBuckets}
			}
			return sdkmetric.DefaultAggregationSelector(kind)
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("metrics: the Prometheus exporter of the Temporal SDK's metrics: %w", err)
	}
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter))

	m := &Metrics{
		registry: reg,
		temporal: temporalotel.NewMetricsHandler(temporalotel.MetricsHandlerOptions{
			Meter:   provider.Meter("temporal-sdk-go"),
			OnError: onError,
			// Counters as Prometheus counters (_total), not gauges that happen to only go up.
			UseMonotonicCounters: true,
		}),
		copiesStarted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "imscopy_copies_started_total", Help: "Copy workflows started on this worker (replays after a crash are not counted again).",
		}),
		copiesSucceeded: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "imscopy_copies_succeeded_total", Help: "Copy workflows that ended with a verified image.",
		}),
		copiesFailed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "imscopy_copies_failed_total",
			Help: "Copy workflows that failed, by reason: the error type (CopyFailed, VerifyFailed, IMSQuota, InvalidInput, Timeout, ...) or Canceled.",
		}, []string{"reason"}),
		copyDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "imscopy_copy_duration_seconds", Help: "Time from a copy workflow's start to its end, by outcome (succeeded, failed).",
			Buckets: copyBuckets,
		}, []string{"outcome"}),
		imsCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "imscopy_ims_calls_total",
			Help: "IMS API calls by operation and result class: ok, or the failure class (throttled, transient, not_found, auth, ...).",
		}, []string{"op", "class"}),
		imsCallDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "imscopy_ims_call_duration_seconds", Help: "Duration of IMS API calls by operation.", Buckets: callBuckets,
		}, []string{"op"}),
		pollLag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "imscopy_poll_lag_seconds",
			Help:    "Time from an IMS copy job's end (its end_time) to the poll that saw it; it includes any clock difference with IMS.",
			Buckets: lagBuckets,
		}),
		jobDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "imscopy_ims_job_duration_seconds", Help: "Duration of successful IMS copy jobs, from their begin_time to their end_time.",
			Buckets: copyBuckets,
		}),
	}
	reg.MustRegister(m.copiesStarted, m.copiesSucceeded, m.copiesFailed, m.copyDuration,
		m.imsCalls, m.imsCallDuration, m.pollLag, m.jobDuration)
	return m, nil
}

// Temporal is the handler to give the Temporal client (client.Options.MetricsHandler).
func (m *Metrics) Temporal() client.MetricsHandler { return m.temporal }

// ObserveIMSCall records one IMS call; it has imsclient.Config.Observe's signature.
func (m *Metrics) ObserveIMSCall(op string, class imsapi.Class, d time.Duration) {
	label := string(class)
	if class == "" {
		label = "ok"
	}
	m.imsCalls.WithLabelValues(op, label).Inc()
	m.imsCallDuration.WithLabelValues(op).Observe(d.Seconds())
}

// Handler serves the metrics in Prometheus's text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}
