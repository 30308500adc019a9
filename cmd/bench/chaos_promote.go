package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/imscopy/imscopy/activities"
	"github.com/imscopy/imscopy/imsapi/imsemu"
	"github.com/imscopy/imscopy/workflows/promote"
)

// Promotions in a chaos run: each has 3 to 6 targets of the four kinds a release has, among the
// copies and under the same faults and kills, and must lose nothing either.
const (
	promoStrategy      = "promo" // target images are bench-promo-<i>
	chaosRecipient     = "9a1b2c3d4e5f40718293a4b5c6d7e8f9"
	minPromotionTarget = 3
	maxPromotionTarget = 6
	// hopSuffix is how the promotion names the intermediate image of an encrypted target in
	// another region (promote's intermediateSuffix); the check finds leftover hops by it.
	hopSuffix = "-imscopy-hop"
)

// chaosPlans are the chaos run's promotions: promotion k has 3-6 targets (seeded), cycling
// through an in-region encrypted target, a cross-region one shared with and accepted in another
// project, a cross-region encrypted one (two hops) and a plain cross-region one. Target images
// are numbered from first on, so the emulator gives each its own seeded job duration.
func chaosPlans(n int, seed uint64, first int, eastKey string) []promote.Plan {
	home, east := imsemu.DefaultRegions[0].Name, imsemu.DefaultRegions[1].Name
	r := rand.New(rand.NewPCG(seed, 0x70726f6d))
	plans := make([]promote.Plan, n)
	next := first
	for k := range plans {
		p := promote.Plan{Name: fmt.Sprintf("%s-%s-release-%d", jobNameStem, promoStrategy, k), AgencyName: "ims_admin_agency",
			Source: promote.Source{Region: home, ImageID: imsemu.SeedImageID}}
		for j := range minPromotionTarget + r.IntN(maxPromotionTarget-minPromotionTarget+1) {
			t := promote.Target{Name: copyName(promoStrategy, next)}
			next++
			switch j % 4 {
			case 0:
				t.Region, t.CMKID = home, imsemu.SeedKMSKeyID
			case 1:
				t.Region, t.ShareWith, t.Accept = east, []string{chaosRecipient}, true
			case 2:
				t.Region, t.CMKID = east, eastKey
			case 3:
				t.Region = east
			}
			p.Targets = append(p.Targets, t)
		}
		plans[k] = p
	}
	return plans
}

// promotionTargets counts the targets of plans.
func promotionTargets(plans []promote.Plan) int {
	n := 0
	for _, p := range plans {
		n += len(p.Targets)
	}
	return n
}

func startChaosPromotions(ctx context.Context, c client.Client, plans []promote.Plan) error {
	var errs error
	for _, p := range plans {
		_, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: promote.ID(p), TaskQueue: benchTaskQueue,
			WorkflowIDReusePolicy: enums.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE}, promote.WorkflowName, promote.Input{Plan: p})
		if err != nil {
			errs = errors.Join(errs, fmt.Errorf("start %s: %w", p.Name, err))
		}
	}
	return errs
}

// promotionOutcome is how one promotion closed, with its report (from its result, or from its
// failure's details).
type promotionOutcome struct {
	status enums.WorkflowExecutionStatus
	report promote.Report
	err    error
}

// waitPromotions waits for every promotion to close, riding out the server's restart as waitAll does.
func waitPromotions(ctx context.Context, c client.Client, plans []promote.Plan) map[string]promotionOutcome {
	ids := make([]string, len(plans))
	for i, p := range plans {
		ids[i] = promote.ID(p)
	}
	return waitClosed(ctx, c, ids, closedPromotion)
}

// closedPromotion reads a closed promotion's outcome as closedOutcome does a copy's, its report from
// its result or its failure's details.
func closedPromotion(status enums.WorkflowExecutionStatus, rep promote.Report, err error) (promotionOutcome, bool) {
	var wee *temporal.WorkflowExecutionError
	switch {
	case status == enums.WORKFLOW_EXECUTION_STATUS_COMPLETED && err != nil:
		return promotionOutcome{}, false
	case status != enums.WORKFLOW_EXECUTION_STATUS_COMPLETED && !errors.As(err, &wee):
		return promotionOutcome{}, false
	}
	var app *temporal.ApplicationError
	if err != nil && errors.As(err, &app) && app.HasDetails() {
		_ = app.Details(&rep)
	}
	return promotionOutcome{status: status, report: rep, err: err}, true
}

// promotionFigures are what the check counted.
type promotionFigures struct {
	Promotions, Targets, Done, Failed int
	ReasonLost                        int // failed targets whose IMS reason was lost with a lost answer
	PeakCrossRegion                   int
	CrossRegionRefusals               int // IMG.0149 answers (400 on the cross-region copy route)
}

// checkPromotions applies the "nothing lost" invariants to the promotions: every promotion closed
// with a report of every target; a done target has exactly one live image, the reported one,
// encrypted as planned and with its members accepted; a failed target failed because an IMS job
// did, with IMS's reason (or says the reason was lost with a lost answer), and left no live image;
// no intermediate (two-hop) image is left anywhere; IMS never ran one copy twice; no more than
// limit cross-region copies ran at once and IMS refused none (the permits held).
func checkPromotions(rep *chaosReport, plans []promote.Plan, outcomes map[string]promotionOutcome, jobs []imsemu.AdminJob,
	images []imsemu.AdminImage, peak, refusals, limit int) {
	violate := func(format string, args ...any) {
		rep.Violations = append(rep.Violations, fmt.Sprintf(format, args...))
	}
	f := &rep.Promotion
	f.Promotions, f.PeakCrossRegion, f.CrossRegionRefusals = len(plans), peak, refusals
	jobsByName := map[string][]imsemu.AdminJob{}
	for _, j := range jobs {
		if strings.HasPrefix(j.ImageName, jobNameStem+"-"+promoStrategy+"-") && strings.Contains(j.Type, "CopyImage") {
			jobsByName[j.ImageName] = append(jobsByName[j.ImageName], j)
		}
	}
	for name, js := range jobsByName {
		if len(js) > 1 {
			violate("promotion image %s: IMS ran %d copy jobs for it (a duplicate submission)", name, len(js))
		}
	}
	live := map[string][]imsemu.AdminImage{} // region/name -> live images
	for _, img := range images {
		if strings.HasPrefix(img.Name, jobNameStem+"-"+promoStrategy+"-") && img.Status != "deleted" {
			live[img.Region+"/"+img.Name] = append(live[img.Region+"/"+img.Name], img)
			if strings.HasSuffix(img.Name, hopSuffix) {
				violate("%s in %s: intermediate image %s is left behind (an orphan)", img.Name, img.Region, img.ID)
			}
		}
	}
	for _, p := range plans {
		id := promote.ID(p)
		oc, ok := outcomes[id]
		if !ok {
			violate("%s: the promotion never closed", id)
			continue
		}
		switch oc.status {
		case enums.WORKFLOW_EXECUTION_STATUS_COMPLETED, enums.WORKFLOW_EXECUTION_STATUS_FAILED:
		default:
			violate("%s: the promotion closed as %s", id, oc.status)
			continue
		}
		if len(oc.report.Targets) != len(p.Targets) {
			violate("%s: closed %s with a report of %d targets, want %d: %v", id, oc.status, len(oc.report.Targets), len(p.Targets), oc.err)
			continue
		}
		if failed := oc.report.Failed(); (failed > 0) != (oc.status == enums.WORKFLOW_EXECUTION_STATUS_FAILED) {
			violate("%s: closed %s with %d targets not done", id, oc.status, failed)
		}
		for i, t := range p.Targets {
			tr := oc.report.Targets[i]
			f.Targets++
			key := t.Region + "/" + t.ImageName(p)
			imgs := live[key]
			switch tr.Status {
			case promote.StatusDone:
				f.Done++
				checkDoneTarget(violate, key, t, tr, imgs)
			case promote.StatusFailed:
				f.Failed++
				if checkFailedTarget(violate, key, tr, jobsByName[t.ImageName(p)], jobsByName[t.ImageName(p)+hopSuffix]) {
					f.ReasonLost++
				}
				if len(imgs) > 0 {
					violate("%s: the target failed but left image %s (an orphan)", key, imgs[0].ID)
				}
			default:
				violate("%s: the target ended %s in step %s: %s", key, tr.Status, tr.Step, tr.Error)
			}
		}
	}
	planned := plannedKeys(plans)
	for key, imgs := range live {
		if _, ok := planned[key]; !ok && !strings.HasSuffix(key, hopSuffix) {
			violate("%s: image %s belongs to no target (an orphan)", key, imgs[0].ID)
		}
	}
	if peak > limit {
		violate("IMS ran %d cross-region copies at once, above the %d permits", peak, limit)
	}
	if refusals > 0 {
		violate("IMS refused %d cross-region copies (IMG.0149): the permits did not hold", refusals)
	}
	sort.Strings(rep.Violations)
}

func plannedKeys(plans []promote.Plan) map[string]struct{} {
	out := map[string]struct{}{}
	for _, p := range plans {
		for _, t := range p.Targets {
			out[t.Region+"/"+t.ImageName(p)] = struct{}{}
		}
	}
	return out
}

func checkDoneTarget(violate func(string, ...any), key string, t promote.Target, tr promote.TargetReport, imgs []imsemu.AdminImage) {
	switch {
	case len(imgs) != 1:
		violate("%s: the target is done but %d live images have its name (want exactly 1)", key, len(imgs))
		return
	case imgs[0].ID != tr.ImageID:
		violate("%s: the report names image %s but the live image is %s", key, tr.ImageID, imgs[0].ID)
	case imgs[0].CMKID != t.CMKID:
		violate("%s: image %s is encrypted with %q, the plan says %q", key, imgs[0].ID, imgs[0].CMKID, t.CMKID)
	}
	for _, want := range t.ShareWith {
		accepted := false
		for _, m := range imgs[0].Members {
			accepted = accepted || (m.ProjectID == want && m.Status == "accepted")
		}
		if !accepted {
			violate("%s: the target is done but project %s has not accepted image %s (members %v)", key, want, imgs[0].ID, imgs[0].Members)
		}
	}
}

// checkFailedTarget requires a failed target to have failed because one of its IMS copy jobs did,
// with IMS's code and reason in its report, or saying that the reason was lost with the answer
// that named the job; it reports true for the latter.
func checkFailedTarget(violate func(string, ...any), key string, tr promote.TargetReport, final, hop []imsemu.AdminJob) (reasonLost bool) {
	var failedJob *imsemu.AdminJob
	for _, j := range append(append([]imsemu.AdminJob(nil), final...), hop...) {
		if j.Status == "FAIL" {
			failedJob = &j
		}
	}
	if failedJob == nil {
		violate("%s: the target failed in step %s although none of its IMS jobs did: %s: %s", key, tr.Step, tr.ErrorType, tr.Error)
		return false
	}
	if strings.Contains(tr.Error, activities.ReasonLostText) {
		return true
	}
	if tr.ErrorCode != failedJob.ErrorCode || tr.FailReason != failedJob.FailReason {
		violate("%s: the report does not carry IMS's reason (%s %q): %s %q: %s", key, failedJob.ErrorCode, failedJob.FailReason, tr.ErrorCode, tr.FailReason, tr.Error)
	}
	return false
}
