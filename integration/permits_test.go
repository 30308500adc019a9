package integration

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imscopy/imscopy/imsapi/imsemu"
	"github.com/imscopy/imscopy/workflows/copyimage"
	"github.com/imscopy/imscopy/workflows/promote"
)

// peakCrossRegion is the most cross-region copy jobs the emulator ever ran at once.
func peakCrossRegion(jobs []imsemu.AdminJob) int {
	var cross []imsemu.AdminJob
	for _, j := range jobs {
		if j.TargetRegion != "" {
			cross = append(cross, j)
		}
	}
	return imsemu.PeakConcurrent(cross)
}

// 12 cross-region targets in 3 promotions started at once, on two workers, one of them killed by
// kill -9 midway: every target is done, IMS never ran more than its 5 cross-region copies at once and
// never refused one (IMG.0149), and no permit was lost (the last targets finish).
func TestCrossRegionPermitsHoldIMSsLimit(t *testing.T) {
	t.Parallel()
	r := newPromotionRig(t, 4*time.Second, imsemu.Faults{})
	first := r.startWorker()
	r.startWorker()
	c := r.client()
	east := imsemu.DefaultRegions[1].Name
	var runs []interface{ GetID() string }
	var wg sync.WaitGroup
	reports := make([]promote.Report, 3)
	errs := make([]error, 3)
	for i := range 3 {
		plan := promote.Plan{Name: fmt.Sprintf("itest-limit-%d", i), AgencyName: "ims_admin_agency",
			Source: promote.Source{Region: imsemu.DefaultRegions[0].Name, ImageID: imsemu.SeedImageID}}
		for j := range 4 {
			plan.Targets = append(plan.Targets, promote.Target{Region: east, Name: fmt.Sprintf("itest-limit-%d-%d", i, j)})
		}
		run := r.promote(c, plan)
		runs = append(runs, run)
		wg.Add(1)
		go func() {
			defer wg.Done()
			reports[i], errs[i] = promotionReport(t, run)
		}()
	}
	require.Eventually(t, func() bool {
		done := 0
		for _, j := range r.emu.Jobs() {
			if j.TargetRegion != "" && j.Status == "SUCCESS" {
				done++
			}
		}
		return done >= 4
	}, 3*time.Minute, 100*time.Millisecond, "a first wave of cross-region copies ends")
	first.Kill()
	wg.Wait()

	for i := range 3 {
		require.NoError(t, errs[i], "promotion %s", runs[i].GetID())
		for _, tr := range reports[i].Targets {
			assert.Equal(t, promote.StatusDone, tr.Status, "%s: %s", tr.Name, tr.Error)
		}
	}
	jobs := r.emu.Jobs()
	crossJobs := 0
	for _, j := range jobs {
		if j.TargetRegion != "" {
			crossJobs++
		}
	}
	assert.Equal(t, 12, crossJobs, "one cross-region copy per target")
	assert.LessOrEqual(t, peakCrossRegion(jobs), 5, "IMS never ran more than 5 cross-region copies at once")
	assert.LessOrEqual(t, r.emu.PeakCrossRegionCopies(), 5, "as the emulator counted them")
	assert.Zero(t, r.requests(imsemu.RouteCopyCrossRegion, 400), "IMS never refused a cross-region copy (IMG.0149)")
	t.Logf("peak cross-region copies at once: %d of 12 (emulator's count: %d)", peakCrossRegion(jobs), r.emu.PeakCrossRegionCopies())
}

// A cross-region copy cancelled with KeepFailedImages leaves its IMS job running (nothing deletes
// its image), and IMS counts that job against the tenant's limit: the copy keeps its permit until
// the job has ended. With one permit, a second copy waiting for it must not begin its job before
// the first one's job ended.
func TestACancelledCrossRegionCopyKeepsItsPermitUntilItsJobEnds(t *testing.T) {
	t.Parallel()
	r := newPromotionRig(t, 8*time.Second, imsemu.Faults{})
	r.startWorker("CROSS_REGION_COPIES=1")
	c := r.client()
	home, east := imsemu.DefaultRegions[0].Name, imsemu.DefaultRegions[1].Name
	cross := func(name string) copyimage.Input {
		return copyimage.Input{Region: home, SourceImageID: imsemu.SeedImageID, Name: name, TargetRegion: east,
			AgencyName: "ims_admin_agency", KeepFailedImages: true}
	}
	first := r.start(c, cross("itest-permit-kept"))
	require.Eventually(t, func() bool {
		js := r.jobsNamed("itest-permit-kept")
		return len(js) == 1 && js[0].Status == "RUNNING"
	}, 3*time.Minute, 50*time.Millisecond, "the first copy's job runs")
	second := r.start(c, cross("itest-permit-next"))
	r.waitProgress(c, second.GetID(), func(p copyimage.Progress) bool { return p.Phase == copyimage.PhaseAwaitingPermit })
	require.NoError(t, c.CancelWorkflow(context.Background(), first.GetID(), ""))

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	assert.Error(t, first.Get(ctx, nil), "the first copy ends cancelled")
	var res copyimage.Result
	require.NoError(t, second.Get(ctx, &res))

	kept, next := r.jobsNamed("itest-permit-kept"), r.jobsNamed("itest-permit-next")
	require.Len(t, kept, 1)
	require.Len(t, next, 1)
	require.False(t, kept[0].End.IsZero(), "the kept copy's job ended")
	assert.False(t, next[0].Begin.Before(kept[0].End),
		"the next copy's job began at %s, before the cancelled copy's job ended at %s: the permit went back too early", next[0].Begin, kept[0].End)
	assert.Len(t, r.liveImages("itest-permit-kept"), 1, "KeepFailedImages kept the cancelled copy's image")
}
