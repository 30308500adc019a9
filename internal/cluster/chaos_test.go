package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/imscopy/imscopy/imsapi/imsemu"
	"github.com/imscopy/imscopy/workflows/copyimage"
)

// TestChaosOnPostgres is a chaos run on the cluster, and runs only when asked:
//
//	IMSCOPY_BIN=$PWD/bin IMSCOPY_CLUSTER_CHAOS=300 go test -count=1 -v -run Chaos -timeout 60m ./internal/cluster
//
// That many copies start at once on the two workers while IMS answers 10% of requests 503, 5%
// 429, loses 2% of responses after acting on them and fails 5% of copy jobs; a worker is killed
// with kill -9 (and started again) every 20 s, the Temporal server once, and PostgreSQL crashes
// (immediate shutdown) and restarts once. Then nothing may be lost: every copy closed, IMS ran at
// most one job for each, a succeeded copy's image is its succeeded job's, a failed copy failed
// with an application error, and no image is left that belongs to no succeeded copy.
func TestChaosOnPostgres(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("IMSCOPY_CLUSTER_CHAOS"))
	bin := os.Getenv("IMSCOPY_BIN")
	if n <= 0 || bin == "" {
		t.Skip("a chaos run: set IMSCOPY_CLUSTER_CHAOS (copies) and IMSCOPY_BIN")
	}
	dir, err := os.MkdirTemp("", "imscopy-chaos-")
	require.NoError(t, err)
	require.NoError(t, os.Chmod(dir, 0o755)) // PostgreSQL's user must reach its folder inside
	c, err := Start(context.Background(), Options{
		Bin: bin, Dir: filepath.Join(dir, "cluster"), ComposeFile: "../../docker-compose.yml",
		EmulatorArgs: []string{"-job-duration", "3s-20s", "-job-quota", "-1", "-image-quota", "-1", "-seed", "7",
			"-error-rate", "0.10", "-throttle-rate", "0.05", "-lost-response-rate", "0.02", "-job-failure-rate", "0.05"},
		WorkerEnv: []string{"POLL_INITIAL=1s", "POLL_MIN=500ms", "POLL_MAX=2s", "POLL_LAG=1s",
			"POLL_HEARTBEAT=2s", "VISIBILITY_WAIT=4s"},
	})
	require.NoError(t, err)
	defer func() {
		c.Stop()
		if !t.Failed() {
			_ = os.RemoveAll(dir)
		} else {
			t.Logf("the cluster's logs are in %s", dir)
		}
	}()

	cl, err := client.Dial(client.Options{HostPort: c.TemporalAddress, Logger: quietLogger{}})
	require.NoError(t, err)
	defer cl.Close()
	start := time.Now()
	ids := map[string]string{} // image name -> workflow ID
	for i := range n {
		in := copyimage.Input{Region: imsemu.DefaultRegions[0].Name, SourceImageID: imsemu.SeedImageID,
			Name: fmt.Sprintf("chaos-%d", i), CMKID: imsemu.SeedKMSKeyID}
		run, err := cl.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{ID: copyimage.WorkflowID(in), TaskQueue: "imscopy"},
			copyimage.CopyImage, in)
		require.NoError(t, err)
		ids[in.Name] = run.GetID()
	}

	// The kills, until every copy is closed.
	done := make(chan struct{})
	kills := make(chan string, 100)
	go func() {
		defer close(kills)
		worker, serverKilled, pgCrashed := 0, false, false
		tick := time.NewTicker(20 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			switch {
			case !serverKilled && time.Since(start) > 40*time.Second:
				c.KillServer()
				kills <- fmt.Sprintf("%s kill -9 the server: %v", time.Since(start).Round(time.Second), c.RestartServer())
				serverKilled = true
			case !pgCrashed && time.Since(start) > 80*time.Second:
				kills <- fmt.Sprintf("%s crash PostgreSQL: %v", time.Since(start).Round(time.Second), c.CrashPostgres())
				pgCrashed = true
			default:
				c.Worker(worker).Kill()
				kills <- fmt.Sprintf("%s kill -9 worker %d: %v", time.Since(start).Round(time.Second), worker+1, c.StartWorker(worker))
				worker = (worker + 1) % c.Workers()
			}
		}
	}()

	type outcome struct {
		imageID string
		err     error
	}
	outcomes := map[string]outcome{}
	for name, id := range ids {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
		var res copyimage.Result
		err := cl.GetWorkflow(ctx, id, "").Get(ctx, &res)
		cancel()
		require.NotErrorIs(t, err, context.DeadlineExceeded, "%s never closed", name)
		outcomes[name] = outcome{res.ImageID, err}
	}
	wall := time.Since(start)
	close(done)
	for k := range kills {
		t.Log(k)
	}

	var jobs []imsemu.AdminJob
	var images []imsemu.AdminImage
	getJSON(t, c.EmulatorURL()+"/_emulator/jobs", &jobs)
	getJSON(t, c.EmulatorURL()+"/_emulator/images", &images)
	jobsOf := map[string][]imsemu.AdminJob{}
	for _, j := range jobs {
		jobsOf[j.ImageName] = append(jobsOf[j.ImageName], j)
	}
	succeeded, failed, duplicates, orphans := 0, 0, 0, 0
	succeededImage := map[string]bool{}
	for name, oc := range outcomes {
		js := jobsOf[name]
		if len(js) > 1 {
			duplicates++
			t.Errorf("%s: IMS ran %d copy jobs for it", name, len(js))
		}
		if oc.err == nil {
			succeeded++
			succeededImage[oc.imageID] = true
			if len(js) != 1 || js[0].Status != "SUCCESS" || js[0].ImageID != oc.imageID {
				t.Errorf("%s: succeeded with image %s, but IMS has no succeeded job for it: %+v", name, oc.imageID, js)
			}
			continue
		}
		failed++
		var app *temporal.ApplicationError
		assert.True(t, errors.As(oc.err, &app), "%s failed without an application error: %v", name, oc.err)
	}
	for _, img := range images {
		if strings.HasPrefix(img.Name, "chaos-") && img.Status != "deleted" && !succeededImage[img.ID] {
			orphans++
			t.Errorf("%s: image %s (%s) belongs to no succeeded copy", img.Name, img.ID, img.Status)
		}
	}
	t.Logf("%d copies closed in %s on PostgreSQL: %d succeeded, %d failed; lost 0 (every one closed), duplicates %d, orphans %d",
		len(outcomes), wall.Round(time.Second), succeeded, failed, duplicates, orphans)
}

func getJSON(t *testing.T, url string, v any) {
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.NoError(t, json.NewDecoder(resp.Body).Decode(v))
}
