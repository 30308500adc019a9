package metrics

import (
	"context"
	"errors"
	"time"

	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/imscopy/imscopy/activities"
	"github.com/imscopy/imscopy/imsapi"
	"github.com/imscopy/imscopy/workflows/copyimage"
)

// CopyWorkflowType is the workflow whose outcome the copy counters record.
const CopyWorkflowType = copyimage.WorkflowName

// Interceptor is the worker interceptor (worker.Options.Interceptors) that records the copy
// counters from the workflows' outcomes and the job histograms from PollJob's results. Workflow
// code stays free of metrics, so it cannot become non-deterministic through them.
func (m *Metrics) Interceptor() interceptor.WorkerInterceptor { return &workerInterceptor{m: m} }

type workerInterceptor struct {
	interceptor.WorkerInterceptorBase
	m *Metrics
}

func (w *workerInterceptor) InterceptWorkflow(ctx workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	return &copyOutcomes{WorkflowInboundInterceptorBase: interceptor.WorkflowInboundInterceptorBase{Next: next}, m: w.m}
}

func (w *workerInterceptor) InterceptActivity(ctx context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	return &jobTimes{ActivityInboundInterceptorBase: interceptor.ActivityInboundInterceptorBase{Next: next}, m: w.m}
}

type copyOutcomes struct {
	interceptor.WorkflowInboundInterceptorBase
	m *Metrics
}

// ExecuteWorkflow counts a copy when it starts and when it ends. A workflow replayed from its
// history (after its worker died, or after it left the worker's cache) runs this again: the
// replaying checks keep each start and each end counted once, by the worker that lived it.
func (c *copyOutcomes) ExecuteWorkflow(ctx workflow.Context, in *interceptor.ExecuteWorkflowInput) (interface{}, error) {
	if workflow.GetInfo(ctx).WorkflowType.Name != CopyWorkflowType {
		return c.Next.ExecuteWorkflow(ctx, in)
	}
	started := workflow.Now(ctx)
	if !workflow.IsReplaying(ctx) {
		c.m.copiesStarted.Inc()
	}
	result, err := c.Next.ExecuteWorkflow(ctx, in)
	if workflow.IsReplaying(ctx) {
		return result, err
	}
	took := workflow.Now(ctx).Sub(started).Seconds()
	if err != nil {
		c.m.copiesFailed.WithLabelValues(FailureReason(err)).Inc()
		c.m.copyDuration.WithLabelValues("failed").Observe(took)
	} else {
		c.m.copiesSucceeded.Inc()
		c.m.copyDuration.WithLabelValues("succeeded").Observe(took)
	}
	return result, err
}

// FailureReason is the reason label of a failed copy: Canceled, the application error's type
// (the activities' and workflows' Err* constants), Timeout, or Internal.
func FailureReason(err error) string {
	var canceled *temporal.CanceledError
	var app *temporal.ApplicationError
	var timeout *temporal.TimeoutError
	switch {
	case errors.As(err, &canceled):
		return "Canceled"
	case errors.As(err, &app) && app.Type() != "":
		return app.Type()
	case errors.As(err, &timeout):
		return "Timeout"
	}
	return "Internal"
}

type jobTimes struct {
	interceptor.ActivityInboundInterceptorBase
	m *Metrics
}

// ExecuteActivity records, from a finished PollJob, how long IMS took for the job and how long
// after its end the poll saw it.
func (j *jobTimes) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (interface{}, error) {
	result, err := j.Next.ExecuteActivity(ctx, in)
	if res, ok := result.(activities.PollJobResult); ok && err == nil {
		j.m.observeJob(res, time.Now())
	}
	return result, err
}

// observeJob records a successful job's duration and the lag before its end was seen. An adopted
// image has no job times, and a time IMS wrote in another format is skipped rather than guessed.
func (m *Metrics) observeJob(res activities.PollJobResult, seen time.Time) {
	end, ok := imsapi.ParseJobTime(res.EndTime)
	if !ok {
		return
	}
	m.pollLag.Observe(max(0, seen.Sub(end).Seconds()))
	if begin, ok := imsapi.ParseJobTime(res.BeginTime); ok && !end.Before(begin) {
		m.jobDuration.Observe(end.Sub(begin).Seconds())
	}
}
