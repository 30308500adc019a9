package promote

import (
	"context"
	"fmt"
	"hash/fnv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/imscopy/imscopy/activities"
	"github.com/imscopy/imscopy/internal/testkit"
	"github.com/imscopy/imscopy/workflows/copyimage"
	"github.com/imscopy/imscopy/workflows/permit"
)

const (
	sourceID  = "465076de-dc36-4aec-80f5-ef9d8009428f"
	eastKey   = "7c7e0a1e-0000-4000-8000-000000000001"
	northKey  = "bd66288c-9081-460a-8227-4cbd0c814cb4"
	recipient = "5c2e8f0d4a7b4e1f9c3d2b6a8e0f1a24"
)

// threeTargets is the README's promotion: in-region encrypted, cross-region shared and accepted,
// cross-region encrypted (two hops).
func threeTargets() Plan {
	return Plan{
		Name: "golden-2026.12", Source: Source{Region: "cn-north-4", ImageID: sourceID}, AgencyName: "ims_admin_agency",
		Targets: []Target{
			{Region: "cn-north-4", CMKID: northKey},
			{Region: "cn-east-3", ShareWith: []string{recipient}, Accept: true},
			{Region: "ap-southeast-1", CMKID: eastKey},
		},
	}
}

// fakeIMS answers the activities as IMS would for copies that all succeed, and records what was
// asked: the test environment runs the real workflows (PromoteImage, PromoteTarget, CopyImage)
// over it.
type fakeIMS struct {
	t          *testing.T
	mu         sync.Mutex
	submits    []activities.SubmitCopyInput
	deleted    []activities.CleanupInput
	accepted   []activities.AcceptInput
	members    map[string]string // project -> status
	failJob    string            // the copy job that fails
	failDelete bool              // every clean-up fails, as when IMS refuses the delete
	// reencrypted are the finished two-hop images by region/name, as FindReencrypted finds them.
	reencrypted map[string]activities.FoundImage
}

// imageOf is the fake's image ID of a copy: a UUID derived from its name and region.
func imageOf(name, region string) string {
	h := fnv.New64a()
	h.Write([]byte(region + "/" + name))
	sum := h.Sum64()
	return fmt.Sprintf("%08x-0000-4000-8000-%012x", uint32(sum>>32), sum&0xffffffffffff)
}

func (f *fakeIMS) install(env *testsuite.TestWorkflowEnvironment, a *activities.Activities) {
	env.OnActivity(a.CheckPromotion, mock.Anything, mock.Anything).Return(nil)
	// Every cross-region copy gets its permit at once; this test is not about the limit.
	env.OnActivity(a.RequestPermit, mock.Anything, mock.Anything).Return(func(_ context.Context, r permit.Request) error {
		env.RegisterDelayedCallback(func() {
			require.NoError(f.t, env.SignalWorkflowByID(r.Holder, permit.GrantedSignal, r.RequestID))
		}, time.Second)
		return nil
	})
	env.OnSignalExternalWorkflow(mock.Anything, mock.Anything, "", permit.ReleaseSignal, mock.Anything).Return(nil)
	env.OnActivity(a.FindReencrypted, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.FindReencryptedInput) (activities.FoundImage, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			return f.reencrypted[in.Region+"/"+in.Name], nil
		})
	env.OnActivity(a.SubmitCopy, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.SubmitCopyInput) (activities.SubmitCopyResult, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.submits = append(f.submits, in)
			region := in.Region
			if in.TargetRegion != "" {
				region = in.TargetRegion
			}
			return activities.SubmitCopyResult{JobID: "job|" + in.Request.Name + "|" + region}, nil
		})
	env.OnActivity(a.PollJob, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.PollJobInput) (activities.PollJobResult, error) {
			if in.MemberJob {
				return activities.PollJobResult{Status: "SUCCESS"}, nil
			}
			var name, region string
			_, _ = fmt.Sscanf(replaceBars(in.JobID), "job %s %s", &name, &region)
			if in.JobID == f.failJob {
				return activities.PollJobResult{}, temporal.NewNonRetryableApplicationError("IMS copy job failed: IMG.0008: disk error",
					activities.ErrCopyFailed, nil, activities.CopyFailure{JobID: in.JobID, ImageID: imageOf(name, region),
						ErrorCode: "IMG.0008", FailReason: "disk error"})
			}
			return activities.PollJobResult{ImageID: imageOf(name, region), Status: "SUCCESS"}, nil
		})
	env.OnActivity(a.VerifyImage, mock.Anything, mock.Anything).Return(nil)
	env.OnActivity(a.CleanupCopy, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.CleanupInput) error {
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.failDelete {
			return temporal.NewNonRetryableApplicationError("DeleteImage: IMS answered 403 IMG.0403", activities.ErrIMSForbidden, nil)
		}
		f.deleted = append(f.deleted, in)
		return nil
	})
	env.OnActivity(a.ShareImage, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.ShareInput) (activities.ShareResult, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, p := range in.Projects {
			f.members[p] = "pending"
		}
		return activities.ShareResult{JobID: "member-job", Added: in.Projects}, nil
	})
	env.OnActivity(a.ListImageMembers, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.MembersInput) ([]activities.MemberState, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		var out []activities.MemberState
		for p, s := range f.members {
			out = append(out, activities.MemberState{ProjectID: p, Status: s})
		}
		return out, nil
	})
	env.OnActivity(a.AcceptShare, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.AcceptInput) error {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.accepted = append(f.accepted, in)
		f.members[in.ProjectID] = "accepted"
		return nil
	})
}

func replaceBars(s string) string {
	out := []rune(s)
	for i, r := range out {
		if r == '|' {
			out[i] = ' '
		}
	}
	return string(out)
}

func newEnv(t *testing.T) (*testsuite.TestWorkflowEnvironment, *fakeIMS) {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	a := &activities.Activities{}
	copyimage.Register(env)
	permit.Register(env)
	env.RegisterActivity(a)
	Register(env)
	f := &fakeIMS{t: t, members: map[string]string{}, reencrypted: map[string]activities.FoundImage{}}
	f.install(env, a)
	return env, f
}

func TestPromotionTakesTheImageToEveryTarget(t *testing.T) {
	env, ims := newEnv(t)
	env.ExecuteWorkflow(WorkflowName, Input{Plan: threeTargets()})

	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var report Report
	require.NoError(t, env.GetWorkflowResult(&report))
	require.Len(t, report.Targets, 3)
	for _, tr := range report.Targets {
		assert.Equal(t, StatusDone, tr.Status, "%s: %s", tr.Region, tr.Error)
		assert.Equal(t, StepDone, tr.Step)
	}
	assert.Equal(t, imageOf("golden-2026.12", "cn-north-4"), report.Targets[0].ImageID)
	assert.Equal(t, []Member{{ProjectID: recipient, Status: "accepted"}}, report.Targets[1].Members)
	assert.Equal(t, []activities.AcceptInput{{Region: "cn-east-3", ImageID: imageOf("golden-2026.12", "cn-east-3"), ProjectID: recipient}}, ims.accepted)

	// The encrypted target in another region: a plain cross-region hop, then the key in-region.
	hops := report.Targets[2]
	require.Len(t, hops.Images, 2)
	assert.Equal(t, ImageRecord{ID: imageOf("golden-2026.12-imscopy-hop", "ap-southeast-1"), Region: "ap-southeast-1",
		Role: RoleIntermediate, Fate: FateDeleted}, hops.Images[0])
	assert.Equal(t, ImageRecord{ID: imageOf("golden-2026.12", "ap-southeast-1"), Region: "ap-southeast-1", Role: RoleFinal, Fate: FateKept}, hops.Images[1])
	assert.Contains(t, ims.submits, activities.SubmitCopyInput{Region: "cn-north-4", TargetRegion: "ap-southeast-1", AgencyName: "ims_admin_agency",
		Request: copyimage.Input{SourceImageID: sourceID, Name: "golden-2026.12-imscopy-hop"}.CopyRequest()})
	assert.Contains(t, ims.submits, activities.SubmitCopyInput{Region: "ap-southeast-1",
		Request: copyimage.Input{SourceImageID: hops.Images[0].ID, Name: "golden-2026.12", CMKID: eastKey}.CopyRequest()})
	assert.Equal(t, []activities.CleanupInput{{Region: "ap-southeast-1", ImageID: hops.Images[0].ID}}, ims.deleted,
		"only the intermediate image is deleted")
	assert.Len(t, ims.submits, 4, "one copy per hop")
}

// One target's failed job fails that target only: the others are done, the promotion fails with
// the whole report, naming the target, its step and IMS's reason.
func TestAFailedTargetLeavesTheOthersDone(t *testing.T) {
	env, ims := newEnv(t)
	ims.failJob = "job|golden-2026.12|cn-east-3"
	env.ExecuteWorkflow(WorkflowName, Input{Plan: threeTargets()})

	require.True(t, env.IsWorkflowCompleted())
	err := env.GetWorkflowError()
	app := testkit.AppError(t, err)
	assert.Equal(t, ErrPromotionFailed, app.Type())
	assert.Contains(t, app.Message(), "cn-east-3")
	assert.Contains(t, app.Message(), "IMG.0008")
	var report Report
	require.NoError(t, app.Details(&report))
	require.Len(t, report.Targets, 3)
	assert.Equal(t, StatusDone, report.Targets[0].Status)
	assert.Equal(t, StatusDone, report.Targets[2].Status)
	failed := report.Targets[1]
	assert.Equal(t, StatusFailed, failed.Status)
	assert.Equal(t, StepCopy, failed.Step)
	assert.Equal(t, activities.ErrCopyFailed, failed.ErrorType)
	assert.Equal(t, "IMG.0008", failed.ErrorCode)
	assert.Equal(t, "disk error", failed.FailReason)
	assert.Equal(t, []ImageRecord{{ID: imageOf("golden-2026.12", "cn-east-3"), Region: "cn-east-3", Role: RoleFinal, Fate: FateDeleted}},
		failed.Images, "the failed copy deleted its image")
	assert.Empty(t, ims.accepted, "nothing shared or accepted for the failed target")
	for _, d := range ims.deleted {
		assert.NotEqual(t, sourceID, d.ImageID, "the source is never touched")
	}
}

// A failed target whose copy could not delete its image reports that image left, not deleted:
// the report is what a person reads to find what still costs quota.
func TestAFailedCopysImageThatCouldNotBeDeletedIsReportedLeft(t *testing.T) {
	env, ims := newEnv(t)
	ims.failJob, ims.failDelete = "job|golden-2026.12|cn-north-4", true
	p := threeTargets()
	p.Targets = p.Targets[:1]
	env.ExecuteWorkflow(WorkflowName, Input{Plan: p})

	require.True(t, env.IsWorkflowCompleted())
	app := testkit.AppError(t, env.GetWorkflowError())
	var report Report
	require.NoError(t, app.Details(&report))
	assert.Equal(t, []ImageRecord{{ID: imageOf("golden-2026.12", "cn-north-4"), Region: "cn-north-4", Role: RoleFinal, Fate: FateLeft}},
		report.Targets[0].Images)
}

// A bad plan fails before any activity, naming the target and field.
func TestABadPlanFailsBeforeAnyActivity(t *testing.T) {
	env, ims := newEnv(t)
	p := threeTargets()
	p.Targets[1].CMKID = eastKey // encrypted and shared
	env.ExecuteWorkflow(WorkflowName, Input{Plan: p})

	app := testkit.AppError(t, env.GetWorkflowError())
	assert.Equal(t, activities.ErrInvalidInput, app.Type())
	assert.Contains(t, app.Message(), "targets[1] (cn-east-3) share_with")
	assert.Empty(t, ims.submits)
}

// A rerun finds a finished two-hop target by its final image (its intermediate is gone) and copies
// nothing; one whose second hop was under way waits for it through its own intermediate.
func TestARerunFindsTheTwoHopTargetsImage(t *testing.T) {
	p := threeTargets()
	p.Targets = p.Targets[2:]
	final := imageOf("golden-2026.12", "ap-southeast-1")

	env, ims := newEnv(t)
	ims.reencrypted["ap-southeast-1/golden-2026.12"] = activities.FoundImage{ID: final, Status: "active"}
	env.ExecuteWorkflow(WorkflowName, Input{Plan: p})
	require.NoError(t, env.GetWorkflowError())
	var report Report
	require.NoError(t, env.GetWorkflowResult(&report))
	assert.Equal(t, StatusDone, report.Targets[0].Status)
	assert.True(t, report.Targets[0].Adopted)
	assert.Equal(t, final, report.Targets[0].ImageID)
	assert.Empty(t, ims.submits, "nothing copied")
	assert.Empty(t, ims.deleted, "nothing deleted")

	env, ims = newEnv(t)
	hop := imageOf("golden-2026.12-imscopy-hop", "ap-southeast-1")
	ims.reencrypted["ap-southeast-1/golden-2026.12"] = activities.FoundImage{ID: final, Status: "saving", SourceImageID: hop}
	env.ExecuteWorkflow(WorkflowName, Input{Plan: p})
	require.NoError(t, env.GetWorkflowError())
	require.Len(t, ims.submits, 1, "only the second hop's copy runs, and adopts")
	assert.Equal(t, hop, ims.submits[0].Request.SourceImageID)
	assert.Equal(t, []activities.CleanupInput{{Region: "ap-southeast-1", ImageID: hop}}, ims.deleted, "then the intermediate goes")
}
