package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/imscopy/imscopy/activities"
	"github.com/imscopy/imscopy/imsapi/imsemu"
	"github.com/imscopy/imscopy/workflows/copyimage"
	"github.com/imscopy/imscopy/workflows/promote"
)

// chaosStrategy names the chaos run's copies (bench-chaos-<i>); they all run the product's
// CopyImage.
const chaosStrategy = "chaos"

// imsCrossRegionLimit is IMS's limit of cross-region copies per tenant at once (IMG.0149).
const imsCrossRegionLimit = 5

// chaosOptions are `bench chaos`'s flags.
type chaosOptions struct {
	options
	workers        int
	killEvery      time.Duration
	maxKills       int // 0: keep killing until every copy is closed
	serverKillAt   time.Duration
	errorRate      float64
	throttleRate   float64
	lostRate       float64
	jobFailureRate float64
	timeout        time.Duration
	promotions     int
}

func parseChaosFlags(args []string) (chaosOptions, error) {
	fs := flag.NewFlagSet("bench chaos", flag.ContinueOnError)
	o := chaosOptions{}
	var fixed string
	fs.IntVar(&o.n, "n", 500, "copies")
	fs.IntVar(&o.promotions, "promotions", 40, "promotions among the copies, each of 3-6 targets (in-region encrypted, cross-region shared and accepted, cross-region encrypted in two hops, cross-region plain)")
	fs.IntVar(&o.workers, "workers", 2, "worker processes")
	fs.Float64Var(&o.scale, "scale", 10, "time scale of the jobs and of PollJob's intervals (the product's activity timeouts stay real)")
	fs.StringVar(&fixed, "job-duration", "", "fixed job duration(s) in job time; default: the benchmark's seeded distribution")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the job durations and of the emulator's faults")
	fs.StringVar(&o.out, "out", "bench-results/chaos", "folder for the children's logs")
	fs.StringVar(&o.dataDir, "data-dir", os.TempDir(), "where the Temporal server's database goes, SQLite's files or the cluster's PostgreSQL (a fresh folder inside it, removed at the end)")
	fs.DurationVar(&o.killEvery, "kill-every", 20*time.Second, "kill -9 a worker (in turn) this often, and start it again")
	fs.IntVar(&o.maxKills, "max-kills", 0, "stop killing workers after this many (0: until every copy is closed)")
	fs.DurationVar(&o.serverKillAt, "server-kill-at", 45*time.Second, "kill -9 the Temporal server this long after the start, and start it again (0: never)")
	fs.Float64Var(&o.errorRate, "error-rate", 0.10, "share of IMS requests answered 5xx")
	fs.Float64Var(&o.throttleRate, "throttle-rate", 0.05, "share of IMS requests answered 429")
	fs.Float64Var(&o.lostRate, "lost-rate", 0.02, "share of IMS requests served but whose response is lost")
	fs.Float64Var(&o.jobFailureRate, "job-failure-rate", 0.05, "share of copy jobs that end in FAIL")
	addTemporalFlags(fs, &o.options)
	fs.DurationVar(&o.timeout, "timeout", 45*time.Minute, "give up (and fail) if the copies are not all closed by then")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q; every option is a flag (bench chaos -h lists them)", fs.Arg(0))
	}
	if o.n < 1 || o.workers < 1 || o.scale <= 0 || o.promotions < 0 {
		return o, errors.New("-n and -workers must be at least 1, -promotions 0 or more and -scale positive")
	}
	if err := checkTemporal(o.options); err != nil {
		return o, err
	}
	o.progress, o.strategies = "realistic", []string{chaosStrategy}
	o.otherProjects = map[string][]string{imsemu.DefaultRegions[1].Name: {chaosRecipient}}
	var err error
	o.fixed, err = parseDurations(fixed)
	return o, err
}

// chaosReport is what a chaos run found; Violations empty means nothing was lost.
type chaosReport struct {
	Copies, Closed, Succeeded, Failed int
	JobsSucceeded, JobsFailed         int
	WorkerKills, ServerRestarts       int
	LiveImages                        int
	Injected5xx, Injected429, Lost    int // IMS requests the emulator failed on purpose
	// ReasonLost counts failed copies whose job failed after the answer naming it was lost (by the
	// emulator, or with a killed worker's attempt): they fail saying so, without IMS's reason.
	ReasonLost int
	Promotion  promotionFigures
	Violations []string
	Wall       time.Duration
	// TemporalServer says which Temporal server ran. Usage is what it and PostgreSQL cost over the
	// run, on the cluster only: its figures span the server's kill and restart, while the embedded
	// server's CPU would count its last process alone.
	TemporalServer string
	Usage          *serverUsage
}

func (r chaosReport) print(w io.Writer) {
	fmt.Fprintf(w, "copies %d, closed %d, succeeded %d, failed %d\n", r.Copies, r.Closed, r.Succeeded, r.Failed)
	fmt.Fprintf(w, "IMS jobs succeeded %d, failed %d; live copy images %d\n", r.JobsSucceeded, r.JobsFailed, r.LiveImages)
	fmt.Fprintf(w, "IMS faults injected: %d answers 503, %d answers 429, %d responses lost\n", r.Injected5xx, r.Injected429, r.Lost)
	fmt.Fprintf(w, "failed copies whose job ID (and so IMS's reason) was lost with the copy's answer: %d\n", r.ReasonLost)
	if p := r.Promotion; p.Promotions > 0 {
		fmt.Fprintf(w, "promotions %d with %d targets: done %d, failed %d (IMS's reason lost with a lost answer: %d); "+
			"peak cross-region copies at once %d, IMG.0149 refusals %d\n",
			p.Promotions, p.Targets, p.Done, p.Failed, p.ReasonLost, p.PeakCrossRegion, p.CrossRegionRefusals)
	}
	fmt.Fprintf(w, "worker kills %d, server restarts %d, wall %s\n", r.WorkerKills, r.ServerRestarts, r.Wall.Round(time.Second))
	fmt.Fprintf(w, "Temporal server: %s\n", r.TemporalServer)
	if u := r.Usage; u != nil {
		// Every copy and every promotion target is one IMS copy a workflow drove.
		n := float64(r.Copies + r.Promotion.Targets)
		fmt.Fprintf(w, "per copy (%d copies and %d promotion targets): Temporal server CPU %.1f ms, PostgreSQL CPU %.1f ms; database growth %.1f MiB per 1,000 copies\n",
			r.Copies, r.Promotion.Targets, 1000*u.serverCPU.Seconds()/n, 1000*u.databaseCPU.Seconds()/n, float64(u.databaseBytes)/(1<<20)*1000/n)
	}
	if len(r.Violations) == 0 {
		fmt.Fprintln(w, "nothing lost: every copy and promotion closed, succeeded copies = succeeded jobs, done targets have "+
			"their one image (encrypted as planned, members accepted), no duplicate, no orphan (intermediates included), "+
			"every failure carries IMS's reason unless the answer that named its job was lost, no IMG.0149")
		return
	}
	fmt.Fprintf(w, "%d VIOLATIONS:\n", len(r.Violations))
	for _, v := range r.Violations {
		fmt.Fprintln(w, "  -", v)
	}
}

func chaosMain(ctx context.Context, args []string) error {
	o, err := parseChaosFlags(args)
	if err != nil {
		return err
	}
	rep, err := runChaos(ctx, o, os.Stderr)
	if err != nil {
		return err
	}
	rep.print(os.Stdout)
	if len(rep.Violations) > 0 {
		return fmt.Errorf("%d violations: something was lost", len(rep.Violations))
	}
	return nil
}

// runChaos starts o.n copies on o.workers workers against a faulty emulator, kills workers and
// the server while they run, waits for every copy to close and checks that nothing was lost.
func runChaos(ctx context.Context, o chaosOptions, progress io.Writer) (chaosReport, error) {
	rep := chaosReport{Copies: o.n}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	// Copy i takes durations[i]; promotion target k, named after index o.n+k, the ones after.
	durations := jobDurations(o.n+o.promotions*maxPromotionTarget, o.seed, o.fixed)
	for i, d := range durations {
		durations[i] = scaled(d, o.scale)
	}
	faults := imsemu.Faults{
		Routes: map[string]imsemu.RouteFault{imsemu.RouteAll: {
			ErrorRate: o.errorRate, ErrorStatus: 503, ThrottleRate: o.throttleRate, LostResponseRate: o.lostRate,
		}},
		JobFailureRate:    o.jobFailureRate,
		ThrottlePerSecond: 200 * o.scale,
	}
	r, err := startRig(ctx, o.options, o.workers, durations, faults)
	defer r.close()
	if err != nil {
		return rep, err
	}
	rep.TemporalServer = r.server.describe()
	before, err := r.server.usage()
	if err != nil {
		return rep, fmt.Errorf("read the Temporal server's usage: %w", err)
	}
	start := time.Now()
	ids := make([]string, o.n)
	for i := range ids {
		ids[i] = copyName(chaosStrategy, i)
	}
	if err := startChaosCopies(ctx, r.client, ids); err != nil {
		return rep, err
	}
	east := imsemu.DefaultRegions[1].Name
	eastKeys := r.emu.KMSKeys()[east]
	sort.Strings(eastKeys)
	plans := chaosPlans(o.promotions, o.seed, o.n, eastKeys[0])
	if err := startChaosPromotions(ctx, r.client, plans); err != nil {
		return rep, err
	}
	fmt.Fprintf(progress, "bench chaos: %d copies and %d promotions (%d targets) started on %d workers; killing a worker every %s\n",
		o.n, len(plans), promotionTargets(plans), o.workers, o.killEvery)

	outcomes, promotionOutcomes, err := waitUnderChaos(ctx, r, o, start, ids, plans, &rep, progress)
	if err != nil {
		return rep, err
	}
	if o.temporal == temporalCluster {
		after, err := r.server.usage()
		if err != nil {
			return rep, fmt.Errorf("read the Temporal server's usage: %w", err)
		}
		used := after.sub(before)
		rep.Usage = &used
	}
	checkChaos(ctx, r, &rep, plans, outcomes, promotionOutcomes)
	return rep, nil
}

// waitUnderChaos kills workers and the server (wreak) until every copy and promotion has closed,
// and returns how each ended.
func waitUnderChaos(ctx context.Context, r *rig, o chaosOptions, start time.Time, ids []string, plans []promote.Plan,
	rep *chaosReport, progress io.Writer) (map[string]outcome, map[string]promotionOutcome, error) {
	done := make(chan struct{})
	var chaosErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		chaosErr = wreak(ctx, r, o, start, done, rep, progress)
	}()
	var outcomes map[string]outcome
	var promotionOutcomes map[string]promotionOutcome
	var waiters sync.WaitGroup
	waiters.Add(2)
	go func() {
		defer waiters.Done()
		outcomes = waitAll(ctx, r.client, ids)
	}()
	go func() {
		defer waiters.Done()
		promotionOutcomes = waitPromotions(ctx, r.client, plans)
	}()
	waiters.Wait()
	close(done)
	wg.Wait()
	rep.Wall = time.Since(start)
	if ctx.Err() != nil {
		return nil, nil, fmt.Errorf("not every copy closed within %s: %w", o.timeout, ctx.Err())
	}
	if chaosErr != nil {
		return nil, nil, chaosErr
	}
	return outcomes, promotionOutcomes, nil
}

// checkChaos checks that nothing was lost (check, checkPromotions) and counts the faults the
// emulator injected.
func checkChaos(ctx context.Context, r *rig, rep *chaosReport, plans []promote.Plan, outcomes map[string]outcome,
	promotionOutcomes map[string]promotionOutcome) {
	jobs, images := r.emu.Jobs(), r.emu.Images()
	check(rep, outcomes, jobs, images, func(id string) (int32, error) { return submitAttempts(ctx, r.client, id) })
	refusals := 0
	for _, c := range r.emu.Counts() {
		if c.Route == imsemu.RouteCopyCrossRegion && c.Status == 400 {
			refusals += c.Count
		}
	}
	if len(plans) > 0 {
		// The workers hold IMS's own limit of permits (CROSS_REGION_COPIES unset), which the
		// emulator enforces too.
		checkPromotions(rep, plans, promotionOutcomes, jobs, images, r.emu.PeakCrossRegionCopies(), refusals, imsCrossRegionLimit)
	}
	for _, c := range r.emu.Counts() {
		switch c.Status {
		case 503:
			rep.Injected5xx += c.Count
		case 429:
			rep.Injected429 += c.Count
		case 0:
			rep.Lost += c.Count
		}
	}
}

func startChaosCopies(ctx context.Context, c client.Client, ids []string) error {
	sem := make(chan struct{}, 32)
	var mu sync.Mutex
	var errs error
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			in := copyimage.Input{Region: imsemu.DefaultRegions[0].Name, SourceImageID: imsemu.SeedImageID, Name: id}
			_, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: benchTaskQueue,
				WorkflowIDReusePolicy: enums.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE}, copyimage.CopyImage, in)
			if err != nil {
				mu.Lock()
				errs = errors.Join(errs, fmt.Errorf("start %s: %w", id, err))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errs
}

// wreak kills a worker every killEvery (starting a new one at once) and the server once, until done.
func wreak(ctx context.Context, r *rig, o chaosOptions, start time.Time, done <-chan struct{}, rep *chaosReport, progress io.Writer) error {
	tick := time.NewTicker(o.killEvery)
	defer tick.Stop()
	var serverKill <-chan time.Time
	if o.serverKillAt > 0 {
		serverKill = time.After(time.Until(start.Add(o.serverKillAt)))
	}
	for next := 0; ; {
		select {
		case <-done:
			return nil
		case <-ctx.Done():
			return nil
		case <-serverKill:
			fmt.Fprintf(progress, "bench chaos: %s: kill -9 the Temporal server (pid %d); starting it again\n", time.Since(start).Round(time.Second), r.server.pid())
			if err := r.server.killAndRestart(ctx); err != nil {
				return fmt.Errorf("restart the Temporal server: %w", err)
			}
			rep.ServerRestarts++
		case <-tick.C:
			if o.maxKills > 0 && rep.WorkerKills >= o.maxKills {
				continue
			}
			k := next % len(r.workers)
			next++
			fmt.Fprintf(progress, "bench chaos: %s: kill -9 %s (pid %d); starting it again\n", time.Since(start).Round(time.Second), r.workers[k].name, r.workers[k].Pid())
			if err := r.killWorker(ctx, k); err != nil {
				return err
			}
			rep.WorkerKills++
		}
	}
}

// outcome is how one copy's workflow closed.
type outcome struct {
	status  enums.WorkflowExecutionStatus
	imageID string
	err     error // the workflow's failure, for failed copies
}

// closedOutcome reads a closed workflow's outcome from its Get and its status; false when the Get
// failed for another reason than the workflow's own failure (the server away), so the caller must
// ask again rather than record a result it did not read.
func closedOutcome(status enums.WorkflowExecutionStatus, res copyimage.Result, err error) (outcome, bool) {
	var wee *temporal.WorkflowExecutionError
	switch {
	case status == enums.WORKFLOW_EXECUTION_STATUS_COMPLETED && err != nil:
		return outcome{}, false
	case status != enums.WORKFLOW_EXECUTION_STATUS_COMPLETED && !errors.As(err, &wee):
		return outcome{}, false
	}
	return outcome{status: status, imageID: res.ImageID, err: err}, true
}

// waitAll waits for every copy to close (see waitClosed).
func waitAll(ctx context.Context, c client.Client, ids []string) map[string]outcome {
	return waitClosed(ctx, c, ids, closedOutcome)
}

// waitClosed waits for every workflow to close and reads each one's outcome with read, riding out
// the server's restart: a Get or a describe that fails because the server is away, or an outcome
// read says it did not read, is asked again.
func waitClosed[R, O any](ctx context.Context, c client.Client, ids []string,
	read func(enums.WorkflowExecutionStatus, R, error) (O, bool)) map[string]O {
	out := make(map[string]O, len(ids))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				var res R
				err := c.GetWorkflow(ctx, id, "").Get(ctx, &res)
				desc, derr := c.DescribeWorkflowExecution(ctx, id, "")
				status := desc.GetWorkflowExecutionInfo().GetStatus()
				if derr == nil && status != enums.WORKFLOW_EXECUTION_STATUS_RUNNING {
					if oc, ok := read(status, res, err); ok {
						mu.Lock()
						out[id] = oc
						mu.Unlock()
						return
					}
				}
				time.Sleep(2 * time.Second)
			}
		}()
	}
	wg.Wait()
	return out
}

// submitAttempts is the attempt of SubmitCopy that answered in the copy's history: above 1 when
// an earlier attempt failed or was lost with its worker.
func submitAttempts(ctx context.Context, c client.Client, id string) (int32, error) {
	var attempt int32
	var err error
	for try := 0; try < 10 && ctx.Err() == nil; try++ {
		if attempt, err = lastSubmitAttempt(ctx, c, id); err == nil {
			return attempt, nil
		}
		time.Sleep(time.Second)
	}
	return 0, err
}

func lastSubmitAttempt(ctx context.Context, c client.Client, id string) (int32, error) {
	it := c.GetWorkflowHistory(ctx, id, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	submits := map[int64]bool{} // scheduled event IDs of SubmitCopy
	var attempt int32
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return 0, err
		}
		if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil && a.GetActivityType().GetName() == activities.NameSubmitCopy {
			submits[ev.GetEventId()] = true
		}
		if a := ev.GetActivityTaskStartedEventAttributes(); a != nil && submits[a.GetScheduledEventId()] {
			attempt = a.GetAttempt()
		}
	}
	return attempt, nil
}

// check applies the "nothing lost" invariants. submitAttempt reads a copy's history (see
// submitAttempts), for the failures that say IMS's reason was lost.
func check(rep *chaosReport, outcomes map[string]outcome, jobs []imsemu.AdminJob, images []imsemu.AdminImage,
	submitAttempt func(id string) (int32, error)) {
	violate := func(format string, args ...any) {
		rep.Violations = append(rep.Violations, fmt.Sprintf(format, args...))
	}
	jobsByName := map[string][]imsemu.AdminJob{}
	for _, j := range jobs {
		if strategyOf(j.ImageName) == chaosStrategy {
			jobsByName[j.ImageName] = append(jobsByName[j.ImageName], j)
			switch j.Status {
			case "SUCCESS":
				rep.JobsSucceeded++
			case "FAIL":
				rep.JobsFailed++
			}
		}
	}
	succeededImage := map[string]string{} // image ID -> copy
	names := make([]string, 0, rep.Copies)
	for i := range rep.Copies {
		names = append(names, copyName(chaosStrategy, i))
	}
	for _, name := range names {
		oc, closed := outcomes[name]
		if !closed {
			violate("%s: the workflow never closed", name)
			continue
		}
		rep.Closed++
		js := jobsByName[name]
		if len(js) > 1 {
			violate("%s: IMS ran %d copy jobs for it (a duplicate submission)", name, len(js))
		}
		switch oc.status {
		case enums.WORKFLOW_EXECUTION_STATUS_COMPLETED:
			rep.Succeeded++
			succeededImage[oc.imageID] = name
			if len(js) != 1 || js[0].Status != "SUCCESS" || js[0].ImageID != oc.imageID {
				violate("%s: the workflow succeeded with image %s, but IMS has no succeeded job for that image", name, oc.imageID)
			}
		case enums.WORKFLOW_EXECUTION_STATUS_FAILED:
			rep.Failed++
			if checkFailure(name, oc.err, js, submitAttempt, violate) {
				rep.ReasonLost++
			}
		default:
			violate("%s: the workflow closed as %s", name, oc.status)
		}
	}
	if rep.Succeeded != rep.JobsSucceeded {
		violate("%d workflows succeeded but %d IMS jobs did", rep.Succeeded, rep.JobsSucceeded)
	}
	live := map[string]int{}
	for _, img := range images {
		if strategyOf(img.Name) != chaosStrategy || img.Status == "deleted" {
			continue
		}
		rep.LiveImages++
		live[img.Name]++
		if _, ok := succeededImage[img.ID]; !ok {
			violate("%s: image %s (%s) is left behind but belongs to no succeeded copy (an orphan)", img.Name, img.ID, img.Status)
		}
	}
	for name, n := range live {
		if n > 1 {
			violate("%s: %d live images (duplicates)", name, n)
		}
	}
	sort.Strings(rep.Violations)
}

// checkFailure requires a failed copy to have failed because its IMS job did, with IMS's code
// and reason in the workflow's error. The one exception is a job whose ID never reached the copy:
// the answer to its POST was lost (the emulator says so), or the SubmitCopy attempt that sent it
// was lost with its worker (a later attempt answered). Such a copy must fail saying that IMS's
// reason was lost with the answer, naming the image (which the orphan check requires deleted);
// checkFailure reports true for it. A copy that had its job ID and still lost the reason fails.
func checkFailure(name string, err error, js []imsemu.AdminJob, submitAttempt func(string) (int32, error), violate func(string, ...any)) (reasonLost bool) {
	var app *temporal.ApplicationError
	if !errors.As(err, &app) {
		violate("%s: failed without an application error: %v", name, err)
		return false
	}
	if len(js) != 1 || js[0].Status != "FAIL" {
		violate("%s: failed (%s: %s) although its IMS job did not", name, app.Type(), app.Message())
		return false
	}
	var f activities.CopyFailure
	if app.Type() == activities.ErrCopyFailed && app.HasDetails() && app.Details(&f) == nil && f.ReasonLost {
		if !strings.Contains(app.Message(), activities.ReasonLostText) || f.ImageID != js[0].ImageID || !strings.Contains(app.Message(), f.ImageID) {
			violate("%s: the failure says IMS's reason was lost but not plainly, or names another image than %s: %s", name, js[0].ImageID, app.Message())
		}
		if js[0].AnswerLost {
			return true
		}
		attempt, err := submitAttempt(name)
		switch {
		case err != nil:
			violate("%s: reading its history: %v", name, err)
		case attempt <= 1:
			violate("%s: the failure says IMS's reason was lost, but the answer naming job %s was not lost and SubmitCopy answered on its first attempt (%s %q)",
				name, js[0].ID, js[0].ErrorCode, js[0].FailReason)
		}
		return true
	}
	if app.Type() != activities.ErrCopyFailed || !strings.Contains(app.Message(), js[0].ErrorCode) || !strings.Contains(app.Message(), js[0].FailReason) {
		violate("%s: the failure does not carry IMS's reason (%s %q): %s: %s", name, js[0].ErrorCode, js[0].FailReason, app.Type(), app.Message())
	}
	return false
}
