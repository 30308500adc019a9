package integration

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/imscopy/imscopy/imsapi/imsemu"
	"github.com/imscopy/imscopy/internal/replay"
	"github.com/imscopy/imscopy/internal/testkit"
	"github.com/imscopy/imscopy/workflows/promote"
)

// recipient is a project of the emulator's second region that promotions share with.
const recipient = "9a1b2c3d4e5f40718293a4b5c6d7e8f9"

// eastKey is the emulator's KMS key in its second region.
const eastKey = "7f3e2a1b-4c5d-4e6f-8a9b-0c1d2e3f4a5b"

// newPromotionRig is a rig whose emulator has a share recipient in its second region and whose
// workers know their project there.
func newPromotionRig(t *testing.T, jobDuration time.Duration, faults imsemu.Faults) *rig {
	t.Helper()
	east := imsemu.DefaultRegions[1]
	r := newRigWith(t, sharedTemporal(t), imsemu.Config{JobDuration: jobDuration, Faults: faults,
		OtherProjects: map[string][]string{east.Name: {recipient}}})
	r.workerEnv = append(r.workerEnv, "IMS_PROJECTS="+east.Name+"="+east.ProjectID)
	return r
}

// threeTargets: in-region encrypted, cross-region shared and accepted, cross-region encrypted.
func threeTargets(name string) promote.Plan {
	home, east := imsemu.DefaultRegions[0].Name, imsemu.DefaultRegions[1].Name
	return promote.Plan{
		Name: name, Source: promote.Source{Region: home, ImageID: imsemu.SeedImageID}, AgencyName: "ims_admin_agency",
		Targets: []promote.Target{
			{Region: home, CMKID: imsemu.SeedKMSKeyID},
			{Region: east, Name: name + "-shared", ShareWith: []string{recipient}, Accept: true},
			{Region: east, CMKID: eastKey},
		},
	}
}

func (r *rig) promote(c client.Client, p promote.Plan) client.WorkflowRun {
	r.t.Helper()
	run, err := c.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{ID: promote.ID(p), TaskQueue: r.taskQueue},
		promote.WorkflowName, promote.Input{Plan: p})
	require.NoError(r.t, err)
	return run
}

// promotionReport waits for the promotion's end and returns its report, from its result or from
// its failure's details.
func promotionReport(t *testing.T, run client.WorkflowRun) (promote.Report, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	var report promote.Report
	err := run.Get(ctx, &report)
	var app *temporal.ApplicationError
	if err != nil && errors.As(err, &app) && app.HasDetails() {
		require.NoError(t, app.Details(&report))
	}
	return report, err
}

// The README's promotion, with the worker killed by kill -9 while the cross-region copies run and a
// new worker started: every target done, one final image each, the intermediate deleted, the member
// accepted, the source untouched, and one IMS copy job per hop.
func TestPromotionSurvivesAWorkerKill(t *testing.T) {
	t.Parallel()
	r := newPromotionRig(t, 8*time.Second, imsemu.Faults{})
	first := r.startWorker()
	c := r.client()
	plan := threeTargets("itest-promoted")
	run := r.promote(c, plan)

	require.Eventually(t, func() bool {
		for _, j := range r.emu.Jobs() {
			if j.TargetRegion != "" && (j.Status == "INIT" || j.Status == "RUNNING") {
				return true
			}
		}
		return false
	}, 2*time.Minute, 100*time.Millisecond, "a cross-region copy runs")
	first.Kill()
	r.startWorker()

	report, err := promotionReport(t, run)
	require.NoError(t, err)
	require.Len(t, report.Targets, 3)
	for _, tr := range report.Targets {
		assert.Equal(t, promote.StatusDone, tr.Status, "%s %s: %s", tr.Region, tr.Name, tr.Error)
	}
	east := imsemu.DefaultRegions[1].Name
	for _, want := range []struct{ region, name, key string }{
		{imsemu.DefaultRegions[0].Name, "itest-promoted", imsemu.SeedKMSKeyID},
		{east, "itest-promoted-shared", ""},
		{east, "itest-promoted", eastKey},
	} {
		var live []imsemu.AdminImage
		for _, img := range r.liveImages(want.name) {
			if img.Region == want.region {
				live = append(live, img)
			}
		}
		require.Len(t, live, 1, "one final image of %s in %s", want.name, want.region)
		assert.Equal(t, want.key, live[0].CMKID)
		assert.Equal(t, "active", live[0].Status)
	}
	assert.Empty(t, r.liveImages("itest-promoted-imscopy-hop"), "no intermediate left")
	shared := report.Targets[1]
	assert.Equal(t, []promote.Member{{ProjectID: recipient, Status: "accepted"}}, shared.Members)
	assert.Equal(t, 4, r.requests(imsemu.RouteCopyInRegion, 200)+r.requests(imsemu.RouteCopyCrossRegion, 200), "one copy POST per hop")
	for _, img := range r.emu.Images() {
		if img.ID == imsemu.SeedImageID {
			assert.Equal(t, "active", img.Status, "the source is untouched")
			assert.Empty(t, img.Members, "the source is never shared")
		}
	}
	r.assertNoSecrets(c, run.GetID())
}

// A target that IMS refuses fails alone: the promotion fails naming it, its step and IMS's code,
// while the others finish. Run again once the cause is gone, only that target copies.
func TestPromotionResumesOnlyTheFailedTarget(t *testing.T) {
	t.Parallel()
	// The agency lacks rights: every cross-region copy is refused (IMG.0151).
	r := newPromotionRig(t, 3*time.Second, imsemu.Faults{Routes: map[string]imsemu.RouteFault{
		imsemu.RouteCopyCrossRegion: {ErrorRate: 1, ErrorStatus: 400, ErrorCode: "IMG.0151"}}})
	r.startWorker()
	c := r.client()
	plan := threeTargets("itest-resumed")
	plan.Targets = plan.Targets[:2]

	report, err := promotionReport(t, r.promote(c, plan))
	app := testkit.AppError(t, err)
	assert.Equal(t, promote.ErrPromotionFailed, app.Type())
	assert.Contains(t, app.Message(), "IMG.0151")
	require.Len(t, report.Targets, 2)
	assert.Equal(t, promote.StatusDone, report.Targets[0].Status)
	failed := report.Targets[1]
	assert.Equal(t, promote.StatusFailed, failed.Status)
	assert.Equal(t, promote.StepCopy, failed.Step)
	assert.Equal(t, "IMG.0151", failed.ErrorCode)
	inRegionPosts := r.requests(imsemu.RouteCopyInRegion, 200)

	r.emu.SetFaults(imsemu.Faults{})
	report, err = promotionReport(t, r.promote(c, plan))
	require.NoError(t, err)
	for _, tr := range report.Targets {
		assert.Equal(t, promote.StatusDone, tr.Status, "%s: %s", tr.Region, tr.Error)
	}
	assert.True(t, report.Targets[0].Adopted, "the finished target is found, not copied")
	assert.Equal(t, inRegionPosts, r.requests(imsemu.RouteCopyInRegion, 200), "no new copy for the finished target")
	assert.Equal(t, 1, r.requests(imsemu.RouteCopyCrossRegion, 200), "the failed target copies once")
}

// promotionHistoriesDir is where -record writes the promotion's histories for promote's replay test.
const promotionHistoriesDir = "../workflows/promote/testdata/histories"

// A promotion of the three kinds of target that succeeds, and one whose cross-region target IMS
// refuses, run for real; the histories of the promotions and of each target are saved (to
// workflows/promote/testdata/histories with -record) and must replay with the current code.
func TestRecordPromotionHistories(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if *record {
		dir = promotionHistoriesDir
		require.NoError(t, os.MkdirAll(dir, 0o755))
	}
	for _, sc := range []struct {
		name   string
		faults imsemu.Faults
		failed bool
	}{
		{name: "done"},
		{name: "target-refused", failed: true, faults: imsemu.Faults{Routes: map[string]imsemu.RouteFault{
			imsemu.RouteCopyCrossRegion: {ErrorRate: 1, ErrorStatus: 400, ErrorCode: "IMG.0151"}}}},
	} {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			r := newPromotionRig(t, 2*time.Second, sc.faults)
			r.startWorker()
			c := r.client()
			run := r.promote(c, threeTargets("record-"+sc.name))
			report, err := promotionReport(t, run)
			require.Equal(t, sc.failed, err != nil, "%v", err)
			require.Len(t, report.Targets, 3)

			// Child IDs derive from the parent's, so a replay needs each history's workflow ID: the
			// file name is the ID with its slashes made dashes, and the ID is kept beside it.
			ids := []string{run.GetID()}
			for _, tr := range report.Targets {
				ids = append(ids, tr.WorkflowID)
			}
			for _, id := range ids {
				name := "promotion-" + sc.name + strings.ReplaceAll(strings.TrimPrefix(id, run.GetID()), "/", "-")
				path := filepath.Join(dir, name+".json")
				require.NoError(t, os.WriteFile(path, historyJSON(t, c, c.GetWorkflow(context.Background(), id, "")), 0o644))
				require.NoError(t, os.WriteFile(strings.TrimSuffix(path, ".json")+".id", []byte(id+"\n"), 0o644))
				assert.NoError(t, replay.File(path, id, promote.Register, quietLogger{}), name)
			}
			r.assertNoSecrets(c, run.GetID())
		})
	}
}

// Running `starter promote` again with the same plan attaches to the running promotion and says
// so; with an edited plan of the same promotion ID it refuses (exit 2) instead of silently
// attaching to a promotion that goes on with the old plan. No worker runs: the promotion stays
// running, which is all this needs.
func TestStarterPromoteRefusesAnEditedPlanWhileItRuns(t *testing.T) {
	t.Parallel()
	r := newPromotionRig(t, 5*time.Second, imsemu.Faults{})
	c := r.client()
	dir := t.TempDir()
	plan := func(file, key string) string {
		path := filepath.Join(dir, file)
		body := fmt.Sprintf("name: itest-edited-plan\nsource:\n  region: %s\n  image_id: %s\ntargets:\n  - region: %s\n    cmk_id: %s\n",
			imsemu.DefaultRegions[0].Name, imsemu.SeedImageID, imsemu.DefaultRegions[0].Name, key)
		require.NoError(t, os.WriteFile(path, []byte(body), 0o644))
		return path
	}
	original, edited := plan("plan.yaml", imsemu.SeedKMSKeyID), plan("edited.yaml", "00000000-0000-4000-8000-000000000001")
	starter := func(path string) (string, int) {
		cmd := exec.Command(binaries(t)+"/starter", "promote", "--plan", path)
		cmd.Env = append(cmd.Environ(), "TEMPORAL_ADDRESS="+r.temporal, "TEMPORAL_TASK_QUEUE="+r.taskQueue)
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return string(out), exit.ExitCode()
		}
		require.NoError(t, err, "%s", out)
		return string(out), 0
	}
	out, code := starter(original)
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "started promotion workflow")
	id := strings.TrimSpace(out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:])
	t.Cleanup(func() { _ = c.TerminateWorkflow(context.Background(), id, "", "test over") })

	out, code = starter(original)
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "attached to the running promotion workflow", "the same plan attaches and says so")

	out, code = starter(edited)
	assert.Equal(t, 2, code, "an edited plan is refused; output: %s", out)
	assert.Contains(t, out, "running with another plan")
	assert.Contains(t, out, "--id", "it says how to start a separate promotion")
	desc, err := c.DescribeWorkflowExecution(context.Background(), id, "")
	require.NoError(t, err)
	assert.Equal(t, enums.WORKFLOW_EXECUTION_STATUS_RUNNING, desc.GetWorkflowExecutionInfo().GetStatus(), "the running promotion goes on")
}
