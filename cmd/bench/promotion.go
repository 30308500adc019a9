package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/imscopy/imscopy/imsapi"
	"github.com/imscopy/imscopy/imsapi/imsclient"
	"github.com/imscopy/imscopy/imsapi/imsemu"
	"github.com/imscopy/imscopy/workflows/promote"
)

// `bench promote` runs one release's cross-region targets twice on the same seeded job durations:
// by imscopy's promotions, which hold one of the tenant's cross-region permits per copy, and by a
// naive fan-out that starts every copy at once and retries each IMG.0149 refusal after a fixed
// wait, as a Terraform for_each with retries does. It reports each one's makespan against the
// lower bound no scheduler can beat, the refusals and the IMS calls per target.

// The runners, in the order of the report.
const (
	runnerImscopy = "imscopy"
	runnerNaive   = "naive"
)

var allRunners = []string{runnerImscopy, runnerNaive}

// promotionRegions are the bench's emulator regions: the source, then the targets' regions.
var promotionRegions = []imsemu.Region{
	imsemu.DefaultRegions[0], imsemu.DefaultRegions[1],
	{Name: "cn-south-1", ProjectID: "8d1c5e7f2a3b4c6d9e0f1a2b3c4d5e6f"},
	{Name: "ap-southeast-1", ProjectID: "1f2e3d4c5b6a47988a9b0c1d2e3f4a5b"},
}

// promotionOptions are `bench promote`'s flags.
type promotionOptions struct {
	options
	targets    int
	promotions int
	runners    []string
	naiveWait  time.Duration // job time
	naiveEvery time.Duration // job time
	jobModel   string
	imageCopy  time.Duration // job time
}

// The job models of `bench promote`.
const (
	// jobModelRelease: every target copies the same image, so a copy's duration is the image's
	// copy time, longer the farther the target region (regionFactors), spread by up to
	// releaseSpread either way as a cloud's load spreads it.
	jobModelRelease = "release"
	// jobModelIndependent: each copy's duration is drawn on its own from the benchmark's
	// distribution, as if every target copied another image.
	jobModelIndependent = "independent"
	releaseSpread       = 0.15
)

// regionFactors are the targets' regions' copy times relative to the nearest, in the order of
// promotionRegions[1:]: nearer regions copy faster.
var regionFactors = []float64{1, 1.25, 1.6}

// targetRegion is the region of target i: the regions other than the source's, in turn.
func targetRegion(i int) string { return promotionRegions[1+i%(len(promotionRegions)-1)].Name }

// promotionDurations are the targets' job durations in job time under o's job model.
func promotionDurations(o promotionOptions) []time.Duration {
	if o.jobModel == jobModelIndependent || len(o.fixed) > 0 {
		return jobDurations(o.targets, o.seed, o.fixed)
	}
	r := rand.New(rand.NewPCG(o.seed, 0x72656c))
	out := make([]time.Duration, o.targets)
	for i := range out {
		spread := 1 + releaseSpread*(2*r.Float64()-1)
		out[i] = time.Duration(float64(o.imageCopy) * regionFactors[i%len(regionFactors)] * spread).Round(time.Millisecond)
	}
	return out
}

func parsePromotionFlags(args []string) (promotionOptions, error) {
	fs := flag.NewFlagSet("bench promote", flag.ContinueOnError)
	o := promotionOptions{}
	var fixed, runners string
	fs.IntVar(&o.targets, "targets", 20, "cross-region targets in all")
	fs.IntVar(&o.promotions, "promotions", 4, "promotions the targets are dealt to, started at once (imscopy's runner)")
	fs.IntVar(&o.crossRegionCopies, "cross-region-copies", 5, "N: the tenant's cross-region copies at once, IMS's limit (the emulator refuses the next with IMG.0149) and imscopy's permits")
	fs.Float64Var(&o.scale, "scale", 20, "time scale: job durations and every interval are divided by it; times are reported in job time")
	fs.StringVar(&o.jobModel, "job-model", jobModelRelease, "how the copies' durations are drawn (seeded): "+jobModelRelease+
		" (the same image to every target: -image-copy times the region's factor 1, 1.25 or 1.6, spread by up to 15%) or "+jobModelIndependent+
		" (each drawn on its own from the copy benchmark's distribution, median 60 s, 5th-95th percentile 15-600 s)")
	fs.DurationVar(&o.imageCopy, "image-copy", 10*time.Minute, "the release model's copy time of the image to the nearest region, in job time")
	fs.StringVar(&fixed, "job-duration", "", "fixed job duration(s) in job time, e.g. 300s or 60s,600s (copies cycle through the list); overrides -job-model")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the job durations and of the emulator")
	fs.StringVar(&runners, "runners", strings.Join(allRunners, ","), "comma list of runners: "+strings.Join(allRunners, ", "))
	fs.DurationVar(&o.naiveWait, "naive-wait", time.Minute, "the naive fan-out's fixed wait before it retries a refused copy, in job time")
	fs.DurationVar(&o.naiveEvery, "naive-every", terraformEvery, "the naive fan-out's polling interval (and first delay), in job time: Terraform's")
	fs.StringVar(&o.out, "out", "bench-results/promote", "folder for results.json and the children's logs")
	fs.StringVar(&o.dataDir, "data-dir", os.TempDir(), "where the Temporal server's database goes, SQLite's files or the cluster's PostgreSQL (a fresh folder inside it, removed at the end)")
	addTemporalFlags(fs, &o.options)
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q; every option is a flag (bench promote -h lists them)", fs.Arg(0))
	}
	if err := checkTemporal(o.options); err != nil {
		return o, err
	}
	switch {
	case o.targets < 1 || o.promotions < 1 || o.crossRegionCopies < 1:
		return o, errors.New("-targets, -promotions and -cross-region-copies must be at least 1")
	case o.scale <= 0:
		return o, fmt.Errorf("-scale %v: want a positive number (1 is real time)", o.scale)
	case o.naiveWait <= 0 || o.naiveEvery <= 0 || o.imageCopy <= 0:
		return o, errors.New("-naive-wait, -naive-every and -image-copy must be positive")
	case o.jobModel != jobModelRelease && o.jobModel != jobModelIndependent:
		return o, fmt.Errorf("-job-model %q: want %s or %s", o.jobModel, jobModelRelease, jobModelIndependent)
	}
	for _, s := range strings.Split(runners, ",") {
		s = strings.TrimSpace(s)
		if !slices.Contains(allRunners, s) {
			return o, fmt.Errorf("-runners: %q is not a runner; choose from %s", s, strings.Join(allRunners, ", "))
		}
		o.runners = append(o.runners, s)
	}
	o.progress, o.regions = "realistic", promotionRegions
	var err error
	o.fixed, err = parseDurations(fixed)
	return o, err
}

// runnerResult is one runner's measurements; times are in job time.
type runnerResult struct {
	Runner         string  `json:"runner"`
	Targets        int     `json:"targets"`
	Done           int     `json:"done"`
	MakespanS      float64 `json:"makespan_s"`
	LowerBoundS    float64 `json:"lower_bound_s"`
	Ratio          float64 `json:"ratio"`
	Refusals       int     `json:"img0149_refusals"`
	IMSCalls       int     `json:"ims_calls"`
	CallsPerTarget float64 `json:"ims_calls_per_target"`
	StatusCalls    float64 `json:"status_calls_per_target"`
	PeakCopies     int     `json:"peak_cross_region_copies"`
	// HandoffS is how long, on average, a freed cross-region slot stayed empty before the next
	// copy began in it (job time), over the copies that waited for a slot: the cost of noticing
	// a job's end and passing its permit on.
	HandoffS float64  `json:"handoff_s"`
	Failures []string `json:"failures,omitempty"`
}

// promotionResults is results.json of `bench promote`.
type promotionResults struct {
	// Temporal is the Temporal server the run used (-temporal).
	Temporal          string         `json:"temporal_server"`
	Targets           int            `json:"targets"`
	Promotions        int            `json:"promotions"`
	CrossRegionCopies int            `json:"cross_region_copies"`
	Scale             float64        `json:"scale"`
	Seed              uint64         `json:"seed"`
	JobModel          string         `json:"job_model"`
	NaiveWaitS        float64        `json:"naive_wait_s"`
	NaiveEveryS       float64        `json:"naive_every_s"`
	LongestJobS       float64        `json:"longest_job_s"`
	TotalJobS         float64        `json:"total_job_s"`
	LowerBoundS       float64        `json:"lower_bound_s"`
	Runners           []runnerResult `json:"runners"`
}

// lowerBound is the shortest makespan any scheduler could reach with n copies at once: the
// longest job, or all the job time shared by n, whichever is larger.
func lowerBound(durations []time.Duration, n int) time.Duration {
	var total, longest time.Duration
	for _, d := range durations {
		total += d
		longest = max(longest, d)
	}
	return max(longest, total/time.Duration(n))
}

func promotionMain(ctx context.Context, args []string) error {
	o, err := parsePromotionFlags(args)
	if err != nil {
		return err
	}
	durations := promotionDurations(o)
	emuDurations := make([]time.Duration, len(durations))
	for i, d := range durations {
		emuDurations[i] = scaled(d, o.scale)
	}
	limits := imsemu.Limits{CrossRegionCopiesPerTenant: o.crossRegionCopies}
	r, err := startRigWith(ctx, o.options, 1, emuDurations, imsemu.Faults{ThrottlePerSecond: 200 * o.scale}, limits)
	defer r.close()
	if err != nil {
		return err
	}
	res := promotionResults{Temporal: o.temporal, Targets: o.targets, Promotions: o.promotions, CrossRegionCopies: o.crossRegionCopies,
		Scale: o.scale, Seed: o.seed, JobModel: o.jobModel, NaiveWaitS: o.naiveWait.Seconds(), NaiveEveryS: o.naiveEvery.Seconds()}
	var total time.Duration
	for _, d := range durations {
		total += d
		res.LongestJobS = max(res.LongestJobS, d.Seconds())
	}
	res.TotalJobS = total.Seconds()
	bound := lowerBound(durations, o.crossRegionCopies)
	res.LowerBoundS = bound.Seconds()
	fmt.Fprintf(os.Stderr, "bench promote: %d cross-region targets, N=%d, scale %g; lower bound %.0f s (longest job %.0f s, all jobs %.0f s / %d)\n",
		o.targets, o.crossRegionCopies, o.scale, res.LowerBoundS, res.LongestJobS, res.TotalJobS, o.crossRegionCopies)
	for _, runner := range o.runners {
		before := r.emu.Counts()
		start := time.Now()
		fmt.Fprintf(os.Stderr, "bench promote: running %s\n", runner)
		var failures []string
		switch runner {
		case runnerImscopy:
			failures, err = runPromotions(ctx, r.client, o)
		case runnerNaive:
			failures, err = runNaive(ctx, r, o)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", runner, err)
		}
		wall := time.Since(start)
		rr := measureRunner(runner, o, wall, bound, before, r.emu.Counts(), r.emu.Jobs(), r.calls)
		rr.Failures = failures
		rr.Done = o.targets - len(failures)
		res.Runners = append(res.Runners, rr)
		fmt.Fprintf(os.Stderr, "bench promote: %s done in %s\n", runner, wall.Round(time.Second))
	}
	printPromotionTable(os.Stdout, res)
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	path := filepath.Join(o.out, "results.json")
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Printf("\nresults: %s\n", path)
	return promotionVerdict(res)
}

// promotionVerdict fails the run when imscopy lost a target, was refused, or ran more copies at
// once than the limit: those are bugs, not figures.
func promotionVerdict(res promotionResults) error {
	var errs []error
	for _, rr := range res.Runners {
		if rr.Runner != runnerImscopy {
			continue
		}
		if rr.Done != rr.Targets {
			errs = append(errs, fmt.Errorf("imscopy finished %d of %d targets: %s", rr.Done, rr.Targets, strings.Join(rr.Failures, "; ")))
		}
		if rr.Refusals > 0 {
			errs = append(errs, fmt.Errorf("IMS refused %d of imscopy's cross-region copies (IMG.0149): the permits did not hold", rr.Refusals))
		}
		if rr.PeakCopies > res.CrossRegionCopies {
			errs = append(errs, fmt.Errorf("imscopy ran %d cross-region copies at once, above N=%d", rr.PeakCopies, res.CrossRegionCopies))
		}
	}
	return errors.Join(errs...)
}

// promotionPlans deals the targets to o.promotions plans: target i goes to plan i mod P, into one
// of the regions other than the source's in turn, under its own name (bench-<runner>-<i>, which
// gives the emulator its job duration).
func promotionPlans(o promotionOptions, runner string) []promote.Plan {
	source := promotionRegions[0].Name
	plans := make([]promote.Plan, min(o.promotions, o.targets))
	for p := range plans {
		plans[p] = promote.Plan{Name: fmt.Sprintf("%s-%s-release-%d", jobNameStem, runner, p), AgencyName: "ims_admin_agency",
			Source: promote.Source{Region: source, ImageID: imsemu.SeedImageID}}
	}
	for i := range o.targets {
		p := &plans[i%len(plans)]
		p.Targets = append(p.Targets, promote.Target{Region: targetRegion(i), Name: copyName(runner, i)})
	}
	return plans
}

// runPromotions starts every plan at once and waits for all; it returns the targets that did not
// end done.
func runPromotions(ctx context.Context, c client.Client, o promotionOptions) ([]string, error) {
	plans := promotionPlans(o, runnerImscopy)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []string
	var errs error
	for _, plan := range plans {
		wg.Add(1)
		go func() {
			defer wg.Done()
			run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: promote.ID(plan), TaskQueue: benchTaskQueue},
				promote.WorkflowName, promote.Input{Plan: plan})
			if err != nil {
				mu.Lock()
				errs = errors.Join(errs, fmt.Errorf("start %s: %w", plan.Name, err))
				mu.Unlock()
				return
			}
			var report promote.Report
			err = run.Get(ctx, &report)
			var app *temporal.ApplicationError
			if err != nil && errors.As(err, &app) && app.HasDetails() {
				_ = app.Details(&report)
			} else if err != nil {
				mu.Lock()
				errs = errors.Join(errs, fmt.Errorf("%s: %w", plan.Name, err))
				mu.Unlock()
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for _, t := range report.Targets {
				if t.Status != promote.StatusDone {
					failures = append(failures, fmt.Sprintf("%s: %s in %s: %s", t.Name, t.Status, t.Step, t.Error))
				}
			}
		}()
	}
	wg.Wait()
	return failures, errs
}

// runNaive is the fan-out a Terraform for_each with retries amounts to: every target's copy is
// sent at once; a copy IMS refuses with IMG.0149 (or any other retryable answer) is sent again
// after the fixed wait; a started job is polled every naiveEvery, the first time naiveEvery after
// the start, as Terraform's provider does.
func runNaive(ctx context.Context, r *rig, o promotionOptions) ([]string, error) {
	cfg, err := imsConfig(r.ims)
	if err != nil {
		return nil, err
	}
	ims, err := imsclient.New(cfg)
	if err != nil {
		return nil, err
	}
	wait, every := scaled(o.naiveWait, o.scale), scaled(o.naiveEvery, o.scale)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []string
	for _, plan := range promotionPlans(o, runnerNaive) {
		for _, t := range plan.Targets {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := naiveCopy(ctx, ims.Home(), plan, t, wait, every); err != nil {
					mu.Lock()
					failures = append(failures, fmt.Sprintf("%s: %v", t.Name, err))
					mu.Unlock()
				}
			}()
		}
	}
	wg.Wait()
	return failures, ctx.Err()
}

func naiveCopy(ctx context.Context, home *imsclient.RegionClient, plan promote.Plan, t promote.Target, wait, every time.Duration) error {
	req := imsapi.CrossRegionCopyRequest{SourceImageID: plan.Source.ImageID, Name: t.Name, TargetRegion: t.Region, AgencyName: plan.AgencyName}
	var jobID string
	for {
		id, err := home.CopyCrossRegion(ctx, req)
		if err == nil {
			jobID = id
			break
		}
		var ie *imsapi.Error
		if !errors.As(err, &ie) || (ie.Code != "IMG.0149" && !ie.Class.Retryable()) {
			return err
		}
		if err := sleep(ctx, wait); err != nil {
			return err
		}
	}
	for {
		if err := sleep(ctx, every); err != nil {
			return err
		}
		job, err := home.GetJob(ctx, jobID)
		if err != nil {
			continue // Terraform's waiter tolerates a failed read and asks again
		}
		switch job.Status {
		case imsapi.JobSuccess:
			return nil
		case imsapi.JobFail:
			return fmt.Errorf("job %s failed: %s %s", jobID, job.ErrorCode, job.FailReason)
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// measureRunner turns a run's wall time and the emulator's counters into the runner's figures.
func measureRunner(runner string, o promotionOptions, wall, bound time.Duration, before, after []imsemu.RouteCount,
	jobs []imsemu.AdminJob, calls *jobCalls) runnerResult {
	rr := runnerResult{Runner: runner, Targets: o.targets}
	rr.MakespanS = wall.Seconds() * o.scale
	rr.LowerBoundS = bound.Seconds()
	rr.Ratio = rr.MakespanS / rr.LowerBoundS
	delta := countDelta(before, after)
	for _, c := range delta {
		rr.IMSCalls += c.Count
		if c.Route == imsemu.RouteCopyCrossRegion && c.Status == 400 {
			rr.Refusals += c.Count
		}
	}
	rr.CallsPerTarget = float64(rr.IMSCalls) / float64(o.targets)
	var mine []imsemu.AdminJob
	status := 0
	for _, j := range jobs {
		if j.TargetRegion != "" && strategyOf(j.ImageName) == runner {
			mine = append(mine, j)
			status += calls.get(j.ID)
		}
	}
	rr.StatusCalls = float64(status) / float64(o.targets)
	rr.PeakCopies = imsemu.PeakConcurrent(mine)
	rr.HandoffS = meanHandoff(mine, o.crossRegionCopies).Seconds() * o.scale
	return rr
}

// countDelta is after minus before, per region, route, status and key.
func countDelta(before, after []imsemu.RouteCount) []imsemu.RouteCount {
	type key struct {
		region, route, ak string
		status            int
	}
	seen := map[key]int{}
	for _, c := range before {
		seen[key{c.Region, c.Route, c.AK, c.Status}] = c.Count
	}
	var out []imsemu.RouteCount
	for _, c := range after {
		if n := c.Count - seen[key{c.Region, c.Route, c.AK, c.Status}]; n > 0 {
			c.Count = n
			out = append(out, c)
		}
	}
	return out
}

// meanHandoff is the mean time from a job's end to the begin of the next job that took its slot,
// over the jobs that began while n others were running before that end (they waited for a slot).
func meanHandoff(jobs []imsemu.AdminJob, n int) time.Duration {
	var ends []time.Time
	for _, j := range jobs {
		if !j.End.IsZero() {
			ends = append(ends, j.End)
		}
	}
	slices.SortFunc(ends, func(a, b time.Time) int { return a.Compare(b) })
	begins := make([]time.Time, 0, len(jobs))
	for _, j := range jobs {
		begins = append(begins, j.Begin)
	}
	slices.SortFunc(begins, func(a, b time.Time) int { return a.Compare(b) })
	// The k-th begin (from 0) beyond the first n needed the (k-n)-th end to free a slot.
	var sum time.Duration
	count := 0
	for k := n; k < len(begins) && k-n < len(ends); k++ {
		if gap := begins[k].Sub(ends[k-n]); gap > 0 {
			sum += gap
		}
		count++
	}
	if count == 0 {
		return 0
	}
	return sum / time.Duration(count)
}

func printPromotionTable(w io.Writer, res promotionResults) {
	fmt.Fprintf(w, "\n%d cross-region targets (%d promotions for imscopy), N=%d cross-region copies at once, scale %g, seed %d, %s job model; "+
		"jobs: longest %.0f s, all %.0f s; lower bound max(longest, all/N) = %.0f s; naive: retry a refusal after %.0f s, poll every %.0f s; Temporal server: %s\n\n",
		res.Targets, res.Promotions, res.CrossRegionCopies, res.Scale, res.Seed, res.JobModel, res.LongestJobS, res.TotalJobS, res.LowerBoundS, res.NaiveWaitS, res.NaiveEveryS, res.Temporal)
	fmt.Fprintln(w, "| runner | done | makespan s | ratio to lower bound | IMG.0149 refusals | IMS calls/target | job status calls/target | peak cross-region copies | slot hand-off s |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|")
	for _, rr := range res.Runners {
		fmt.Fprintf(w, "| %s | %d/%d | %.0f | %.3f | %d | %.1f | %.1f | %d | %.1f |\n",
			rr.Runner, rr.Done, rr.Targets, rr.MakespanS, rr.Ratio, rr.Refusals, rr.CallsPerTarget, rr.StatusCalls, rr.PeakCopies, rr.HandoffS)
	}
	fmt.Fprintln(w, "\nMakespan is from the first start to the last target done, in job time (wall time times the scale). "+
		"Slot hand-off is the mean time a freed cross-region slot stayed empty before a waiting copy began in it.")
}
