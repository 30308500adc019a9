package permit

import (
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// Register registers the semaphore workflow on w; its activities are package activities'
// (RequestPermit, ClosedHolders).
func Register(w worker.WorkflowRegistry) {
	w.RegisterWorkflowWithOptions(Semaphore, workflow.RegisterOptions{Name: WorkflowName})
}
