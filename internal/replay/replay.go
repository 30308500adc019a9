// Package replay replays a recorded workflow history with the current workflow code, as the
// replay tests and the history recorder do.
package replay

import (
	"os"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// File replays the history in historyFile (the JSON of `temporal workflow show --output json`) with
// the workflows register registers, as the run whose workflow ID was id: a workflow that names its
// children after its own ID (a promotion) does not match its history under another ID.
func File(historyFile, id string, register func(worker.WorkflowRegistry), logger log.Logger) error {
	f, err := os.Open(historyFile)
	if err != nil {
		return err
	}
	defer f.Close()
	history, err := client.HistoryFromJSON(f, client.HistoryJSONOptions{})
	if err != nil {
		return err
	}
	r := worker.NewWorkflowReplayer()
	register(r)
	return r.ReplayWorkflowHistoryWithOptions(logger, history,
		worker.ReplayWorkflowHistoryOptions{OriginalExecution: workflow.Execution{ID: id}})
}
