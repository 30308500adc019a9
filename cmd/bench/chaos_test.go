package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMain lets the test binary play the bench's children: the rig starts os.Executable(), which
// under `go test` is this binary, with IMSCOPY_BENCH_ROLE set.
func TestMain(m *testing.M) {
	switch os.Getenv(roleEnv) {
	case roleWorker:
		if err := workerMain(); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	case roleServer:
		if err := serverMain(); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// A small chaos run: 30 copies and 4 promotions on two worker processes, with IMS answering 5xx, 429 and losing
// responses, some jobs failing, one worker killed with SIGKILL and the Temporal server killed and
// started again. Nothing may be lost: every copy closes, the succeeded ones match IMS's succeeded
// jobs, no image is doubled or orphaned, and each failure carries IMS's reason.
func TestChaosNothingLost(t *testing.T) {
	o, err := parseChaosFlags([]string{
		"-n", "30", "-promotions", "4", "-workers", "2", "-scale", "10", "-job-duration", "20s,60s",
		"-kill-every", "3s", "-max-kills", "1", "-server-kill-at", "6s",
		"-job-failure-rate", "0.15", "-timeout", "8m", "-seed", "3",
		"-out", filepath.Join(t.TempDir(), "chaos"),
	})
	require.NoError(t, err)
	var progress strings.Builder
	rep, err := runChaos(context.Background(), o, &progress)
	require.NoError(t, err, "progress:\n%s", progress.String())
	t.Log(progress.String())
	var summary strings.Builder
	rep.print(&summary)
	t.Log(summary.String())

	assert.Empty(t, rep.Violations)
	assert.Equal(t, 30, rep.Closed)
	assert.Equal(t, 4, rep.Promotion.Promotions)
	assert.Equal(t, rep.Promotion.Targets, rep.Promotion.Done+rep.Promotion.Failed, "every target ended done or failed")
	assert.Positive(t, rep.Promotion.Done, "targets went through the faults and kills to the end")
	assert.LessOrEqual(t, rep.Promotion.PeakCrossRegion, imsCrossRegionLimit)
	assert.Equal(t, 1, rep.WorkerKills)
	assert.Equal(t, 1, rep.ServerRestarts)
	assert.Equal(t, rep.Succeeded, rep.LiveImages, "every live image is a succeeded copy's")
	assert.Positive(t, rep.Failed, "the seeded job failures happened, so the failure path was exercised")
	assert.Positive(t, rep.Injected5xx)
	assert.Positive(t, rep.Injected429)
}
