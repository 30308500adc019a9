package activities

import (
	"context"
	"errors"
	"sync"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
)

// PollEndInterceptor is the worker interceptor (worker.Options.Interceptors) that makes a
// PollJob that ends without a result say how far the job got: the CopyFailure of its CopyFailed
// error gets the percent of PollJob's last heartbeat, and a cancelled PollJob ends with its last
// heartbeat as the cancellation's detail. The server keeps a heartbeat only while its activity
// runs, so without this the workflow, and every reader of its progress after the end, would know
// a failed or cancelled copy's percent as 0 although the user watched it reach 40 %.
//
// It is an interceptor rather than code in PollJob so that it sees every heartbeat PollJob
// records, whatever path ends it, and the worker's throttling of heartbeats to the server does not
// hide the last one.
func PollEndInterceptor() interceptor.WorkerInterceptor { return &pollEnd{} }

type pollEnd struct {
	interceptor.WorkerInterceptorBase
}

func (*pollEnd) InterceptActivity(_ context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	return &pollEndInbound{ActivityInboundInterceptorBase: interceptor.ActivityInboundInterceptorBase{Next: next}}
}

// pollEndInbound is one activity execution: the SDK intercepts each anew.
type pollEndInbound struct {
	interceptor.ActivityInboundInterceptorBase
	mu   sync.Mutex
	last *PollHeartbeat // PollJob's last heartbeat; nil before the first
}

func (p *pollEndInbound) Init(outbound interceptor.ActivityOutboundInterceptor) error {
	return p.Next.Init(&pollEndOutbound{ActivityOutboundInterceptorBase: interceptor.ActivityOutboundInterceptorBase{Next: outbound}, in: p})
}

func (p *pollEndInbound) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	res, err := p.Next.ExecuteActivity(ctx, in)
	if err == nil || activity.GetInfo(ctx).ActivityType.Name != NamePollJob {
		return res, err
	}
	p.mu.Lock()
	last := p.last
	p.mu.Unlock()
	var canceled *temporal.CanceledError
	switch {
	case last == nil:
		return res, err
	case errors.Is(err, context.Canceled) && !errors.As(err, &canceled):
		// Temporal records a CanceledError's detail with the cancellation, for the workflow.
		return res, temporal.NewCanceledError(*last)
	}
	return res, withPercent(err, last.Percent)
}

// withPercent is err with percent in its CopyFailure, when it is a CopyFailed error that has one;
// otherwise err as it is. Its message, type and retry advice are kept.
func withPercent(err error, percent float64) error {
	var app *temporal.ApplicationError
	var f CopyFailure
	if !errors.As(err, &app) || app.Type() != ErrCopyFailed || !app.HasDetails() || app.Details(&f) != nil {
		return err
	}
	f.Percent = percent
	return temporal.NewApplicationErrorWithOptions(app.Message(), app.Type(), temporal.ApplicationErrorOptions{
		NonRetryable: app.NonRetryable(), NextRetryDelay: app.NextRetryDelay(), Cause: errors.Unwrap(app), Details: []any{f}})
}

type pollEndOutbound struct {
	interceptor.ActivityOutboundInterceptorBase
	in *pollEndInbound
}

// RecordHeartbeat keeps a PollHeartbeat on its way to the server.
func (o *pollEndOutbound) RecordHeartbeat(ctx context.Context, details ...any) {
	if len(details) > 0 {
		if hb, ok := details[0].(PollHeartbeat); ok {
			o.in.mu.Lock()
			o.in.last = &hb
			o.in.mu.Unlock()
		}
	}
	o.Next.RecordHeartbeat(ctx, details...)
}
