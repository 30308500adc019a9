package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/imscopy/imscopy/imsapi/imsemu"
	"github.com/imscopy/imscopy/internal/rank"
)

// strategyResult is one strategy's figures. Durations are in seconds of job time unless named
// otherwise; per-copy figures are means over the strategy's copies.
type strategyResult struct {
	Strategy           string   `json:"strategy"`
	Copies             int      `json:"copies"`
	Completed          int      `json:"completed"`
	StatusCallsPerCopy float64  `json:"status_calls_per_copy"`
	LagP50             float64  `json:"lag_p50_s"`
	LagP95             float64  `json:"lag_p95_s"`
	LagP99             float64  `json:"lag_p99_s"`
	LagMax             float64  `json:"lag_max_s"`
	NoticeP95          float64  `json:"notice_lag_p95_s"` // the polling's own part of the lag (copyRecord.NoticeLag)
	NoticeP99          float64  `json:"notice_lag_p99_s"`
	SubmitDelayP50     float64  `json:"submit_delay_p50_real_s"`
	SubmitDelayP95     float64  `json:"submit_delay_p95_real_s"`
	EventsPerCopy      float64  `json:"history_events_per_copy"`
	HeartbeatsPerCopy  float64  `json:"heartbeats_per_copy"`
	AttemptsPerCopy    float64  `json:"activity_attempts_per_copy"`
	PeakSlots          int      `json:"peak_activity_slots"`
	WorkerCPUPerCopyMS *float64 `json:"worker_cpu_ms_per_copy,omitempty"` // real CPU; absent when strategies ran together
	WorkerPeakRSSMB    *float64 `json:"worker_peak_rss_mb,omitempty"`
	ServerCPUPerCopyMS *float64 `json:"server_cpu_ms_per_copy,omitempty"`
	// DatabaseCPUPerCopyMS is PostgreSQL's on the cluster; absent on SQLite, whose CPU is the server's.
	DatabaseCPUPerCopyMS *float64 `json:"database_cpu_ms_per_copy,omitempty"`
	// DatabaseMBPer1000 is the database's growth per 1,000 copies, in MiB.
	DatabaseMBPer1000 *float64 `json:"database_mib_per_1000_copies,omitempty"`
	WallSeconds       *float64 `json:"wall_s,omitempty"` // real time
	Buckets           []bucket `json:"by_job_duration"`
}

// bucket is a strategy's figures for copies whose job duration falls in [From, To).
type bucket struct {
	Label              string  `json:"label"`
	Copies             int     `json:"copies"`
	StatusCallsPerCopy float64 `json:"status_calls_per_copy"`
	StatusCallsP50     float64 `json:"status_calls_p50"`
	StatusCallsMax     int     `json:"status_calls_max"`
	EventsPerCopy      float64 `json:"history_events_per_copy"`
	LagP50             float64 `json:"lag_p50_s"`
	LagMax             float64 `json:"lag_max_s"`
}

// results is the whole run, as written to results.json.
type results struct {
	Command string `json:"command"`
	// Temporal is -temporal (embedded or cluster); TemporalServer says what that server is.
	Temporal       string           `json:"temporal"`
	TemporalServer string           `json:"temporal_server"`
	Copies         int              `json:"copies_per_strategy"`
	Scale          float64          `json:"scale"`
	Progress       string           `json:"progress"`
	Seed           uint64           `json:"seed"`
	Together       bool             `json:"strategies_together"`
	Warmup         int              `json:"adaptive_warmup_copies"`
	Jobs           jobSummary       `json:"job_durations"`
	Strategies     []strategyResult `json:"strategies"`
	Images         imageCheck       `json:"images"`
	Phases         []phaseSummary   `json:"phases"`
	// Records are every copy's own figures, for a look behind a percentile (which copies were late).
	Records []copyRecord `json:"copy_records"`
}

// jobSummary describes the job durations, in seconds of job time.
type jobSummary struct {
	P5  float64 `json:"p5_s"`
	P50 float64 `json:"p50_s"`
	P95 float64 `json:"p95_s"`
	Max float64 `json:"max_s"`
}

type imageCheck struct {
	Expected   int      `json:"expected"`
	Found      int      `json:"found"`
	Duplicates []string `json:"duplicates"` // names with more than one live image
	Missing    []string `json:"missing"`
}

type phaseSummary struct {
	Strategies       []string `json:"strategies"`
	WallSeconds      float64  `json:"wall_s"`
	WorkerCPU        float64  `json:"worker_cpu_s"`
	WorkerPeakRSSMB  float64  `json:"worker_peak_rss_mb"`
	ServerCPU        float64  `json:"server_cpu_s"`
	ServerPeakRSSMB  float64  `json:"server_peak_rss_mb"`
	DatabaseCPU      *float64 `json:"database_cpu_s,omitempty"` // PostgreSQL's; absent on SQLite
	DatabaseGrowthMB float64  `json:"database_growth_mib"`
	EmulatorCPU      float64  `json:"emulator_cpu_s"`
	PeakSlotsAll     int      `json:"peak_activity_slots_all"`
	StartSeconds     float64  `json:"start_s"`
	PeakIMSJobs      int      `json:"peak_concurrent_ims_jobs"`
}

func seconds(d time.Duration) float64 { return d.Seconds() }

// durationBuckets are the job-duration bands of the per-duration tables, in job time.
var durationBuckets = []struct {
	label    string
	from, to time.Duration
}{
	{"< 30 s", 0, 30 * time.Second},
	{"30 s - 2 min", 30 * time.Second, 2 * time.Minute},
	{"2 - 10 min", 2 * time.Minute, 10 * time.Minute},
	{">= 10 min", 10 * time.Minute, 1 << 62},
}

func summarize(o options, durations []time.Duration, phases []phase, images []imsemu.AdminImage) results {
	res := results{Command: "go run ./cmd/bench " + strings.Join(os.Args[1:], " "), Temporal: o.temporal, Copies: o.n, Scale: o.scale,
		Progress: o.progress, Seed: o.seed, Together: o.together, Warmup: o.warmup}
	ds := make([]float64, len(durations))
	for i, d := range durations {
		ds[i] = seconds(d)
	}
	slices.Sort(ds)
	res.Jobs = jobSummary{rank.Percentile(ds, 5), rank.Percentile(ds, 50), rank.Percentile(ds, 95), ds[len(ds)-1]}

	for _, ph := range phases {
		ps := phaseSummary{Strategies: ph.strategies, WallSeconds: seconds(ph.wall),
			WorkerCPU: seconds(ph.workerCPU), WorkerPeakRSSMB: float64(ph.workerPeakRSS) / (1 << 20),
			ServerCPU: seconds(ph.serverCPU), ServerPeakRSSMB: float64(ph.serverPeakRSS) / (1 << 20),
			DatabaseGrowthMB: float64(ph.databaseGrowth) / (1 << 20),
			EmulatorCPU:      seconds(ph.emulatorCPU), PeakSlotsAll: ph.workerStatsAfter.PeakTotal,
			StartSeconds: seconds(ph.startSpan), PeakIMSJobs: ph.peakJobs}
		if ph.databaseCPU != nil {
			db := seconds(*ph.databaseCPU)
			ps.DatabaseCPU = &db
		}
		res.Phases = append(res.Phases, ps)
		for _, s := range ph.strategies {
			res.Records = append(res.Records, ph.records[s]...)
			sr := strategySummary(s, ph.records[s])
			sr.HeartbeatsPerCopy = float64(ph.workerStatsAfter.Heartbeats[s]) / float64(sr.Copies)
			sr.PeakSlots = ph.workerStatsAfter.PeakSlots[s]
			if len(ph.strategies) == 1 {
				cpu := 1000 * seconds(ph.workerCPU) / float64(sr.Copies)
				rss := float64(ph.workerPeakRSS) / (1 << 20)
				server := 1000 * seconds(ph.serverCPU) / float64(sr.Copies)
				wall := seconds(ph.wall)
				sr.WorkerCPUPerCopyMS, sr.WorkerPeakRSSMB, sr.ServerCPUPerCopyMS, sr.WallSeconds = &cpu, &rss, &server, &wall
				growth := float64(ph.databaseGrowth) / (1 << 20) * 1000 / float64(sr.Copies)
				sr.DatabaseMBPer1000 = &growth
				if ph.databaseCPU != nil {
					db := 1000 * seconds(*ph.databaseCPU) / float64(sr.Copies)
					sr.DatabaseCPUPerCopyMS = &db
				}
			}
			res.Strategies = append(res.Strategies, sr)
		}
	}
	res.Images = checkImages(o, images)
	return res
}

func strategySummary(s string, recs []copyRecord) strategyResult {
	sr := strategyResult{Strategy: s, Copies: len(recs)}
	var lags, notices, submits []float64
	var calls, events, attempts int64
	for _, r := range recs {
		submits = append(submits, seconds(r.SubmitDelay))
		if r.Completed {
			sr.Completed++
		}
		calls += int64(r.StatusCalls)
		events += r.Events
		attempts += int64(r.Attempts)
		lags = append(lags, seconds(r.Lag))
		notices = append(notices, seconds(r.NoticeLag))
	}
	slices.Sort(lags)
	slices.Sort(notices)
	sr.NoticeP95, sr.NoticeP99 = rank.Percentile(notices, 95), rank.Percentile(notices, 99)
	slices.Sort(submits)
	sr.SubmitDelayP50, sr.SubmitDelayP95 = rank.Percentile(submits, 50), rank.Percentile(submits, 95)
	n := float64(len(recs))
	sr.StatusCallsPerCopy, sr.EventsPerCopy, sr.AttemptsPerCopy = float64(calls)/n, float64(events)/n, float64(attempts)/n
	sr.LagP50, sr.LagP95, sr.LagP99, sr.LagMax = rank.Percentile(lags, 50), rank.Percentile(lags, 95), rank.Percentile(lags, 99), lags[len(lags)-1]
	for _, b := range durationBuckets {
		var in []copyRecord
		for _, r := range recs {
			if r.JobDuration >= b.from && r.JobDuration < b.to {
				in = append(in, r)
			}
		}
		if len(in) == 0 {
			continue
		}
		bk := bucket{Label: b.label, Copies: len(in)}
		var bl, bc []float64
		for _, r := range in {
			bc = append(bc, float64(r.StatusCalls))
			bk.StatusCallsPerCopy += float64(r.StatusCalls)
			bk.StatusCallsMax = max(bk.StatusCallsMax, r.StatusCalls)
			bk.EventsPerCopy += float64(r.Events)
			bl = append(bl, seconds(r.Lag))
		}
		slices.Sort(bl)
		slices.Sort(bc)
		bk.StatusCallsP50 = rank.Percentile(bc, 50)
		bk.StatusCallsPerCopy /= float64(len(in))
		bk.EventsPerCopy /= float64(len(in))
		bk.LagP50, bk.LagMax = rank.Percentile(bl, 50), bl[len(bl)-1]
		sr.Buckets = append(sr.Buckets, bk)
	}
	return sr
}

// checkImages counts the live images each copy name has: exactly one each is "nothing lost,
// nothing doubled".
func checkImages(o options, images []imsemu.AdminImage) imageCheck {
	per := map[string]int{}
	for _, img := range images {
		if img.Status != "deleted" && copyIndex(img.Name) >= 0 {
			per[img.Name]++
		}
	}
	var names []string
	for _, s := range o.strategies {
		for i := range o.n {
			names = append(names, copyName(s, i))
		}
	}
	for k := range o.warmup {
		names = append(names, copyName(warmupStrategy, o.n+k))
	}
	c := imageCheck{Expected: len(names), Duplicates: []string{}, Missing: []string{}}
	for _, name := range names {
		switch n := per[name]; {
		case n == 0:
			c.Missing = append(c.Missing, name)
		case n > 1:
			c.Duplicates = append(c.Duplicates, name)
		}
		c.Found += min(per[name], 1)
	}
	return c
}

func writeReport(o options, res results) error {
	printTable(os.Stdout, res)
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(o.out, "results.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(o.out, "chart.svg"), []byte(chartSVG(res)), 0o644); err != nil {
		return err
	}
	fmt.Printf("\nresults: %s, chart: %s\n", filepath.Join(o.out, "results.json"), filepath.Join(o.out, "chart.svg"))
	if len(res.Images.Duplicates) > 0 || len(res.Images.Missing) > 0 {
		return fmt.Errorf("%d duplicate and %d missing images", len(res.Images.Duplicates), len(res.Images.Missing))
	}
	for _, s := range res.Strategies {
		if s.Completed != s.Copies {
			return fmt.Errorf("%s: %d of %d copies did not complete; see worker.log in %s", s.Strategy, s.Copies-s.Completed, s.Copies, o.out)
		}
	}
	return nil
}

func opt(v *float64, format string) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf(format, *v)
}

func printTable(w io.Writer, res results) {
	fmt.Fprintf(w, "\n%d copies per strategy, job durations p5/p50/p95/max %.0f/%.0f/%.0f/%.0f s, scale %g, %s progress, seed %d",
		res.Copies, res.Jobs.P5, res.Jobs.P50, res.Jobs.P95, res.Jobs.Max, res.Scale, res.Progress, res.Seed)
	fmt.Fprintf(w, "; Temporal server: %s (-temporal %s)", res.TemporalServer, res.Temporal)
	if res.Warmup > 0 {
		fmt.Fprintf(w, "; adaptive's worker first watched %d other copies to their end (-warmup)", res.Warmup)
	}
	fmt.Fprint(w, "\n\n")
	fmt.Fprintln(w, "| strategy | done | status calls/copy | lag p50 s | lag p95 s | lag p99 s | notice p95 s | notice p99 s | history events/copy | heartbeats/copy | attempts/copy | hb+attempts | peak slots | worker CPU ms/copy | worker peak RSS MB | server CPU ms/copy | PostgreSQL CPU ms/copy | database MiB/1,000 copies | wall s |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, s := range res.Strategies {
		fmt.Fprintf(w, "| %s | %d/%d | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %d | %s | %s | %s | %s | %s | %s |\n",
			s.Strategy, s.Completed, s.Copies, s.StatusCallsPerCopy, s.LagP50, s.LagP95, s.LagP99, s.NoticeP95, s.NoticeP99, s.EventsPerCopy,
			s.HeartbeatsPerCopy, s.AttemptsPerCopy, s.HeartbeatsPerCopy+s.AttemptsPerCopy, s.PeakSlots,
			opt(s.WorkerCPUPerCopyMS, "%.1f"), opt(s.WorkerPeakRSSMB, "%.0f"), opt(s.ServerCPUPerCopyMS, "%.1f"),
			opt(s.DatabaseCPUPerCopyMS, "%.1f"), opt(s.DatabaseMBPer1000, "%.1f"), opt(s.WallSeconds, "%.0f"))
	}
	fmt.Fprintln(w, "\nBy job duration (job time):")
	fmt.Fprintln(w, "\n| strategy | job duration | copies | status calls/copy | p50 | max | history events/copy | lag p50 s | lag max s |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|")
	for _, s := range res.Strategies {
		for _, b := range s.Buckets {
			fmt.Fprintf(w, "| %s | %s | %d | %.1f | %.0f | %d | %.1f | %.1f | %.1f |\n",
				s.Strategy, b.Label, b.Copies, b.StatusCallsPerCopy, b.StatusCallsP50, b.StatusCallsMax, b.EventsPerCopy, b.LagP50, b.LagMax)
		}
	}
	fmt.Fprintln(w, "\nFrom workflow start to the copy reaching IMS (real seconds; queueing in Temporal and the worker):")
	for _, s := range res.Strategies {
		fmt.Fprintf(w, "  %s: p50 %.2f s, p95 %.2f s\n", s.Strategy, s.SubmitDelayP50, s.SubmitDelayP95)
	}
	fmt.Fprintf(w, "\nimages: %d expected, %d found, %d duplicates, %d missing\n",
		res.Images.Expected, res.Images.Found, len(res.Images.Duplicates), len(res.Images.Missing))
	for _, p := range res.Phases {
		db := ""
		if p.DatabaseCPU != nil {
			db = fmt.Sprintf("PostgreSQL CPU %.1f s, ", *p.DatabaseCPU)
		}
		fmt.Fprintf(w, "phase %v: wall %.0f s (all started within %.1f s, at most %d copy jobs running at once); worker CPU %.1f s, peak RSS %.0f MB; Temporal server CPU %.1f s, peak RSS %.0f MB; %sdatabase growth %.1f MiB; emulator CPU %.1f s; peak activity slots %d\n",
			p.Strategies, p.WallSeconds, p.StartSeconds, p.PeakIMSJobs, p.WorkerCPU, p.WorkerPeakRSSMB, p.ServerCPU, p.ServerPeakRSSMB, db, p.DatabaseGrowthMB, p.EmulatorCPU, p.PeakSlotsAll)
	}
}
