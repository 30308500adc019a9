package activities

import (
	"context"
	"errors"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/imscopy/imscopy/workflows/permit"
)

// RequestPermit asks the task queue's cross-region permit semaphore for a permit on behalf of the
// requesting workflow, starting the semaphore if it does not run; the grant comes to the workflow
// as a signal. It carries the worker's limit (Activities.CrossRegionCopies), which the semaphore
// follows.
func (a *Activities) RequestPermit(ctx context.Context, r permit.Request) error {
	if a.Temporal == nil {
		return temporal.NewNonRetryableApplicationError("this worker has no Temporal client for cross-region permits", ErrInvalidInput, nil)
	}
	r.Limit = a.crossRegionCopies()
	tq := activity.GetInfo(ctx).TaskQueue
	_, err := a.Temporal.SignalWithStartWorkflow(ctx, permit.WorkflowID(tq), permit.AcquireSignal, r,
		client.StartWorkflowOptions{TaskQueue: tq}, permit.WorkflowName, permit.State{Limit: r.Limit})
	return err
}

// ClosedHolders returns the request IDs of holders that cannot be using their permit any more: the
// workflow is not running, not known to Temporal, or running in another chain than the one that
// asked (a new start of the same workflow ID), so the semaphore can take their permits back.
func (a *Activities) ClosedHolders(ctx context.Context, holders []permit.Request) ([]string, error) {
	if a.Temporal == nil {
		return nil, temporal.NewNonRetryableApplicationError("this worker has no Temporal client for cross-region permits", ErrInvalidInput, nil)
	}
	var closed []string
	for _, h := range holders {
		desc, err := a.Temporal.DescribeWorkflowExecution(ctx, h.Holder, "")
		var notFound *serviceerror.NotFound
		switch {
		case errors.As(err, &notFound):
			closed = append(closed, h.RequestID)
		case err != nil:
			return nil, err
		case desc.GetWorkflowExecutionInfo().GetStatus() != enums.WORKFLOW_EXECUTION_STATUS_RUNNING:
			closed = append(closed, h.RequestID)
		case desc.GetWorkflowExecutionInfo().GetFirstRunId() != "" && desc.GetWorkflowExecutionInfo().GetFirstRunId() != h.RequestID:
			closed = append(closed, h.RequestID)
		}
	}
	return closed, nil
}

// crossRegionCopies is the configured limit, IMS's own when unset.
func (a *Activities) crossRegionCopies() int {
	if a.CrossRegionCopies > 0 {
		return a.CrossRegionCopies
	}
	return permit.DefaultLimit
}
