// Command bench runs imscopy's copy workflow side by side with the polling strategies a user
// would otherwise write (Terraform's, and Temporal's sample patterns) on the same seeded jobs,
// against the IMS emulator and the embedded Temporal server, and reports IMS status calls,
// detection lag, history size, heartbeats, activity attempts, slots and worker CPU and memory.
//
// The worker and the embedded Temporal server are child processes (this binary again, with
// IMSCOPY_BENCH_ROLE=worker or server) so that their CPU and memory are measured apart from each
// other and from the emulator, which runs in the parent.
//
//	go run ./cmd/bench -n 200 -scale 20
//	make bench BENCH_ARGS="-n 1000 -strategies adaptive"
//	go run ./cmd/bench promote -targets 20  # a release's cross-region targets: imscopy vs a naive fan-out
//	go run ./cmd/bench chaos -n 500    # make chaos: faults and kills; non-zero exit if anything is lost
//
// With -temporal cluster, each of them runs on internal/cluster's upstream Temporal server on
// PostgreSQL instead of the embedded server child; the emulator and the worker children stay.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/imscopy/imscopy/imsapi/imsemu"
)

// options are the command line.
type options struct {
	n          int
	scale      float64
	strategies []string
	fixed      []time.Duration
	seed       uint64
	out        string
	progress   string
	together   bool
	dataDir    string
	// temporal is the Temporal server (temporalEmbedded or temporalCluster); clusterBin and
	// composeFile are the cluster's binaries and settings.
	temporal    string
	clusterBin  string
	composeFile string
	pollers     int
	warmup      int
	// regions are the emulator's regions (nil: imsemu.DefaultRegions); crossRegionCopies is the
	// workers' CROSS_REGION_COPIES (0: IMS's limit).
	regions           []imsemu.Region
	crossRegionCopies int
	// otherProjects are further projects of the emulator's account per region (share recipients).
	otherProjects map[string][]string
}

func main() {
	switch role := os.Getenv(roleEnv); role {
	case roleWorker, roleServer:
		run := workerMain
		if role == roleServer {
			run = serverMain
		}
		if err := run(); err != nil {
			fmt.Fprintf(os.Stderr, "bench %s: %v\n", role, err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(os.Args) > 1 && os.Args[1] == "promote" {
		if err := promotionMain(ctx, os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "bench promote:", err)
			stop()
			os.Exit(1)
		}
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "chaos" {
		if err := chaosMain(ctx, os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "bench chaos:", err)
			stop()
			os.Exit(1)
		}
		return
	}
	opts, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		stop()
		os.Exit(2)
	}
	if err := run(ctx, opts); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		stop()
		os.Exit(1)
	}
}

func parseFlags(args []string) (options, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	var o options
	var strategies, fixed string
	fs.IntVar(&o.n, "n", 200, "copies per strategy")
	fs.Float64Var(&o.scale, "scale", 20, "time scale: job durations and every strategy's intervals are divided by it; lags are reported in job time")
	fs.StringVar(&strategies, "strategies", strings.Join(allStrategies, ","), "comma list of strategies: "+strings.Join(allStrategies, ", "))
	fs.StringVar(&fixed, "job-duration", "", "fixed job duration(s) in job time, e.g. 300s or 10s,60s,300s (copies cycle through the list); default: the seeded shifted log-normal (median 60 s, 5th-95th percentile 15-600 s)")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the job durations and of the emulator")
	fs.StringVar(&o.out, "out", "bench-results", "folder for results.json and chart.svg")
	fs.StringVar(&o.progress, "progress", "realistic", "the emulator's progress model: realistic or linear")
	fs.StringVar(&o.dataDir, "data-dir", os.TempDir(), "where the Temporal server's database goes, SQLite's files or the cluster's PostgreSQL (a fresh folder inside it, removed at the end); the server fsyncs every commit, so a disk's fsync time shows in the results, and /dev/shm takes it out")
	fs.IntVar(&o.pollers, "pollers", 0, "the worker's workflow-task and activity-task pollers each (0: the SDK's default, 2)")
	fs.IntVar(&o.warmup, "warmup", 300, "copies the adaptive worker watches to their end before the measured run (job durations 20-120 s), so that its calibration has learned as a worker that has been running has; 0: a fresh worker")
	addTemporalFlags(fs, &o)
	fs.BoolVar(&o.together, "together", false, "run the strategies at the same time instead of one after another (faster; they share the CPU, and worker CPU is reported only in total)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q; every option is a flag (-h lists them)", fs.Arg(0))
	}
	if o.n < 1 {
		return o, fmt.Errorf("-n %d: want at least one copy", o.n)
	}
	if err := checkTemporal(o); err != nil {
		return o, err
	}
	if o.warmup < 0 {
		return o, fmt.Errorf("-warmup %d: want 0 (a fresh worker) or more copies", o.warmup)
	}
	if o.scale <= 0 {
		return o, fmt.Errorf("-scale %v: want a positive number (1 is real time)", o.scale)
	}
	if o.progress != "realistic" && o.progress != "linear" {
		return o, fmt.Errorf("-progress %q: want realistic or linear", o.progress)
	}
	known := map[string]bool{}
	for _, s := range allStrategies {
		known[s] = true
	}
	for _, s := range strings.Split(strategies, ",") {
		s = strings.TrimSpace(s)
		if !known[s] {
			return o, fmt.Errorf("-strategies: %q is not a strategy; choose from %s", s, strings.Join(allStrategies, ", "))
		}
		o.strategies = append(o.strategies, s)
	}
	if !slices.Contains(o.strategies, strategyAdaptive) {
		o.warmup = 0 // only the adaptive worker learns; the others would wait for nothing
	}
	var err error
	o.fixed, err = parseDurations(fixed)
	return o, err
}
