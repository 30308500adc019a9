// Package integration runs imscopy end to end: the real embedded Temporal server, the IMS
// emulator over HTTP, and the worker and starter as separate OS processes, so that crashes are
// real kill -9s. It is one package so that the large Temporal server is linked once.
package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.uber.org/zap"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/imscopy/imscopy/activities"
	"github.com/imscopy/imscopy/imsapi/imsemu"
	"github.com/imscopy/imscopy/internal/childproc"
	"github.com/imscopy/imscopy/internal/devserver"
	"github.com/imscopy/imscopy/internal/testkit"
	"github.com/imscopy/imscopy/internal/testkit/emutest"
	"github.com/imscopy/imscopy/workflows/copyimage"
)

// Credentials distinctive enough that finding them in a log or a history cannot be a coincidence.
const (
	testAK = "ITESTAKQ7Z3L0WXYV9AB"
	testSK = "itest-sk-5b4a3f2e1d0c-never-log-me"
)

// One embedded Temporal server serves every test that does not kill the server itself; each test
// uses its own task queue, so workers of different tests never take each other's tasks.
var shared struct {
	once sync.Once
	srv  *devserver.Server
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.srv != nil {
		_ = shared.srv.Stop()
	}
	os.Exit(code)
}

func sharedTemporal(t *testing.T) string {
	t.Helper()
	shared.once.Do(func() {
		dir, err := os.MkdirTemp("", "imscopy-itest-temporal-")
		if err != nil {
			shared.err = err
			return
		}
		shared.srv, shared.err = devserver.Start(devserver.Options{
			DataDir: dir, HostPort: testkit.FreeAddr(t), Namespace: "default", Logger: zap.NewNop(),
		})
	})
	require.NoError(t, shared.err)
	return shared.srv.HostPort()
}

// rig is one test's world: an emulator, a Temporal address, a task queue and a client.
type rig struct {
	t         *testing.T
	emu       *imsemu.Server
	temporal  string
	taskQueue string
	workerEnv []string
	procs     []*proc
}

func newRig(t *testing.T, temporalAddr string, jobDuration time.Duration, faults imsemu.Faults) *rig {
	t.Helper()
	return newRigWith(t, temporalAddr, imsemu.Config{JobDuration: jobDuration, Faults: faults})
}

// newRigWith is newRig with the emulator configured as cfg (its credentials and seed are the rig's).
func newRigWith(t *testing.T, temporalAddr string, cfg imsemu.Config) *rig {
	t.Helper()
	cfg.AK, cfg.SK, cfg.Seed = testAK, testSK, 7
	emu := emutest.Start(t, cfg)
	r := &rig{t: t, emu: emu, temporal: temporalAddr, taskQueue: "itest-" + strings.ReplaceAll(t.Name(), "/", "-")}
	r.workerEnv = append(childproc.EnvList(emutest.WorkerVars(emu, testAK, testSK)),
		"TEMPORAL_ADDRESS="+temporalAddr,
		"TEMPORAL_TASK_QUEUE="+r.taskQueue,
		// Debug logs every IMS exchange: the most a log ever says, for the secrets check.
		"LOG_LEVEL=debug",
		// Short intervals keep the suite quick; the schedule's logic is the same.
		"POLL_INITIAL=1s", "POLL_MIN=500ms", "POLL_MAX=4s", "POLL_LAG=1s", "POLL_HEARTBEAT=2s", "VISIBILITY_WAIT=8s",
	)
	return r
}

// startWorker starts a worker process and waits until it polls.
func (r *rig) startWorker(extraEnv ...string) *proc {
	r.t.Helper()
	p := startProc(r.t, "worker", append(append([]string{}, r.workerEnv...), extraEnv...))
	p.waitLine("worker ready")
	r.procs = append(r.procs, p)
	r.t.Cleanup(func() {
		if r.t.Failed() {
			path := filepath.Join(os.TempDir(), fmt.Sprintf("imscopy-%s-worker-%d.log", r.taskQueue, p.Pid()))
			_ = os.WriteFile(path, []byte(p.Output()), 0o644)
			r.t.Logf("the worker's log is in %s", path)
		}
	})
	return p
}

func (r *rig) client() client.Client {
	r.t.Helper()
	c, err := client.Dial(client.Options{HostPort: r.temporal, Namespace: "default", Logger: quietLogger{}})
	require.NoError(r.t, err)
	r.t.Cleanup(c.Close)
	return c
}

func (r *rig) input(name string) copyimage.Input {
	return copyimage.Input{
		Region: imsemu.DefaultRegions[0].Name, SourceImageID: imsemu.SeedImageID, Name: name,
		Description: "integration test", CMKID: imsemu.SeedKMSKeyID,
	}
}

func (r *rig) start(c client.Client, in copyimage.Input) client.WorkflowRun {
	r.t.Helper()
	run, err := c.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{
		ID: copyimage.WorkflowID(in), TaskQueue: r.taskQueue,
	}, copyimage.CopyImage, in)
	require.NoError(r.t, err)
	return run
}

// waitProgress polls the progress query until ok says so. The bound only turns a hang into a
// failure; nothing is asserted about how long it took.
func (r *rig) waitProgress(c client.Client, id string, ok func(copyimage.Progress) bool) copyimage.Progress {
	r.t.Helper()
	var last copyimage.Progress
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		v, err := c.QueryWorkflow(context.Background(), id, "", copyimage.ProgressQuery)
		if err == nil && v.Get(&last) == nil && ok(last) {
			return last
		}
		time.Sleep(200 * time.Millisecond)
	}
	r.t.Fatalf("workflow %s never reached the expected progress; last %+v", id, last)
	return last
}

// waitPollJob waits until the workflow's PollJob is running and the heartbeat the server holds for
// it satisfies ok, and returns that heartbeat: while PollJob waits, the job's progress is there
// and nowhere else. The bound only turns a hang into a failure.
func (r *rig) waitPollJob(c client.Client, id string, ok func(activities.PollHeartbeat) bool) activities.PollHeartbeat {
	r.t.Helper()
	var last activities.PollHeartbeat
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		desc, err := c.DescribeWorkflowExecution(context.Background(), id, "")
		require.NoError(r.t, err)
		for _, a := range desc.GetPendingActivities() {
			details := a.GetHeartbeatDetails()
			if a.GetActivityType().GetName() != activities.NamePollJob || len(details.GetPayloads()) == 0 {
				continue
			}
			require.NoError(r.t, converter.GetDefaultDataConverter().FromPayloads(details, &last))
			if ok(last) {
				return last
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	r.t.Fatalf("workflow %s: PollJob never reached the expected heartbeat; last %+v", id, last)
	return last
}

// checkpointed is a PollJob that has recorded its schedule: a worker killed now leaves the next
// attempt something to resume from.
func checkpointed(hb activities.PollHeartbeat) bool { return !hb.NextPollAt.IsZero() }

// result waits for the workflow's end; the context bound only turns a hang into a failure.
func result(t *testing.T, run client.WorkflowRun) (copyimage.Result, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var res copyimage.Result
	err := run.Get(ctx, &res)
	require.NotErrorIs(t, err, context.DeadlineExceeded, "the workflow did not end")
	return res, err
}

// liveImages returns the images of that name that are not deleted or killed.
func (r *rig) liveImages(name string) []imsemu.AdminImage {
	var out []imsemu.AdminImage
	for _, img := range r.emu.Images() {
		if img.Name == name && img.Status != "deleted" && img.Status != "killed" {
			out = append(out, img)
		}
	}
	return out
}

// allImages returns every image of that name ever created, deleted ones included.
func (r *rig) allImages(name string) []imsemu.AdminImage {
	var out []imsemu.AdminImage
	for _, img := range r.emu.Images() {
		if img.Name == name {
			out = append(out, img)
		}
	}
	return out
}

// requests counts requests to a route ("" for any) with a status (-1 for any).
func (r *rig) requests(route string, status int) int {
	n := 0
	for _, c := range r.emu.Counts() {
		if (route == "" || c.Route == route) && (status < 0 || c.Status == status) {
			n += c.Count
		}
	}
	return n
}

// assertNoSecrets checks every worker's output and the workflow's whole history for the AK and SK.
func (r *rig) assertNoSecrets(c client.Client, workflowID string) {
	r.t.Helper()
	var texts []string
	for _, p := range r.procs {
		texts = append(texts, p.Output())
	}
	iter := c.GetWorkflowHistory(context.Background(), workflowID, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	events := 0
	for iter.HasNext() {
		ev, err := iter.Next()
		require.NoError(r.t, err)
		b, err := protojson.Marshal(ev)
		require.NoError(r.t, err)
		texts = append(texts, string(b))
		events++
	}
	require.NotZero(r.t, events)
	for i, text := range texts {
		for _, secret := range []string{testAK, testSK} {
			require.NotContains(r.t, text, secret, "text %d of %d (worker logs first, then history events) holds a credential", i, len(texts))
		}
	}
	// Keep the evidence next to the test's output when something is wrong.
	if r.t.Failed() {
		dump := filepath.Join(os.TempDir(), fmt.Sprintf("imscopy-%s.json", r.taskQueue))
		b, _ := json.Marshal(texts)
		_ = os.WriteFile(dump, b, 0o644)
		r.t.Logf("logs and history written to %s", dump)
	}
}

// quietLogger keeps the SDK client's own logging out of the test output.
type quietLogger struct{}

func (quietLogger) Debug(string, ...interface{}) {}
func (quietLogger) Info(string, ...interface{})  {}
func (quietLogger) Warn(string, ...interface{})  {}
func (quietLogger) Error(string, ...interface{}) {}
