package integration

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/temporalproto"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/imscopy/imscopy/imsapi/imsemu"
	"github.com/imscopy/imscopy/workflows"
)

// -record writes the histories to workflows/testdata/histories, where workflows' replay test
// reads them: go test ./integration -run TestRecordHistories -record
var record = flag.Bool("record", false, "write the recorded histories to workflows/testdata/histories")

const historiesDir = "../workflows/testdata/histories"

// historyScenario is one path through CopyImage, run for real to record its history.
type historyScenario struct {
	name   string
	faults imsemu.Faults
	// drive starts the copy and does what the path needs (cancel, lift a fault) while it runs.
	drive func(r *rig, c client.Client, in workflows.CopyInput) client.WorkflowRun
}

var historyScenarios = []historyScenario{
	{name: "success", drive: startOnly},
	{name: "job-failure-compensated", faults: imsemu.Faults{JobFailureRate: 1}, drive: startOnly},
	{name: "job-failure-kept", faults: imsemu.Faults{JobFailureRate: 1}, drive: func(r *rig, c client.Client, in workflows.CopyInput) client.WorkflowRun {
		in.KeepFailedImages = true
		return r.start(c, in)
	}},
	{name: "cancelled-while-polling", drive: func(r *rig, c client.Client, in workflows.CopyInput) client.WorkflowRun {
		run := r.start(c, in)
		r.waitPollJob(c, run.GetID(), checkpointed)
		require.NoError(r.t, c.CancelWorkflow(context.Background(), run.GetID(), ""))
		return run
	}},
	// IMS answers the first POST with a 503; SubmitCopy's retry, after looking for an image the
	// failed POST may have made, copies.
	{name: "submit-retried", faults: imsemu.Faults{Routes: map[string]imsemu.RouteFault{
		imsemu.RouteCopyInRegion: {ErrorRate: 1, ErrorStatus: 503}}},
		drive: func(r *rig, c client.Client, in workflows.CopyInput) client.WorkflowRun {
			run := r.start(c, in)
			require.Eventually(r.t, func() bool { return r.requests(imsemu.RouteCopyInRegion, 503) > 0 }, 3*time.Minute, 100*time.Millisecond)
			r.emu.SetFaults(imsemu.Faults{})
			return run
		}},
	// The POST's response is lost: the retry finds the image the POST made and adopts it.
	{name: "lost-response-adopted", faults: imsemu.Faults{Routes: map[string]imsemu.RouteFault{
		imsemu.RouteCopyInRegion: {LostResponseRate: 1}}, VisibilityDelay: time.Second}, drive: startOnly},
	{name: "invalid-input", drive: func(r *rig, c client.Client, in workflows.CopyInput) client.WorkflowRun {
		in.Name = "bad/name"
		return r.start(c, in)
	}},
}

func startOnly(r *rig, c client.Client, in workflows.CopyInput) client.WorkflowRun {
	return r.start(c, in)
}

// Every path of CopyImage runs against the embedded server and the emulator; its history is saved
// (to workflows/testdata/histories with -record, to a temporary folder otherwise) and must replay
// with the current workflow code, so that the recorder's output is what the replay test reads.
func TestRecordHistories(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if *record {
		dir = historiesDir
		require.NoError(t, os.MkdirAll(dir, 0o755))
	}
	for _, sc := range historyScenarios {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, sharedTemporal(t), 2*time.Second, sc.faults)
			r.startWorker()
			c := r.client()
			run := sc.drive(r, c, r.input("record-"+sc.name))
			_, _ = result(t, run)

			path := filepath.Join(dir, sc.name+".json")
			require.NoError(t, os.WriteFile(path, historyJSON(t, c, run), 0o644))
			r.assertNoSecrets(c, run.GetID())

			replayer := worker.NewWorkflowReplayer()
			replayer.RegisterWorkflow(workflows.CopyImage)
			assert.NoError(t, replayer.ReplayWorkflowHistoryFromJSONFile(quietLogger{}, path))
		})
	}
}

// historyJSON is the run's whole history in the JSON of `temporal workflow show --output json`,
// with the workers' identities (pid@host of the machine that recorded it) replaced.
func historyJSON(t *testing.T, c client.Client, run client.WorkflowRun) []byte {
	t.Helper()
	iter := c.GetWorkflowHistory(context.Background(), run.GetID(), run.GetRunID(), false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	h := &historypb.History{}
	for iter.HasNext() {
		ev, err := iter.Next()
		require.NoError(t, err)
		scrubIdentities(ev.ProtoReflect())
		h.Events = append(h.Events, ev)
	}
	b, err := temporalproto.CustomJSONMarshalOptions{Indent: "  "}.Marshal(h)
	require.NoError(t, err)
	return append(b, '\n')
}

// scrubIdentities sets every "identity" field in m to one fixed value; replay ignores them.
func scrubIdentities(m protoreflect.Message) {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.Name() == "identity" && fd.Kind() == protoreflect.StringKind && !fd.IsList():
			m.Set(fd, protoreflect.ValueOfString("imscopy-recorder"))
		case fd.Kind() == protoreflect.MessageKind && !fd.IsList() && !fd.IsMap():
			scrubIdentities(v.Message())
		case fd.Kind() == protoreflect.MessageKind && fd.IsList():
			for i := range v.List().Len() {
				scrubIdentities(v.List().Get(i).Message())
			}
		}
		return true
	})
}
