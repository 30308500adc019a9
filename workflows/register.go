package workflows

import (
	"go.temporal.io/sdk/worker"

	"github.com/imscopy/imscopy/activities"
	"github.com/imscopy/imscopy/workflows/permit"
)

// TaskQueue is the default task queue of the copy workflow and its activities.
const TaskQueue = "imscopy"

// Register registers every workflow and activity of a copy on w (a worker, or a test environment).
func Register(w worker.Registry, a *activities.Activities) {
	w.RegisterWorkflow(CopyImage)
	permit.Register(w)
	w.RegisterActivity(a)
}

// CopyWorkflowID is the workflow ID of a copy: derived from what makes the copy the same copy,
// so that starting it twice attaches to the one workflow instead of copying twice.
func CopyWorkflowID(in CopyInput) string {
	if in.CrossRegion() {
		return "copy/" + in.Region + "/" + in.SourceImageID + "/to/" + in.TargetRegion + "/" + in.Name
	}
	return "copy/" + in.Region + "/" + in.SourceImageID + "/" + in.Name
}
