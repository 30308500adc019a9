// Package workflows registers imscopy's workflows, each in its own package with its contract in
// its api.go: copyimage (one durable copy), promote (a plan to many regions and projects) and
// permit (the tenant's cross-region copy permits). Workflow code only lives below it.
package workflows

import (
	"go.temporal.io/sdk/worker"

	"github.com/imscopy/imscopy/activities"
	"github.com/imscopy/imscopy/workflows/copyimage"
	"github.com/imscopy/imscopy/workflows/permit"
	"github.com/imscopy/imscopy/workflows/promote"
)

// TaskQueue is the default task queue of every workflow and activity (TEMPORAL_TASK_QUEUE).
const TaskQueue = "imscopy"

// Register registers every workflow and every activity on w (a worker, or a test environment).
func Register(w worker.Registry, a *activities.Activities) {
	copyimage.Register(w)
	promote.Register(w)
	permit.Register(w)
	w.RegisterActivity(a)
}
