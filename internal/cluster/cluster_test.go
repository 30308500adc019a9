package cluster_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/temporalproto"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/imscopy/imscopy/activities"
	"github.com/imscopy/imscopy/imsapi/imsemu"
	"github.com/imscopy/imscopy/internal/cluster"
	"github.com/imscopy/imscopy/workflows/copyimage"
)

// recipient is a project the promotion shares its image with; the emulator accepts it as the
// first account's in every region.
const recipient = "9a1b2c3d4e5f40718293a4b5c6d7e8f9"

// One cluster serves the package's tests, which run one after another: each kills or restarts a
// part and leaves the cluster whole again for the next.
var shared struct {
	c   *cluster.Cluster
	bin string
	err error
}

func TestMain(m *testing.M) {
	code := func() int {
		dir, err := os.MkdirTemp("", "imscopy-cluster-test-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		bin, cleanup, err := binaries()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer cleanup()
		shared.bin = bin
		shared.c, shared.err = cluster.Start(context.Background(), cluster.Options{
			Bin: bin, Dir: dir, ComposeFile: "../../docker-compose.yml",
			// Shorter IMS jobs and polling keep the suite quick; the logic is the same.
			EmulatorArgs: []string{"-job-duration", "6s", "-other-projects", recipient},
			WorkerEnv: []string{"POLL_INITIAL=1s", "POLL_MIN=500ms", "POLL_MAX=2s", "POLL_LAG=1s",
				"POLL_HEARTBEAT=2s", "VISIBILITY_WAIT=4s", "LOG_LEVEL=debug"},
		})
		if shared.err != nil {
			// Every test reports it; the folder keeps the logs.
			fmt.Fprintf(os.Stderr, "the cluster did not start (logs in %s): %v\n", dir, shared.err)
			return m.Run()
		}
		code := m.Run()
		shared.c.Stop()
		if code == 0 {
			_ = os.RemoveAll(dir)
		} else {
			fmt.Fprintf(os.Stderr, "the cluster's logs are in %s\n", dir)
		}
		return code
	}()
	os.Exit(code)
}

// binaries is IMSCOPY_BIN (`make test` builds them there once), or a new build of each.
func binaries() (string, func(), error) {
	if dir := os.Getenv("IMSCOPY_BIN"); dir != "" {
		return dir, func() {}, nil
	}
	dir, err := os.MkdirTemp("", "imscopy-cluster-bin-")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { _ = os.RemoveAll(dir) }
	builds := [][]string{
		{"-o", dir + "/", "../../cmd/worker", "../../cmd/starter", "../../cmd/imsemu"},
		{"-o", filepath.Join(dir, cluster.ServerBinary), "go.temporal.io/server/cmd/server"},
		{"-o", filepath.Join(dir, cluster.SQLToolBinary), "go.temporal.io/server/cmd/tools/sql"},
	}
	for _, args := range builds {
		if out, err := exec.Command("go", append([]string{"build"}, args...)...).CombinedOutput(); err != nil {
			cleanup()
			return "", nil, fmt.Errorf("go build %v: %v\n%s", args, err, out)
		}
	}
	return dir, cleanup, nil
}

func up(t *testing.T) *cluster.Cluster {
	t.Helper()
	require.NoError(t, shared.err, "the cluster did not start")
	return shared.c
}

func dial(t *testing.T, c *cluster.Cluster) client.Client {
	t.Helper()
	cl, err := client.Dial(client.Options{HostPort: c.TemporalAddress, Namespace: c.Namespace, Logger: quiet{}})
	require.NoError(t, err)
	t.Cleanup(cl.Close)
	return cl
}

func input(name string) copyimage.Input {
	return copyimage.Input{
		Region: imsemu.DefaultRegions[0].Name, SourceImageID: imsemu.SeedImageID, Name: name,
		Description: "cluster test", CMKID: imsemu.SeedKMSKeyID,
	}
}

// startCopies starts n copies named prefix-i on the workers' task queue and returns their IDs.
func startCopies(t *testing.T, cl client.Client, prefix string, n int) []string {
	t.Helper()
	var ids []string
	for i := range n {
		in := input(fmt.Sprintf("%s-%d", prefix, i))
		run, err := cl.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{
			ID: copyimage.WorkflowID(in), TaskQueue: "imscopy",
		}, copyimage.CopyImage, in)
		require.NoError(t, err)
		ids = append(ids, run.GetID())
	}
	return ids
}

// waitPolling waits until every workflow's PollJob runs and has recorded its schedule: the copy
// is mid-way, its IMS job submitted. It returns the identity of the worker running each. The
// bound only turns a hang into a failure.
func waitPolling(t *testing.T, cl client.Client, ids []string) map[string]string {
	t.Helper()
	on := map[string]string{}
	deadline := time.Now().Add(3 * time.Minute)
	for len(on) < len(ids) && time.Now().Before(deadline) {
		for _, id := range ids {
			if _, done := on[id]; done {
				continue
			}
			desc, err := cl.DescribeWorkflowExecution(context.Background(), id, "")
			require.NoError(t, err)
			for _, a := range desc.GetPendingActivities() {
				var hb activities.PollHeartbeat
				if a.GetActivityType().GetName() != activities.NamePollJob || len(a.GetHeartbeatDetails().GetPayloads()) == 0 {
					continue
				}
				require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(a.GetHeartbeatDetails(), &hb))
				if !hb.NextPollAt.IsZero() {
					on[id] = a.GetLastWorkerIdentity()
				}
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	require.Len(t, on, len(ids), "not every copy reached PollJob: %v of %v", on, ids)
	return on
}

// results waits for each workflow's end, with a client of its own per call so that a server
// restart in between is only a reconnect; the bound only turns a hang into a failure.
func results(t *testing.T, cl client.Client, ids []string) map[string]copyimage.Result {
	t.Helper()
	out := map[string]copyimage.Result{}
	for _, id := range ids {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		var res copyimage.Result
		err := cl.GetWorkflow(ctx, id, "").Get(ctx, &res)
		cancel()
		require.NoError(t, err, "copy %s", id)
		out[id] = res
	}
	return out
}

// images is the emulator's list of every image, deleted ones included, from its admin API.
func images(t *testing.T, c *cluster.Cluster) []imsemu.AdminImage {
	t.Helper()
	resp, err := http.Get(c.EmulatorURL() + "/_emulator/images")
	require.NoError(t, err)
	defer resp.Body.Close()
	var out []imsemu.AdminImage
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return out
}

// assertOneImageEach: each copy made exactly one image, its result's, and it is active; no
// duplicate was made and deleted, no orphan is left.
func assertOneImageEach(t *testing.T, c *cluster.Cluster, cl client.Client, ids []string, res map[string]copyimage.Result) {
	t.Helper()
	all := images(t, c)
	for _, id := range ids {
		desc, err := cl.DescribeWorkflowExecution(context.Background(), id, "")
		require.NoError(t, err)
		name := id[strings.LastIndex(id, "/")+1:]
		var made []imsemu.AdminImage
		for _, img := range all {
			if img.Name == name {
				made = append(made, img)
			}
		}
		require.Len(t, made, 1, "copy %s (%s) made %d images: %+v", id, desc.GetWorkflowExecutionInfo().GetStatus(), len(made), made)
		assert.Equal(t, res[id].ImageID, made[0].ID, "copy %s", id)
		assert.Equal(t, "active", made[0].Status, "copy %s", id)
	}
}

// activityWorkers are the identities of the workers that started the workflows' activities.
func activityWorkers(t *testing.T, cl client.Client, ids []string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, id := range ids {
		iter := cl.GetWorkflowHistory(context.Background(), id, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for iter.HasNext() {
			ev, err := iter.Next()
			require.NoError(t, err)
			if a := ev.GetActivityTaskStartedEventAttributes(); a != nil {
				out[a.GetIdentity()]++
			}
		}
	}
	return out
}

// lastRunBy is the identity of the worker whose attempt of the workflow's activity of that name
// ended it (the server records an activity's start with its last attempt).
func lastRunBy(t *testing.T, cl client.Client, id, activity string) string {
	t.Helper()
	scheduled := map[int64]string{}
	by := ""
	iter := cl.GetWorkflowHistory(context.Background(), id, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() {
		ev, err := iter.Next()
		require.NoError(t, err)
		if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil {
			scheduled[ev.GetEventId()] = a.GetActivityType().GetName()
		}
		if a := ev.GetActivityTaskStartedEventAttributes(); a != nil && scheduled[a.GetScheduledEventId()] == activity {
			by = a.GetIdentity()
		}
	}
	return by
}

// workerIdentity is the SDK's default identity of worker i: pid@host@.
func workerIdentity(c *cluster.Cluster, i int) string {
	host, _ := os.Hostname()
	return strconv.Itoa(c.Worker(i).Pid()) + "@" + host + "@"
}

func starter(t *testing.T, c *cluster.Cluster, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(filepath.Join(shared.bin, "starter"), args...)
	cmd.Env = append(os.Environ(), "TEMPORAL_ADDRESS="+c.TemporalAddress, "TEMPORAL_NAMESPACE="+c.Namespace,
		"TEMPORAL_TASK_QUEUE=imscopy", "TEMPORAL_CONFIG_FILE="+filepath.Join(t.TempDir(), "none.toml"))
	out, _ := cmd.CombinedOutput()
	return string(out), cmd.ProcessState.ExitCode()
}

// Copies and a promotion run on the two workers of the cluster, through the upstream server on
// PostgreSQL: every copy one active image, the promotion every target done; both workers worked.
func TestCopiesAndPromotionAcrossTwoWorkers(t *testing.T) {
	c := up(t)
	cl := dial(t, c)
	before, err := c.Usage()
	require.NoError(t, err)
	ids := startCopies(t, cl, "fleet", 6)

	plan := filepath.Join(t.TempDir(), "plan.yaml")
	east := imsemu.DefaultRegions[1].Name
	require.NoError(t, os.WriteFile(plan, []byte(fmt.Sprintf(`name: fleet-golden
source: {region: cn-north-4, image_id: %s}
agency_name: ims_admin_agency
targets:
  - {region: cn-north-4, cmk_id: %s}
  - {region: %s, share_with: [%s], accept: true}
`, imsemu.SeedImageID, imsemu.SeedKMSKeyID, east, recipient)), 0o644))
	out, code := starter(t, c, "promote", "--plan", plan, "--wait")
	require.Equal(t, 0, code, "starter promote --wait:\n%s", out)

	res := results(t, cl, ids)
	assertOneImageEach(t, c, cl, ids, res)
	var promoted []imsemu.AdminImage
	for _, img := range images(t, c) {
		if img.Name == "fleet-golden" && img.Status == "active" {
			promoted = append(promoted, img)
		}
	}
	regions := map[string]int{}
	for _, img := range promoted {
		regions[img.Region]++
	}
	assert.Equal(t, map[string]int{"cn-north-4": 1, east: 1}, regions, "one promoted image per target: %+v", promoted)

	// The copies went through the server and PostgreSQL, and the usage read from /proc says so.
	after, err := c.Usage()
	require.NoError(t, err)
	used := after.Sub(before)
	assert.Positive(t, used.ServerCPU, "the server's CPU time")
	assert.Positive(t, used.PostgresCPU, "PostgreSQL's CPU time, its backends' included")
	assert.Positive(t, after.DatabaseBytes, "the databases' files")

	// Four activity pollers take some thirty tasks: each worker gets its share.
	workers := activityWorkers(t, cl, ids)
	for i := range c.Workers() {
		assert.NotZero(t, workers[workerIdentity(c, i)], "worker %d ran no activity of the copies; activities by worker: %v", i+1, workers)
	}
}

// kill -9 of the Temporal server while every copy's PollJob waits, and a start of a new server
// process on the same database: every copy finishes with one image.
func TestServerKilledMidCopy(t *testing.T) {
	c := up(t)
	cl := dial(t, c)
	ids := startCopies(t, cl, "serverkill", 5)
	waitPolling(t, cl, ids)

	c.KillServer()
	require.NoError(t, c.RestartServer())

	assertOneImageEach(t, c, cl, ids, results(t, cl, ids))
}

// kill -9 of the worker running most PollJobs: the other finishes every copy, one image each.
func TestWorkerKilledMidCopy(t *testing.T) {
	c := up(t)
	cl := dial(t, c)
	ids := startCopies(t, cl, "workerkill", 4)
	on := waitPolling(t, cl, ids)

	victim, most := 0, -1
	for i := range c.Workers() {
		n := 0
		for _, identity := range on {
			if identity == workerIdentity(c, i) {
				n++
			}
		}
		if n > most {
			victim, most = i, n
		}
	}
	require.Positive(t, most, "no PollJob runs on a known worker: %v", on)
	survivor := workerIdentity(c, 1-victim)
	c.Worker(victim).Kill()
	t.Cleanup(func() { require.NoError(t, c.StartWorker(victim)) })

	res := results(t, cl, ids)
	assertOneImageEach(t, c, cl, ids, res)
	// The copies the victim was following were finished by the survivor: it ended their PollJob
	// and verified their image.
	for id, identity := range on {
		if identity == workerIdentity(c, victim) {
			for _, activity := range []string{activities.NamePollJob, activities.NameVerifyImage} {
				assert.Equal(t, survivor, lastRunBy(t, cl, id, activity), "copy %s: who ended its %s", id, activity)
			}
		}
	}
}

// PostgreSQL's immediate shutdown (a crash) and restart while copies run: the server recovers,
// every copy finishes with one image, and new copies start and finish after it.
func TestPostgresCrashUnderLoad(t *testing.T) {
	c := up(t)
	cl := dial(t, c)
	ids := startCopies(t, cl, "pgcrash", 5)
	waitPolling(t, cl, ids[:1])

	require.NoError(t, c.CrashPostgres())

	after := startCopies(t, cl, "pgafter", 2)
	all := append(ids, after...)
	assertOneImageEach(t, c, cl, all, results(t, cl, all))
	select {
	case <-c.Server().Exited():
		t.Fatalf("the Temporal server exited when PostgreSQL went away; its log: %s", c.Server().LogPath)
	default: // the same server process recovered
	}
}

// Visibility on PostgreSQL: list queries find finished copies by ID and by status, counts agree,
// `starter status` reports a finished copy with its image, and the Web UI's API lists it.
func TestVisibilityOnPostgres(t *testing.T) {
	c := up(t)
	cl := dial(t, c)
	ids := startCopies(t, cl, "visible", 3)
	res := results(t, cl, ids)

	desc, err := cl.DescribeWorkflowExecution(context.Background(), ids[0], "")
	require.NoError(t, err)
	workflowType := desc.GetWorkflowExecutionInfo().GetType().GetName()
	// Visibility is written by the server's visibility queue after the workflow's end: wait for it.
	query := fmt.Sprintf("WorkflowType = '%s' AND ExecutionStatus = 'Completed'", workflowType)
	var listed map[string]bool
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		listed = map[string]bool{}
		var token []byte
		for {
			page, err := cl.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{
				Namespace: c.Namespace, Query: query, NextPageToken: token, PageSize: 100,
			})
			require.NoError(t, err)
			for _, e := range page.GetExecutions() {
				listed[e.GetExecution().GetWorkflowId()] = true
			}
			if token = page.GetNextPageToken(); len(token) == 0 {
				break
			}
		}
		if listed[ids[0]] && listed[ids[1]] && listed[ids[2]] {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	for _, id := range ids {
		assert.True(t, listed[id], "%s is not listed by %q", id, query)
	}
	count, err := cl.CountWorkflow(context.Background(), &workflowservice.CountWorkflowExecutionsRequest{Namespace: c.Namespace, Query: query})
	require.NoError(t, err)
	assert.Equal(t, int64(len(listed)), count.GetCount(), "the count disagrees with the list")

	byID, err := cl.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{
		Namespace: c.Namespace, Query: fmt.Sprintf("WorkflowId = '%s'", ids[1]),
	})
	require.NoError(t, err)
	require.Len(t, byID.GetExecutions(), 1)
	assert.Equal(t, enums.WORKFLOW_EXECUTION_STATUS_COMPLETED, byID.GetExecutions()[0].GetStatus())

	out, code := starter(t, c, "status", ids[2])
	require.Equal(t, 0, code, "starter status:\n%s", out)
	assert.Contains(t, out, res[ids[2]].ImageID, "starter status of a finished copy names its image")

	// The Web UI's HTTP API, which the UI proxies to the server, lists it too.
	api := c.UIURL() + "/api/v1/namespaces/" + c.Namespace + "/workflows?query=" + url.QueryEscape(fmt.Sprintf("WorkflowId = '%s'", ids[0]))
	resp, err := http.Get(api)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "the UI's list: %s", body)
	var list workflowservice.ListWorkflowExecutionsResponse
	require.NoError(t, temporalproto.CustomJSONUnmarshalOptions{}.Unmarshal(body, &list), "%s", body)
	require.Len(t, list.GetExecutions(), 1, "the UI's list: %s", body)
	assert.Equal(t, ids[0], list.GetExecutions()[0].GetExecution().GetWorkflowId())
	assert.Equal(t, enums.WORKFLOW_EXECUTION_STATUS_COMPLETED, list.GetExecutions()[0].GetStatus())
}

// quiet keeps the SDK client's own logging out of the test output.
type quiet struct{}

func (quiet) Debug(string, ...interface{}) {}
func (quiet) Info(string, ...interface{})  {}
func (quiet) Warn(string, ...interface{})  {}
func (quiet) Error(string, ...interface{}) {}
