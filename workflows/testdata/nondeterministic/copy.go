// Package nondeterministic is a workflow that workflowcheck must reject; `make test` runs the
// analyser on it and fails if it passes, so a broken analyser cannot pass our code silently.
package nondeterministic

import (
	"time"

	"go.temporal.io/sdk/workflow"
)

// StampedCopy reads the wall clock, which differs on every replay: the workflow must use
// workflow.Now instead.
func StampedCopy(ctx workflow.Context, name string) (string, error) {
	return name + "-" + time.Now().Format(time.RFC3339), nil
}
