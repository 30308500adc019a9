package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/imscopy/imscopy/imsapi/imsemu"
	"github.com/imscopy/imscopy/workflows/copyimage"
)

// copyRecord is one copy's measurements.
type copyRecord struct {
	Strategy    string        `json:"strategy"`
	Index       int           `json:"index"`
	JobDuration time.Duration `json:"job_duration_ns"` // job time
	StatusCalls int           `json:"status_calls"`
	Lag         time.Duration `json:"lag_ns"` // job time: workflow close minus job end, times scale
	// NoticeLag is the part of Lag the polling made: the latest status call (the one that saw
	// the end) minus the job's end, times scale. The rest is Temporal's: the poll activity's
	// result reaching the workflow, VerifyImage, the workflow's close.
	NoticeLag time.Duration `json:"notice_lag_ns"`
	// SubmitDelay is real time from the workflow's start to IMS receiving the copy: how long the
	// copy queued in Temporal and the worker before anything reached IMS.
	SubmitDelay time.Duration `json:"submit_delay_ns"`
	Events      int64         `json:"history_events"`
	Attempts    int           `json:"activity_attempts"`
	Closed      time.Time     `json:"closed"`
	Status      string        `json:"status"`
	Completed   bool          `json:"completed"`
}

// phase is one group of strategies run at the same time, with what was measured around it.
type phase struct {
	strategies       []string
	wall             time.Duration
	workerCPU        time.Duration
	workerPeakRSS    int64
	serverCPU        time.Duration
	serverPeakRSS    int64
	databaseCPU      *time.Duration // PostgreSQL's on the cluster; nil on SQLite, which runs in the server
	databaseGrowth   int64          // bytes the database's files grew by
	emulatorCPU      time.Duration  // this process: the emulator and the bench's own bookkeeping
	startSpan        time.Duration  // from the first start request to the last one's answer
	peakJobs         int            // most copy jobs running in IMS at once
	records          map[string][]copyRecord
	workerStatsAfter workerStatsView
}

func run(ctx context.Context, o options) error {
	durations := jobDurations(o.n, o.seed, o.fixed)
	// The warm-up's copies follow the measured ones in the emulator's list: copy o.n+k is the
	// warm-up's k-th.
	var emuDurations []time.Duration
	for _, d := range append(slices.Clone(durations), warmupDurations(o.warmup, o.seed)...) {
		emuDurations = append(emuDurations, scaled(d, o.scale))
	}
	// The gateway's 200 calls/s per API is real time; scaled runs poll -scale times as often.
	r, err := startRig(ctx, o, 1, emuDurations, imsemu.Faults{ThrottlePerSecond: 200 * o.scale})
	defer r.close()
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "bench: %d copies per strategy, scale %g, %s progress; worker pid %d, Temporal server pid %d (%s), emulator pid %d\n",
		o.n, o.scale, o.progress, r.workers[0].Pid(), r.server.pid(), r.server.describe(), os.Getpid())

	if o.warmup > 0 {
		if err := runWarmup(ctx, r, o); err != nil {
			return err
		}
	}

	groups := [][]string{}
	if o.together {
		groups = append(groups, o.strategies)
	} else {
		for _, s := range o.strategies {
			groups = append(groups, []string{s})
		}
	}
	var phases []phase
	for _, strategies := range groups {
		ph, err := runPhase(ctx, r, o, strategies, durations)
		if err != nil {
			return err
		}
		phases = append(phases, ph)
	}
	res := summarize(o, durations, phases, r.emu.Images())
	res.TemporalServer = r.server.describe()
	return writeReport(o, res)
}

// runPhase starts every copy of the strategies at once, waits for all to close, and measures
// them and what the phase cost the worker, the server and the emulator.
func runPhase(ctx context.Context, r *rig, o options, strategies []string, durations []time.Duration) (phase, error) {
	ph := phase{strategies: strategies, records: map[string][]copyRecord{}}
	for _, pid := range []int{r.workers[0].Pid(), r.server.pid()} {
		if err := resetPeakRSS(pid); err != nil {
			fmt.Fprintln(os.Stderr, "bench: cannot reset a child's peak RSS, it will cover the whole run:", err)
		}
	}
	if err := r.workers[0].resetPeaks(); err != nil {
		return ph, fmt.Errorf("reset the worker's peak counters: %w", err)
	}
	before, err := cpuNow(r)
	if err != nil {
		return ph, err
	}
	start := time.Now()
	fmt.Fprintf(os.Stderr, "bench: running %v\n", strategies)

	runs, err := startCopies(ctx, r, o, strategies, len(durations))
	if err != nil {
		return ph, err
	}
	ph.startSpan = time.Since(start)
	fmt.Fprintf(os.Stderr, "bench: %d copies started in %s\n", len(runs), ph.startSpan.Round(time.Millisecond))
	var wg sync.WaitGroup
	for _, sr := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = sr.run.Get(ctx, nil) // failures are counted from the close status below
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return ph, ctx.Err()
	}
	ph.wall = time.Since(start)
	after, err := cpuNow(r)
	if err != nil {
		return ph, err
	}
	ph.workerCPU, ph.emulatorCPU = after.worker-before.worker, after.self-before.self
	used := after.server.sub(before.server)
	ph.serverCPU, ph.databaseGrowth = used.serverCPU, used.databaseBytes
	if used.hasDatabaseCPU {
		ph.databaseCPU = &used.databaseCPU
	}
	ph.workerPeakRSS, _ = procPeakRSS(r.workers[0].Pid())
	ph.serverPeakRSS, _ = procPeakRSS(r.server.pid())
	if ph.workerStatsAfter, err = r.workers[0].stats(); err != nil {
		return ph, fmt.Errorf("read the worker's counters: %w", err)
	}

	all := r.emu.Jobs()
	ph.peakJobs = peakConcurrent(all, strategies)
	recs, err := measureCopies(ctx, r, o, runs, durations, all)
	if err != nil {
		return ph, err
	}
	for _, rec := range recs {
		ph.records[rec.Strategy] = append(ph.records[rec.Strategy], rec)
	}
	fmt.Fprintf(os.Stderr, "bench: %v done in %s\n", strategies, ph.wall.Round(time.Second))
	return ph, nil
}

// cpuTimes are the CPU times so far of the worker, the Temporal server and its database, and this
// process (the emulator and the bench's own bookkeeping).
type cpuTimes struct {
	worker, self time.Duration
	server       serverUsage
}

// cpuNow reads them; the worker's and the server's must be readable, this process's counts as 0
// if not.
func cpuNow(r *rig) (cpuTimes, error) {
	worker, err := procCPU(r.workers[0].Pid())
	if err != nil {
		return cpuTimes{}, err
	}
	server, err := r.server.usage()
	if err != nil {
		return cpuTimes{}, fmt.Errorf("read the Temporal server's usage: %w", err)
	}
	self, _ := procCPU(os.Getpid())
	return cpuTimes{worker: worker, server: server, self: self}, nil
}

// startedCopy is a copy the bench started: its strategy, its index among the phase's jobs, and
// its workflow run.
type startedCopy struct {
	strategy string
	index    int
	run      client.WorkflowRun
}

// inFlight bounds the start requests, and the measurements, in flight at once.
const inFlight = 32

// startCopies starts copies 0..n-1 of every strategy, inFlight at a time, and returns them
// in the order their starts were answered. Copy i of each strategy is started before copy i+1
// of any: strategies run together then meet the start-up's load alike. Started one strategy
// after another, the first one's short jobs ended while the others were still being started,
// and their closes queued behind those starts (seconds of real time, a quarter of a minute of
// job time at -scale 5) while the last strategy's never did.
func startCopies(ctx context.Context, r *rig, o options, strategies []string, n int) ([]startedCopy, error) {
	var mu sync.Mutex
	var runs []startedCopy
	var errs error
	sem := make(chan struct{}, inFlight)
	var wg sync.WaitGroup
	for i := range n {
		for _, s := range strategies {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				wr, err := startCopy(ctx, r.client, o, s, i)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = errors.Join(errs, err)
					return
				}
				runs = append(runs, startedCopy{s, i, wr})
			}()
		}
	}
	wg.Wait()
	return runs, errs
}

// measureCopies measures every closed copy against its job among the emulator's jobs,
// inFlight at a time; the records are in the order of runs.
func measureCopies(ctx context.Context, r *rig, o options, runs []startedCopy, durations []time.Duration, all []imsemu.AdminJob) ([]copyRecord, error) {
	jobs := map[string]imsemu.AdminJob{}
	for _, j := range all {
		jobs[j.ImageName] = j
	}
	var mu sync.Mutex
	var errs error
	sem := make(chan struct{}, inFlight)
	var wg sync.WaitGroup
	recs := make([]copyRecord, len(runs))
	for k, sr := range runs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			rec, err := measureCopy(ctx, r, o, sr.strategy, sr.index, durations[sr.index], jobs)
			if err != nil {
				mu.Lock()
				errs = errors.Join(errs, err)
				mu.Unlock()
			}
			recs[k] = rec
		}()
	}
	wg.Wait()
	return recs, errs
}

// runWarmup has the adaptive worker watch o.warmup copies to their end before anything is
// measured, so that the benchmark compares the strategies as they run on a worker that has been
// up for a while: PollJob's calibration has learned how this cloud's jobs progress, and the
// others have nothing to learn. The warm-up's images are checked like the measured ones.
func runWarmup(ctx context.Context, r *rig, o options) error {
	start := time.Now()
	fmt.Fprintf(os.Stderr, "bench: warming the adaptive worker up on %d copies\n", o.warmup)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs error
	sem := make(chan struct{}, 32)
	for k := range o.warmup {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			wr, err := startCopy(ctx, r.client, o, warmupStrategy, o.n+k)
			<-sem
			if err == nil {
				err = wr.Get(ctx, nil)
			}
			if err != nil {
				mu.Lock()
				errs = errors.Join(errs, fmt.Errorf("warm-up copy %d: %w", k, err))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if errs != nil {
		return errs
	}
	fmt.Fprintf(os.Stderr, "bench: warm-up done in %s\n", time.Since(start).Round(time.Second))
	return nil
}

// startCopy starts copy i under strategy s.
func startCopy(ctx context.Context, c client.Client, o options, s string, i int) (client.WorkflowRun, error) {
	name := copyName(s, i)
	in := copyimage.Input{Region: imsemu.DefaultRegions[0].Name, SourceImageID: imsemu.SeedImageID, Name: name}
	opts := client.StartWorkflowOptions{ID: name, TaskQueue: benchTaskQueue,
		WorkflowIDReusePolicy: enums.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE}
	if s == strategyAdaptive || s == warmupStrategy {
		return c.ExecuteWorkflow(ctx, opts, copyimage.CopyImage, in)
	}
	return c.ExecuteWorkflow(ctx, opts, StrategyCopy, StrategyInput{Copy: in, Strategy: s, Scale: o.scale})
}

// noticeLag is how long after the job's end (both real time) the last status call came, in job
// time; zero if no call came after the end (a copy whose end was read some other way).
func noticeLag(lastCall, end time.Time, scale float64) time.Duration {
	if lastCall.Before(end) {
		return 0
	}
	return time.Duration(float64(lastCall.Sub(end)) * scale)
}

// measureCopy reads one closed copy's history and its job's counters.
func measureCopy(ctx context.Context, r *rig, o options, s string, i int, d time.Duration, jobs map[string]imsemu.AdminJob) (copyRecord, error) {
	name := copyName(s, i)
	rec := copyRecord{Strategy: s, Index: i, JobDuration: d}
	desc, err := r.client.DescribeWorkflowExecution(ctx, name, "")
	if err != nil {
		return rec, fmt.Errorf("describe %s: %w", name, err)
	}
	info := desc.GetWorkflowExecutionInfo()
	rec.Events = info.GetHistoryLength()
	rec.Closed = info.GetCloseTime().AsTime()
	rec.Status = info.GetStatus().String()
	rec.Completed = info.GetStatus() == enums.WORKFLOW_EXECUTION_STATUS_COMPLETED
	job, ok := jobs[name]
	if !ok {
		return rec, fmt.Errorf("copy %s: the emulator has no job for it", name)
	}
	rec.StatusCalls = r.calls.get(job.ID)
	rec.SubmitDelay = job.Begin.Sub(info.GetStartTime().AsTime())
	if !job.End.IsZero() {
		rec.Lag = time.Duration(float64(rec.Closed.Sub(job.End)) * o.scale)
		rec.NoticeLag = noticeLag(r.calls.lastAt(job.ID), job.End, o.scale)
	}
	it := r.client.GetWorkflowHistory(ctx, name, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return rec, fmt.Errorf("history of %s: %w", name, err)
		}
		if a := ev.GetActivityTaskStartedEventAttributes(); a != nil {
			rec.Attempts += int(a.GetAttempt())
		}
	}
	return rec, nil
}

// peakConcurrent is the most copy jobs of the strategies in g that IMS ran at the same time: how
// many copies were truly in flight together.
func peakConcurrent(jobs []imsemu.AdminJob, g []string) int {
	var mine []imsemu.AdminJob
	for _, j := range jobs {
		if slices.Contains(g, strategyOf(j.ImageName)) {
			mine = append(mine, j)
		}
	}
	return imsemu.PeakConcurrent(mine)
}
