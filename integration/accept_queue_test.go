package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/imscopy/imscopy/activities"
	"github.com/imscopy/imscopy/imsapi/imsemu"
	"github.com/imscopy/imscopy/internal/testkit"
	"github.com/imscopy/imscopy/workflows/promote"
)

// The emulator's second account (imsemu.Config.Accounts): its own key pair, and one project in
// the emulator's second region, which promotions share with.
const (
	secondAK   = "ITESTAK2ND7Q4M9XKWR3"
	secondSK   = "itest-second-account-sk-8e1f0a9b-never-log-me"
	recipientB = "b7c6d5e4f3a2418093a4b5c6d7e8f9a0"
)

// newTwoAccountRig is a promotion rig whose emulator also holds a second account with a project
// in the second region; the rig's workers are the first account's.
func newTwoAccountRig(t *testing.T) *rig {
	t.Helper()
	east := imsemu.DefaultRegions[1]
	r := newRigWith(t, sharedTemporal(t), imsemu.Config{JobDuration: 3 * time.Second,
		Accounts: []imsemu.Account{{AK: secondAK, SK: secondSK, Projects: map[string][]string{east.Name: {recipientB}}}}})
	r.workerEnv = append(r.workerEnv, "IMS_PROJECTS="+east.Name+"="+east.ProjectID)
	return r
}

// startRecipientWorker starts a worker of the second account on queue, as that account's operator
// would: its own key pair and project, and nothing of the first account's. Its home region is the
// one its project is in.
func (r *rig) startRecipientWorker(queue string) *proc {
	r.t.Helper()
	var env []string
	for _, kv := range r.workerEnv {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "HUAWEICLOUD_SDK_") || name == "TEMPORAL_TASK_QUEUE" || name == "IMS_REGION" || name == "IMS_PROJECTS" {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "TEMPORAL_TASK_QUEUE="+queue, "IMS_REGION="+imsemu.DefaultRegions[1].Name,
		"HUAWEICLOUD_SDK_AK="+secondAK, "HUAWEICLOUD_SDK_SK="+secondSK, "HUAWEICLOUD_SDK_PROJECT_ID="+recipientB)
	for _, kv := range env {
		require.NotContains(r.t, kv, testSK, "the recipient's worker is given nothing of the first account's")
		require.NotContains(r.t, kv, testAK, "the recipient's worker is given nothing of the first account's")
	}
	p := startProc(r.t, "worker", env)
	p.waitLine("worker ready")
	r.t.Cleanup(func() {
		if r.t.Failed() {
			path := filepath.Join(os.TempDir(), fmt.Sprintf("imscopy-%s-recipient-worker-%d.log", r.taskQueue, p.Pid()))
			_ = os.WriteFile(path, []byte(p.Output()), 0o644)
			r.t.Logf("the recipient worker's log is in %s", path)
		}
	})
	return p
}

// sharedWithB is a plain cross-region target shared with the second account's project.
func sharedWithB(name string) promote.Plan {
	home, east := imsemu.DefaultRegions[0].Name, imsemu.DefaultRegions[1].Name
	return promote.Plan{
		Name: name, Source: promote.Source{Region: home, ImageID: imsemu.SeedImageID}, AgencyName: "ims_admin_agency",
		Targets: []promote.Target{{Region: east, ShareWith: []string{recipientB}}},
	}
}

// workflowTreeHistory returns the history events of a workflow and of all its children, as JSON
// texts, and the IDs of the workflows it read (the root first).
func workflowTreeHistory(t *testing.T, c client.Client, rootID string) (texts, ids []string) {
	t.Helper()
	queue := []string{rootID}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		ids = append(ids, id)
		iter := c.GetWorkflowHistory(context.Background(), id, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		events := 0
		for iter.HasNext() {
			ev, err := iter.Next()
			require.NoError(t, err)
			b, err := protojson.Marshal(ev)
			require.NoError(t, err)
			texts = append(texts, string(b))
			events++
			if a := ev.GetChildWorkflowExecutionStartedEventAttributes(); a != nil {
				queue = append(queue, a.GetWorkflowExecution().GetWorkflowId())
			}
		}
		require.NotZero(t, events, "workflow %s has a history", id)
	}
	return texts, ids
}

// updatesBy counts the accept requests (PUT /v1/cloudimages/members) the emulator verified as
// signed by ak, per status.
func (r *rig) updatesBy(ak string) map[int]int {
	out := map[int]int{}
	for _, c := range r.emu.Counts() {
		if c.Route == imsemu.RouteBatchUpdateMembers && c.AK == ak {
			out[c.Status] += c.Count
		}
	}
	return out
}

// The accept of a share with another account's project runs on that account's own worker
// (accept_queue), started only once the accept waits for it: the promotion completes with the
// member accepted, the first account's worker never sends an accept, and neither worker's log
// nor any history holds the other account's secret.
func TestPromotionAcceptQueueOfAnotherAccount(t *testing.T) {
	t.Parallel()
	r := newTwoAccountRig(t)
	owner := r.startWorker()
	c := r.client()
	acceptQueue := r.taskQueue + "-recipient-account"
	plan := sharedWithB("itest-accept-queue")
	plan.Targets[0].AcceptQueue = acceptQueue
	run := r.promote(c, plan)

	// The accept is scheduled on the recipients' queue, where no worker polls yet: the owner's
	// worker cannot take it, and the target waits.
	targetID := promote.TargetID(run.GetID(), plan, plan.Targets[0])
	var acceptState enums.PendingActivityState
	var targetStatus enums.WorkflowExecutionStatus
	require.Eventually(t, func() bool {
		d, err := c.DescribeWorkflowExecution(context.Background(), targetID, "")
		if err != nil {
			return false
		}
		for _, a := range d.GetPendingActivities() {
			if a.GetActivityType().GetName() == activities.NameAcceptShare {
				acceptState = a.GetState()
				return true
			}
		}
		// A target that ended without waiting for the recipients' worker stops the wait too.
		targetStatus = d.GetWorkflowExecutionInfo().GetStatus()
		return targetStatus != enums.WORKFLOW_EXECUTION_STATUS_RUNNING
	}, 3*time.Minute, 200*time.Millisecond, "the target waits in AcceptShare")
	require.Equal(t, enums.PENDING_ACTIVITY_STATE_SCHEDULED, acceptState,
		"the accept waits on queue %s, where no worker runs yet (the target is %s)", acceptQueue, targetStatus)
	require.Empty(t, r.updatesBy(testAK), "the owner's worker sent no accept")
	recipient := r.startRecipientWorker(acceptQueue)

	report, err := promotionReport(t, run)
	require.NoError(t, err)
	require.Len(t, report.Targets, 1)
	target := report.Targets[0]
	require.Equal(t, promote.StatusDone, target.Status, "%s: %s", target.Step, target.Error)
	assert.Equal(t, []promote.Member{{ProjectID: recipientB, Status: "accepted"}}, target.Members)

	// IMS's side: the image is the owner's, and its member is accepted by the second account only.
	var image imsemu.AdminImage
	for _, img := range r.emu.Images() {
		if img.ID == target.ImageID {
			image = img
		}
	}
	assert.Equal(t, imsemu.DefaultRegions[1].ProjectID, image.Owner, "the image is the first account's")
	assert.Equal(t, []imsemu.AdminMember{{ProjectID: recipientB, Status: "accepted"}}, image.Members)
	assert.Empty(t, r.updatesBy(testAK), "the owner's worker never sent an accept")
	assert.Equal(t, map[int]int{200: 1}, r.updatesBy(secondAK), "the recipient's worker accepted, once")
	targetRun := c.GetWorkflow(context.Background(), targetID, "")
	assert.Equal(t, recipient.Pid(), activityWorkers(t, c, targetRun)[activities.NameAcceptShare], "AcceptShare ran on the recipient's worker")
	assert.Equal(t, owner.Pid(), activityWorkers(t, c, targetRun)[activities.NameShareImage], "the owner's worker shared")

	// No secret crosses an account, nor is any logged or kept at all: neither worker's log, nor any
	// history of the promotion's tree, holds either account's AK or SK.
	histories, ids := workflowTreeHistory(t, c, run.GetID())
	assert.Contains(t, ids, targetID, "the target's history was read too")
	assert.GreaterOrEqual(t, len(ids), 3, "the promotion, its target and the target's copy")
	texts := map[string][]string{
		"the owner's worker log":     {owner.Output()},
		"the recipient's worker log": {recipient.Output()},
		"the histories":              histories,
	}
	for what, list := range texts {
		require.NotEmpty(t, strings.Join(list, ""), what)
		for _, text := range list {
			for _, secret := range []string{testAK, testSK, secondAK, secondSK} {
				require.NotContains(t, text, secret, "%s holds a credential", what)
			}
		}
	}
	assert.Contains(t, recipient.Output(), "worker ready", "the recipient's log was read")
}

// The same share accepted with the owner's own credentials (accept: true) in the other
// account's project: the emulator's gateway refuses it (403 APIGW.0302), and the promotion
// fails with the target failed in step accept, naming the code and the class of the refusal.
func TestPromotionAcceptInAnotherAccountIsRefused(t *testing.T) {
	t.Parallel()
	r := newTwoAccountRig(t)
	r.startWorker()
	c := r.client()
	plan := sharedWithB("itest-accept-refused")
	plan.Targets[0].Accept = true

	report, err := promotionReport(t, r.promote(c, plan))
	app := testkit.AppError(t, err)
	assert.Equal(t, promote.ErrPromotionFailed, app.Type())
	assert.Contains(t, app.Message(), "APIGW.0302")
	require.Len(t, report.Targets, 1)
	target := report.Targets[0]
	t.Logf("the target's error in the report: %s", target.Error)
	assert.Equal(t, promote.StatusFailed, target.Status)
	assert.Equal(t, promote.StepAccept, target.Step)
	assert.Equal(t, "APIGW.0302", target.ErrorCode)
	assert.Equal(t, activities.ErrIMSForbidden, target.ErrorType)
	assert.Contains(t, target.Error, "403")
	assert.Contains(t, target.Error, recipientB, "the report names the project the worker may not act in")
	assert.Contains(t, target.Error, "accept_queue", "and says what to do")
	assert.NotEmpty(t, target.ImageID, "the copy and the share were done")

	assert.Equal(t, map[int]int{403: 1}, r.updatesBy(testAK), "one accept, refused and not retried")
	assert.Empty(t, r.updatesBy(secondAK))
	for _, img := range r.emu.Images() {
		if img.ID == target.ImageID {
			assert.Equal(t, []imsemu.AdminMember{{ProjectID: recipientB, Status: "pending"}}, img.Members, "the refused accept changed nothing")
		}
	}
	r.assertNoSecrets(c, promote.TargetID(promote.ID(plan), plan, plan.Targets[0]))
	histories, _ := workflowTreeHistory(t, c, promote.ID(plan))
	for _, text := range histories {
		for _, secret := range []string{testAK, testSK, secondAK, secondSK} {
			require.NotContains(t, text, secret)
		}
	}
}
