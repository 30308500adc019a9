package integration

import (
	"cmp"
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
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/imscopy/imscopy/activities"
	"github.com/imscopy/imscopy/imsapi/imsemu"
	"github.com/imscopy/imscopy/internal/testkit"
	"github.com/imscopy/imscopy/workflows/copyimage"
)

// -record writes the histories to workflows/copyimage/testdata/histories, where copyimage's replay test
// reads them: go test ./integration -run TestRecordHistories -record
var record = flag.Bool("record", false, "write the recorded histories to workflows/copyimage/testdata/histories")

const historiesDir = "../workflows/copyimage/testdata/histories"

// historyScenario is one path through CopyImage, run for real to record its history.
type historyScenario struct {
	name   string
	faults imsemu.Faults
	// drive starts the copy and does what the path needs (cancel, lift a fault) while it runs.
	drive func(r *rig, c client.Client, in copyimage.Input) client.WorkflowRun
	// want is the path the scenario must take, checked before its history is written: a scenario
	// that took another path would record the wrong history under its name.
	want outcome
	// crossRegion copies to the emulator's second region (holding a cross-region permit), with
	// jobs of jobDuration (default 2 s).
	crossRegion bool
	jobDuration time.Duration
}

// outcome is where a copy ended and how it got there.
type outcome struct {
	// errType is "" for a copy that succeeded, errCancelled for a cancelled one, else the type of
	// the workflow's application error.
	errType string
	adopted bool // the copy adopted an image instead of waiting for its own POST's job
	// submits is how SubmitCopy ran: 0 never, 1 in its first attempt, 2 retried (2 or more attempts).
	submits int32
	// compensated: CleanupCopy ran, and IMS answered its delete of the copy's image.
	compensated bool
	// image is the status of the copy's one image in the emulator at the end, deleted ones
	// included; "" when the copy made none.
	image string
}

// errCancelled as outcome.errType: the workflow ended cancelled.
const errCancelled = "(cancelled)"

var historyScenarios = []historyScenario{
	{name: "success", drive: startOnly, want: outcome{submits: 1, image: "active"}},
	{name: "job-failure-compensated", faults: imsemu.Faults{JobFailureRate: 1}, drive: startOnly,
		want: outcome{errType: activities.ErrCopyFailed, submits: 1, compensated: true, image: "deleted"}},
	{name: "job-failure-kept", faults: imsemu.Faults{JobFailureRate: 1}, drive: func(r *rig, c client.Client, in copyimage.Input) client.WorkflowRun {
		in.KeepFailedImages = true
		return r.start(c, in)
	}, want: outcome{errType: activities.ErrCopyFailed, submits: 1, image: "killed"}},
	// Cancelled while PollJob waits: the copy waits for PollJob to stop (poll-percent-on-cancel),
	// which it does at its next heartbeat, well before a job this long ends.
	// cancelled-while-polling.json is kept from the version that did not wait.
	{name: "cancelled-while-polling-percent", jobDuration: 20 * time.Second, drive: func(r *rig, c client.Client, in copyimage.Input) client.WorkflowRun {
		run := r.start(c, in)
		r.waitPollJob(c, run.GetID(), checkpointed)
		require.NoError(r.t, c.CancelWorkflow(context.Background(), run.GetID(), ""))
		return run
	}, want: outcome{errType: errCancelled, submits: 1, compensated: true, image: "deleted"}},
	// IMS answers the first POST with a 503; SubmitCopy's retry, after looking for an image the
	// failed POST may have made, copies.
	{name: "submit-retried", faults: imsemu.Faults{Routes: map[string]imsemu.RouteFault{
		imsemu.RouteCopyInRegion: {ErrorRate: 1, ErrorStatus: 503}}},
		drive: func(r *rig, c client.Client, in copyimage.Input) client.WorkflowRun {
			run := r.start(c, in)
			require.Eventually(r.t, func() bool { return r.requests(imsemu.RouteCopyInRegion, 503) > 0 }, 3*time.Minute, 100*time.Millisecond)
			r.emu.SetFaults(imsemu.Faults{})
			return run
		}, want: outcome{submits: 2, image: "active"}},
	// The POST's response is lost: the retry finds the image the POST made and adopts it.
	{name: "lost-response-adopted", faults: imsemu.Faults{Routes: map[string]imsemu.RouteFault{
		imsemu.RouteCopyInRegion: {LostResponseRate: 1}}, VisibilityDelay: time.Second}, drive: startOnly,
		want: outcome{adopted: true, submits: 2, image: "active"}},
	{name: "cross-region", crossRegion: true, drive: startOnly, want: outcome{submits: 1, image: "active"}},
	// Cancelled with KeepFailedImages while its job runs: nothing deletes the image, and the copy
	// holds its permit until the job has ended (IMS counts the job against the tenant's limit).
	// cross-region-cancelled-kept.json is kept from the version that did not wait for PollJob.
	{name: "cross-region-cancelled-kept-percent", crossRegion: true, jobDuration: 20 * time.Second,
		drive: func(r *rig, c client.Client, in copyimage.Input) client.WorkflowRun {
			in.KeepFailedImages = true
			run := r.start(c, in)
			r.waitPollJob(c, run.GetID(), checkpointed)
			require.NoError(r.t, c.CancelWorkflow(context.Background(), run.GetID(), ""))
			return run
		}, want: outcome{errType: errCancelled, submits: 1, image: "active"}},
	{name: "invalid-input", drive: func(r *rig, c client.Client, in copyimage.Input) client.WorkflowRun {
		in.Name = "bad/name"
		return r.start(c, in)
	}, want: outcome{errType: activities.ErrInvalidInput}},
}

func startOnly(r *rig, c client.Client, in copyimage.Input) client.WorkflowRun {
	return r.start(c, in)
}

// Every path of CopyImage runs against the embedded server and the emulator; its history is saved
// (to workflows/copyimage/testdata/histories with -record, to a temporary folder otherwise) and must replay
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
			jobDuration := cmp.Or(sc.jobDuration, 2*time.Second)
			newRigFor := func() *rig { return newRig(t, sharedTemporal(t), jobDuration, sc.faults) }
			if sc.crossRegion {
				newRigFor = func() *rig { return newPromotionRig(t, jobDuration, sc.faults) }
			}
			r := newRigFor()
			in := r.input("record-" + sc.name)
			if sc.crossRegion {
				in.CMKID, in.TargetRegion, in.AgencyName = "", imsemu.DefaultRegions[1].Name, "ims_admin_agency"
			}
			r.startWorker()
			c := r.client()
			run := sc.drive(r, c, in)
			res, err := result(t, run)
			r.checkOutcome(c, run, in.Name, res, err, sc.want)

			path := filepath.Join(dir, sc.name+".json")
			require.NoError(t, os.WriteFile(path, historyJSON(t, c, run), 0o644))
			r.assertNoSecrets(c, run.GetID())

			replayer := worker.NewWorkflowReplayer()
			replayer.RegisterWorkflow(copyimage.CopyImage)
			assert.NoError(t, replayer.ReplayWorkflowHistoryFromJSONFile(quietLogger{}, path))
		})
	}
}

// checkOutcome asserts that the copy took the path want describes, from the workflow's result, its
// history and the emulator's images and request counts.
func (r *rig) checkOutcome(c client.Client, run client.WorkflowRun, name string, res copyimage.Result, err error, want outcome) {
	t := r.t
	t.Helper()
	switch want.errType {
	case "":
		require.NoError(t, err, "the copy succeeds")
	case errCancelled:
		require.True(t, temporal.IsCanceledError(err), "the copy is cancelled; got %v", err)
	default:
		app := testkit.AppError(t, err)
		require.Equal(t, want.errType, app.Type(), "the copy fails with %s: %v", want.errType, err)
	}
	assert.Equal(t, want.adopted, res.Adopted, "adopted")

	runs := activityRuns(historyEvents(t, c, run))
	submit := runs[activities.NameSubmitCopy]
	switch want.submits {
	case 0:
		assert.Nil(t, submit, "SubmitCopy never ran")
	case 1:
		require.NotNil(t, submit, "SubmitCopy ran")
		assert.Equal(t, int32(1), submit.attempt, "SubmitCopy's first attempt ended it")
	default:
		require.NotNil(t, submit, "SubmitCopy ran")
		assert.GreaterOrEqual(t, submit.attempt, int32(2), "SubmitCopy was retried")
	}
	cleanup := runs[activities.NameCleanupCopy]
	deletes := r.answered(imsemu.DefaultRegions[0].Name, imsemu.RouteGlanceDeleteImage)
	if want.compensated {
		require.NotNil(t, cleanup, "the copy was compensated")
		assert.True(t, cleanup.completed, "CleanupCopy completed")
		assert.Positive(t, deletes, "IMS answered CleanupCopy's delete")
	} else {
		assert.Nil(t, cleanup, "the copy was not compensated")
		assert.Zero(t, deletes, "nothing was deleted")
	}

	images := r.allImages(name)
	if want.image == "" {
		assert.Empty(t, images, "the copy made no image")
		assert.Zero(t, r.requests(imsemu.RouteCopyInRegion, -1), "IMS saw no copy request")
		return
	}
	require.Len(t, images, 1, "the copy made one image")
	assert.Equal(t, want.image, images[0].Status, "the copy's image")
	assert.Len(t, r.jobsNamed(name), 1, "one copy job")
	if want.errType == "" {
		assert.Equal(t, images[0].ID, res.ImageID)
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
