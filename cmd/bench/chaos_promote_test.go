package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"

	"github.com/imscopy/imscopy/imsapi/imsemu"
	"github.com/imscopy/imscopy/workflows/promote"
)

// Every chaos plan is one the workflow accepts, with the four kinds of target.
func TestChaosPlansAreValid(t *testing.T) {
	plans := chaosPlans(40, 1, 500, "7f3e2a1b-4c5d-4e6f-8a9b-0c1d2e3f4a5b")
	require.Len(t, plans, 40)
	for _, p := range plans {
		require.NoError(t, p.Validate())
		assert.GreaterOrEqual(t, len(p.Targets), minPromotionTarget)
		assert.LessOrEqual(t, len(p.Targets), maxPromotionTarget)
		for _, tg := range p.Targets {
			assert.GreaterOrEqual(t, copyIndex(tg.Name), 500, "after the copies' durations")
		}
	}
}

// The promotion check on one promotion of two targets (a done cross-region shared one and a
// failed encrypted two-hop one), first as it should end, then with each thing that can go wrong.
func TestChaosPromotionCheckFindsWhatWasLost(t *testing.T) {
	home, east := imsemu.DefaultRegions[0].Name, imsemu.DefaultRegions[1].Name
	plan := promote.Plan{Name: "bench-promo-release-0", AgencyName: "a", Source: promote.Source{Region: home, ImageID: imsemu.SeedImageID},
		Targets: []promote.Target{
			{Region: east, Name: "bench-promo-1", ShareWith: []string{chaosRecipient}, Accept: true},
			{Region: east, Name: "bench-promo-2", CMKID: "7f3e2a1b-4c5d-4e6f-8a9b-0c1d2e3f4a5b"},
		}}
	good := func() (map[string]promotionOutcome, []imsemu.AdminJob, []imsemu.AdminImage) {
		outcome := promotionOutcome{status: enums.WORKFLOW_EXECUTION_STATUS_FAILED, report: promote.Report{Targets: []promote.TargetReport{
			{Status: promote.StatusDone, ImageID: "img-1"},
			{Status: promote.StatusFailed, Step: promote.StepReencrypt, ErrorCode: "IMG.0008", FailReason: "copy failed"},
		}}}
		jobs := []imsemu.AdminJob{
			{Type: "imsCopyImageCrossRegionJob", ImageName: "bench-promo-1", Status: "SUCCESS"},
			{Type: "imsCopyImageCrossRegionJob", ImageName: "bench-promo-2" + hopSuffix, Status: "SUCCESS"},
			{Type: "imsCopyImageInRegionJob", ImageName: "bench-promo-2", Status: "FAIL", ErrorCode: "IMG.0008", FailReason: "copy failed"},
		}
		images := []imsemu.AdminImage{
			{ID: "img-1", Name: "bench-promo-1", Region: east, Status: "active", Members: []imsemu.AdminMember{{ProjectID: chaosRecipient, Status: "accepted"}}},
			{ID: "img-hop", Name: "bench-promo-2" + hopSuffix, Region: east, Status: "deleted"},
			{ID: "img-2", Name: "bench-promo-2", Region: east, Status: "deleted"},
		}
		return map[string]promotionOutcome{promote.ID(plan): outcome}, jobs, images
	}
	run := func(edit func(map[string]promotionOutcome, *[]imsemu.AdminJob, []imsemu.AdminImage), refusals int) []string {
		outcomes, jobs, images := good()
		edit(outcomes, &jobs, images)
		var rep chaosReport
		checkPromotions(&rep, []promote.Plan{plan}, outcomes, jobs, images, 5, refusals, 5)
		return rep.Violations
	}
	none := func(map[string]promotionOutcome, *[]imsemu.AdminJob, []imsemu.AdminImage) {}
	assert.Empty(t, run(none, 0))

	for name, c := range map[string]struct {
		edit     func(map[string]promotionOutcome, *[]imsemu.AdminJob, []imsemu.AdminImage)
		refusals int
		says     string
	}{
		"the promotion never closed": {func(o map[string]promotionOutcome, _ *[]imsemu.AdminJob, _ []imsemu.AdminImage) {
			delete(o, promote.ID(plan))
		}, 0, "never closed"},
		"an intermediate left behind": {func(_ map[string]promotionOutcome, _ *[]imsemu.AdminJob, im []imsemu.AdminImage) {
			im[1].Status = "active"
		}, 0, "intermediate image img-hop is left behind"},
		"a failed target's image left behind": {func(_ map[string]promotionOutcome, _ *[]imsemu.AdminJob, im []imsemu.AdminImage) {
			im[2].Status = "active"
		}, 0, "left image img-2"},
		"a done target not accepted": {func(_ map[string]promotionOutcome, _ *[]imsemu.AdminJob, im []imsemu.AdminImage) {
			im[0].Members[0].Status = "pending"
		}, 0, "has not accepted"},
		"a done target's image is another": {func(o map[string]promotionOutcome, _ *[]imsemu.AdminJob, _ []imsemu.AdminImage) {
			o[promote.ID(plan)].report.Targets[0].ImageID = "img-9"
		}, 0, "the report names image img-9"},
		"a duplicate copy job": {func(_ map[string]promotionOutcome, j *[]imsemu.AdminJob, _ []imsemu.AdminImage) {
			*j = append(*j, imsemu.AdminJob{Type: "imsCopyImageCrossRegionJob", ImageName: "bench-promo-1", Status: "SUCCESS"})
		}, 0, "2 copy jobs"},
		"IMS's reason missing": {func(o map[string]promotionOutcome, _ *[]imsemu.AdminJob, _ []imsemu.AdminImage) {
			o[promote.ID(plan)].report.Targets[1].FailReason = ""
		}, 0, "does not carry IMS's reason"},
		"failed though no job did": {func(_ map[string]promotionOutcome, j *[]imsemu.AdminJob, _ []imsemu.AdminImage) {
			(*j)[2].Status = "SUCCESS"
		}, 0, "none of its IMS jobs did"},
		"a refusal": {none, 1, "IMG.0149"},
	} {
		t.Run(name, func(t *testing.T) {
			v := run(c.edit, c.refusals)
			require.NotEmpty(t, v)
			assert.True(t, strings.Contains(strings.Join(v, "\n"), c.says), "%v", v)
		})
	}
}
