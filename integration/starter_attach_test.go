package integration

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imscopy/imscopy/imsapi/imsemu"
)

// Starting the same copy twice while it runs attaches to it, and the starter says which of the
// two happened. No worker runs: the copy stays running, which is all this needs.
func TestStarterCopySaysAttachedOrStarted(t *testing.T) {
	t.Parallel()
	r := newRigWith(t, sharedTemporal(t), imsemu.Config{JobDuration: 5 * time.Second})
	c := r.client()
	starter := func() (stdout, stderr string) {
		cmd := exec.Command(binaries(t)+"/starter", "copy", "--image", imsemu.SeedImageID, "--name", "itest-attach")
		cmd.Env = append(cmd.Environ(), "TEMPORAL_ADDRESS="+r.temporal, "TEMPORAL_TASK_QUEUE="+r.taskQueue,
			"IMS_REGION="+imsemu.DefaultRegions[0].Name)
		var out, errOut strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		var exit *exec.ExitError
		require.False(t, errors.As(err, &exit), "exit %v: %s", err, errOut.String())
		require.NoError(t, err)
		return out.String(), errOut.String()
	}
	id, msg := starter()
	id = strings.TrimSpace(id)
	t.Cleanup(func() { _ = c.TerminateWorkflow(context.Background(), id, "", "test over") })
	assert.Contains(t, msg, "started copy workflow "+id)
	assert.NotContains(t, msg, "attached")

	again, msg := starter()
	assert.Equal(t, id, strings.TrimSpace(again))
	assert.Contains(t, msg, "attached to the running copy workflow "+id)
	assert.NotContains(t, msg, "started")
}
