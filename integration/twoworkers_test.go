package integration

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/imscopy/imscopy/activities"
	"github.com/imscopy/imscopy/imsapi/imsemu"
)

// Two workers poll one task queue, as two replicas of the Compose file do. The one running the
// copy's PollJob is killed with kill -9; the other, already running, takes the copy over and
// finishes it, with no worker started after the crash. One image, one POST.
func TestTwoWorkersOneKilledMidCopy(t *testing.T) {
	t.Parallel()
	r := newRig(t, sharedTemporal(t), 15*time.Second, imsemu.Faults{})
	workers := []*proc{r.startWorker(), r.startWorker()}
	c := r.client()
	in := r.input("itest-two-workers")
	run := r.start(c, in)
	r.waitPollJob(c, run.GetID(), checkpointed)

	poller := pollJobWorker(t, c, run.GetID())
	var victim, survivor *proc
	for _, w := range workers {
		if w.Pid() == poller {
			victim = w
		} else {
			survivor = w
		}
	}
	require.NotNil(t, victim, "PollJob runs on pid %d, which is neither worker", poller)
	victim.Kill()

	res, err := result(t, run)
	require.NoError(t, err)
	assert.Len(t, r.liveImages(in.Name), 1, "exactly one image of that name")
	assert.Equal(t, res.ImageID, r.liveImages(in.Name)[0].ID)
	assert.Equal(t, 1, r.requests(imsemu.RouteCopyInRegion, -1), "the copy was POSTed once")

	// The history says who finished: PollJob's last attempt and VerifyImage ran on the survivor.
	finishers := activityWorkers(t, c, run)
	assert.Equal(t, survivor.Pid(), finishers[activities.NamePollJob], "the survivor resumed PollJob")
	assert.Equal(t, survivor.Pid(), finishers[activities.NameVerifyImage], "the survivor verified the copy")
	r.assertNoSecrets(c, run.GetID())
}

// pollJobWorker is the pid of the worker running the workflow's PollJob, once one has started it.
func pollJobWorker(t *testing.T, c client.Client, workflowID string) int {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		d, err := c.DescribeWorkflowExecution(context.Background(), workflowID, "")
		require.NoError(t, err)
		for _, a := range d.GetPendingActivities() {
			if a.GetActivityType().GetName() == activities.NamePollJob && a.GetLastWorkerIdentity() != "" {
				return pidOf(t, a.GetLastWorkerIdentity())
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("no worker started PollJob")
	return 0
}

// activityWorkers maps each activity type to the pid of the worker that ran its last attempt.
func activityWorkers(t *testing.T, c client.Client, run client.WorkflowRun) map[string]int {
	t.Helper()
	iter := c.GetWorkflowHistory(context.Background(), run.GetID(), run.GetRunID(), false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	types := map[int64]string{}
	out := map[string]int{}
	for iter.HasNext() {
		ev, err := iter.Next()
		require.NoError(t, err)
		if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil {
			types[ev.GetEventId()] = a.GetActivityType().GetName()
		}
		if a := ev.GetActivityTaskStartedEventAttributes(); a != nil {
			out[types[a.GetScheduledEventId()]] = pidOf(t, a.GetIdentity())
		}
	}
	return out
}

// pidOf reads the pid from an SDK worker identity, "pid@host@".
func pidOf(t *testing.T, identity string) int {
	t.Helper()
	pid, err := strconv.Atoi(strings.SplitN(identity, "@", 2)[0])
	require.NoError(t, err, "worker identity %q", identity)
	return pid
}
