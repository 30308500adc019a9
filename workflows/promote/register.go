package promote

import (
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// Register registers the promotion's workflows on w under their contract names, PromoteImage in
// the form that decodes its own input (promoteImagePayload). PromoteTarget's input comes from
// PromoteImage only, so the SDK decodes it. The activities
// they call and the CopyImage they run for each copy are registered by workflows.Register.
func Register(w worker.WorkflowRegistry) {
	w.RegisterWorkflowWithOptions(promoteImagePayload, workflow.RegisterOptions{Name: WorkflowName})
	w.RegisterWorkflowWithOptions(PromoteTarget, workflow.RegisterOptions{Name: TargetWorkflowName})
}
