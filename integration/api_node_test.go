package integration

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imscopy/imscopy/activities"
	"github.com/imscopy/imscopy/imsapi/imsemu"
)

// nodeClient prepares testdata/node (docs/api.md's TypeScript example, with @temporalio/client
// installed by npm ci from its lock file) in a cache directory kept between runs, and returns it.
// The test is skipped where node or npm is not installed.
func nodeClient(t *testing.T) string {
	t.Helper()
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed: the TypeScript client's test needs it", tool)
		}
	}
	lock, err := os.ReadFile(filepath.Join("testdata", "node", "package-lock.json"))
	require.NoError(t, err)
	sum := sha256.Sum256(lock)
	cache, err := os.UserCacheDir()
	require.NoError(t, err)
	dir := filepath.Join(cache, "imscopy-node-client-"+hex.EncodeToString(sum[:6]))
	require.NoError(t, os.MkdirAll(dir, 0o755))
	for _, f := range []string{"package.json", "package-lock.json", "copy.mjs"} {
		data, err := os.ReadFile(filepath.Join("testdata", "node", f))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), data, 0o644))
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@temporalio", "client")); err != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "npm ci in %s:\n%s", dir, out)
	}
	return dir
}

// The workflow API from a real TypeScript client (@temporalio/client), as docs/api.md shows it:
// the documented JSON copies encrypted, the heartbeat, progress and result are read by their keys,
// and a misspelt cmk_id fails as InvalidInput.
func TestWorkflowAPIFromTypeScriptClient(t *testing.T) {
	dir := nodeClient(t)
	r := newRig(t, sharedTemporal(t), 20*time.Second, imsemu.Faults{})
	r.startWorker()
	const name = "itest-node-encrypted"
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "copy.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TEMPORAL_ADDRESS="+r.temporal, "TASK_QUEUE="+r.taskQueue,
		"REGION="+imsemu.DefaultRegions[0].Name, "SOURCE_IMAGE_ID="+imsemu.SeedImageID, "CMK_ID="+imsemu.SeedKMSKeyID, "NAME="+name)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "node copy.mjs:\n%s", stderr.String())

	var seen struct {
		Heartbeat map[string]any `json:"heartbeat"`
		Progress  map[string]any `json:"progress"`
		Result    map[string]any `json:"result"`
		Misspelt  map[string]any `json:"misspelt"`
	}
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &seen), "%s", stdout.String())
	require.NotNil(t, seen.Heartbeat, "the client saw PollJob's heartbeat")
	assert.Contains(t, seen.Heartbeat, "percent")
	assert.Contains(t, seen.Heartbeat, "next_poll_at")
	assert.Equal(t, "polling", seen.Progress["phase"])
	assert.NotEmpty(t, seen.Progress["job_id"])

	images := r.liveImages(name)
	require.Len(t, images, 1)
	assert.Equal(t, images[0].ID, seen.Result["image_id"])
	assert.Equal(t, false, seen.Result["adopted"])
	assert.Equal(t, imsemu.SeedKMSKeyID, images[0].CMKID, "cmk_id was honoured: the copy is encrypted")

	assert.Equal(t, activities.ErrInvalidInput, seen.Misspelt["type"])
	assert.Equal(t, true, seen.Misspelt["nonRetryable"])
	assert.Contains(t, seen.Misspelt["message"], `unknown key "cmkid" (did you mean "cmk_id"?)`)
	assert.Empty(t, r.allImages(name+"-misspelt"), "nothing was copied")
}
