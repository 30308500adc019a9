package permit

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

var requestOptions = workflow.ActivityOptions{
	StartToCloseTimeout: 30 * time.Second,
	// A request in flight when the holder is cancelled lands before the holder's release, never
	// after it.
	WaitForCancellation: true,
	RetryPolicy:         &temporal.RetryPolicy{MaximumInterval: 30 * time.Second},
}

// Acquire asks its task queue's semaphore for a permit for a copy of kind key (KeyOf) and waits
// until it is granted. The caller must Release it however it ends, cancelled included, and also
// when Acquire itself returns an error (a request may be waiting). Waiting adds nothing to the
// history but the grant.
func Acquire(ctx workflow.Context, key string) (Request, error) {
	info := workflow.GetInfo(ctx)
	// The chain's first run ID survives a reset, which replays the request's activity rather than
	// asking again: the reset run is the same request.
	id := info.FirstRunID
	if id == "" {
		id = info.WorkflowExecution.RunID
	}
	r := Request{Key: key, Holder: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID, RequestID: id}
	if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, requestOptions), RequestActivity, r).Get(ctx, nil); err != nil {
		return r, err
	}
	granted := workflow.GetSignalChannel(ctx, GrantedSignal)
	for {
		var id string
		sel := workflow.NewSelector(ctx)
		sel.AddReceive(granted, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, &id) })
		sel.AddReceive(ctx.Done(), func(workflow.ReceiveChannel, bool) {})
		sel.Select(ctx)
		switch {
		case ctx.Err() != nil:
			return r, temporal.NewCanceledError()
		case id == r.RequestID:
			return r, nil
		}
	}
}

// Release gives the permit back (or withdraws a request not granted yet), in a context a
// cancellation does not reach.
func Release(ctx workflow.Context, r Request) {
	dctx, cancel := workflow.NewDisconnectedContext(ctx)
	defer cancel()
	semaphore := WorkflowID(workflow.GetInfo(ctx).TaskQueueName)
	if err := workflow.SignalExternalWorkflow(dctx, semaphore, "", ReleaseSignal, r).Get(dctx, nil); err != nil {
		// The semaphore takes it back once it sees this workflow closed.
		workflow.GetLogger(ctx).Warn("Could not give the cross-region permit back; it is reclaimed once this copy closes", "Error", err)
	}
}
