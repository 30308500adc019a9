package copyimage

import (
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imscopy/imscopy/activities/activityapi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// historyFiles are the recorded histories of CopyImage's paths (success, job failure with and
// without compensation, cancel, a retried submit, an adopted image, invalid input). They were
// recorded from real runs: go test ./integration -run TestRecordHistories -record
func historyFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("testdata/histories/*.json")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 7, "the recorded histories are missing")
	return files
}

// replay replays one history with copy registered as CopyImage.
func replay(t *testing.T, copy any, file string) error {
	t.Helper()
	r := worker.NewWorkflowReplayer()
	r.RegisterWorkflowWithOptions(copy, workflow.RegisterOptions{Name: WorkflowName})
	// The replayer logs a mismatch at length (with the panic's stack); the error says enough.
	return r.ReplayWorkflowHistoryFromJSONFile(log.NewStructuredLogger(slog.New(slog.DiscardHandler)), file)
}

// Workflows that are running when a new worker version is deployed continue on the new code by
// replaying their history. Every recorded history must replay with the current CopyImage, as the
// worker registers it (decoding its own input: the older histories' inputs have the legacy Go
// names), or the change breaks copies in flight (see docs/versioning.md).
func TestRecordedHistoriesReplay(t *testing.T) {
	for _, file := range historyFiles(t) {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".json"), func(t *testing.T) {
			assert.NoError(t, replay(t, copyImagePayload, file))
		})
	}
}

// A new first step, checking the source image before submitting, is what a well-meant change
// looks like. Added as is, it breaks every history that has submitted already; behind
// workflow.GetVersion, old histories take the old path and replay.
func TestReplayCatchesAnUnversionedChange(t *testing.T) {
	checkSourceFirst := func(ctx workflow.Context, in Input) error {
		return workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, verifyOptions), activityapi.NameVerifyImage,
			activityapi.VerifyImageInput{Region: in.Region, ImageID: in.SourceImageID, SourceImageID: in.SourceImageID, Name: in.Name}).Get(ctx, nil)
	}
	unversioned := func(ctx workflow.Context, in Input) (Result, error) {
		if err := checkSourceFirst(ctx, in); err != nil {
			return Result{}, err
		}
		return CopyImage(ctx, in)
	}
	versioned := func(ctx workflow.Context, in Input) (Result, error) {
		if workflow.GetVersion(ctx, "check-source-first", workflow.DefaultVersion, 1) == 1 {
			if err := checkSourceFirst(ctx, in); err != nil {
				return Result{}, err
			}
		}
		return CopyImage(ctx, in)
	}
	for _, name := range []string{"success", "cancelled-while-polling", "job-failure-compensated"} {
		file := filepath.Join("testdata", "histories", name+".json")
		err := replay(t, unversioned, file)
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), "TMPRL1100", name) // Temporal's code for a non-deterministic workflow
		assert.NoError(t, replay(t, versioned, file), name)
	}
}
