package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/client"
	"go.uber.org/zap"

	"github.com/imscopy/imscopy/imsapi/imsclient"
	"github.com/imscopy/imscopy/imsapi/imsemu"
	"github.com/imscopy/imscopy/internal/childproc"
	"github.com/imscopy/imscopy/internal/logging"
	"github.com/imscopy/imscopy/internal/loopback"
)

// rig is the benchmark's world: the emulator in this process, the Temporal server and the
// workers in children, so that each one's CPU and memory are measured apart (and, in chaos runs,
// each can be killed).
type rig struct {
	o       options
	emu     *imsemu.Emulator
	emuSrvs []*http.Server
	ims     []benchRegion // the emulator's regions, the home region first, each on its own port
	calls   *jobCalls
	server  temporalServer
	client  client.Client
	workers []*child
	dataDir string
}

// jobCalls counts job-status requests (ShowJobProgress and ShowJob) per job ID, so that status
// calls can be told apart per copy and per strategy even when strategies run at the same time,
// and keeps when the latest one arrived: a poller stops at the answer that shows the end, so the
// latest call is the one that noticed it.
type jobCalls struct {
	mu   sync.Mutex
	jobs map[string]statusCalls
}

// statusCalls is what jobCalls knows of one job.
type statusCalls struct {
	n    int
	last time.Time
}

func newJobCalls() *jobCalls {
	return &jobCalls{jobs: map[string]statusCalls{}}
}

func (c *jobCalls) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			segs := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
			// /v1/cloudimages/job/{id} (ShowJobProgress) and /v1/{project}/jobs/{id} (ShowJob)
			if len(segs) == 4 && segs[0] == "v1" && (segs[2] == "job" || segs[2] == "jobs") {
				c.mu.Lock()
				c.jobs[segs[3]] = statusCalls{n: c.jobs[segs[3]].n + 1, last: time.Now()}
				c.mu.Unlock()
			}
		}
		next.ServeHTTP(w, r)
	})
}

func (c *jobCalls) get(jobID string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.jobs[jobID].n
}

// lastAt is when the latest status request about the job arrived (zero if none did).
func (c *jobCalls) lastAt(jobID string) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.jobs[jobID].last
}

// startRig starts everything, with the given number of workers; durations[i] is the i-th copy's
// job duration in emulator time. It returns the rig even on error, for close to clean up.
func startRig(ctx context.Context, o options, workers int, durations []time.Duration, faults imsemu.Faults) (*rig, error) {
	return startRigWith(ctx, o, workers, durations, faults, imsemu.Limits{})
}

// startRigWith is startRig with the emulator's cross-region limit set (0: IMS's own); the
// per-project quotas are always lifted.
func startRigWith(ctx context.Context, o options, workers int, durations []time.Duration, faults imsemu.Faults, limits imsemu.Limits) (*rig, error) {
	r := &rig{o: o, calls: newJobCalls()}
	progress := imsemu.ProgressRealistic
	if o.progress == "linear" {
		progress = imsemu.ProgressLinear
	}
	emu, err := imsemu.New(imsemu.Config{
		Seed:    int64(o.seed),
		Regions: o.regions,
		// Names the bench did not make (a promotion's intermediate images) take the median job.
		JobDuration:   scaled(imsemu.TypicalJobMedian, o.scale),
		OtherProjects: o.otherProjects,
		// IMS allows 40 running copy jobs and 50 private images per project; the benchmark runs
		// hundreds at once, as if the quotas had been raised, so that it measures polling, not queueing.
		Limits: imsemu.Limits{RunningJobsPerProject: -1, PrivateImagesPerProject: -1,
			CrossRegionCopiesPerTenant: limits.CrossRegionCopiesPerTenant},
		Faults: faults,
		Jobs: imsemu.JobModel{Progress: progress, DurationFor: func(name string) time.Duration {
			if i := copyIndex(name); i >= 0 && i < len(durations) {
				return durations[i]
			}
			return 0
		}},
	})
	if err != nil {
		return r, err
	}
	r.emu = emu
	for _, region := range emu.Regions() {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return r, err
		}
		srv := &http.Server{Handler: r.calls.wrap(emu.Handler(region.Name)), ReadHeaderTimeout: 10 * time.Second}
		r.emuSrvs = append(r.emuSrvs, srv)
		r.ims = append(r.ims, benchRegion{Name: region.Name, ProjectID: region.ProjectID, URL: "http://" + ln.Addr().String()})
		go func() { _ = srv.Serve(ln) }()
	}

	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return r, err
	}
	r.dataDir, err = os.MkdirTemp(o.dataDir, "imscopy-bench-temporal-")
	if err != nil {
		return r, err
	}
	if r.server, err = startServer(ctx, o, r.dataDir); err != nil {
		return r, err
	}
	r.client, err = client.Dial(client.Options{HostPort: r.server.address(), Namespace: r.server.namespace(),
		Logger: logging.NewTemporalLogger(logging.New(logging.Options{Level: zap.WarnLevel}))})
	if err != nil {
		return r, err
	}
	for range workers {
		if _, err := r.startWorker(ctx); err != nil {
			return r, err
		}
	}
	return r, nil
}

// startServer starts the Temporal server -temporal names, its database in dataDir.
func startServer(ctx context.Context, o options, dataDir string) (temporalServer, error) {
	if o.temporal == temporalCluster {
		return startCluster(ctx, o, dataDir)
	}
	addr, err := loopback.FreeAddr()
	if err != nil {
		return nil, err
	}
	return startEmbedded(ctx, o, dataDir, addr)
}

// startWorker starts one more worker child.
func (r *rig) startWorker(ctx context.Context) (*child, error) {
	w, err := startChild(ctx, r.o, fmt.Sprintf("worker-%d", len(r.workers)+1), roleWorker, r.workerEnv()...)
	if err != nil {
		return nil, err
	}
	r.workers = append(r.workers, w)
	return w, nil
}

// killWorker kills worker k with SIGKILL and starts a new one in its place.
func (r *rig) killWorker(ctx context.Context, k int) error {
	victim := r.workers[k]
	victim.Kill()
	w, err := startChild(ctx, r.o, victim.name, roleWorker, r.workerEnv()...)
	if err != nil {
		return fmt.Errorf("restart %s: %w", victim.name, err)
	}
	r.workers[k] = w
	return nil
}

func (r *rig) workerEnv() []string {
	regions, _ := json.Marshal(r.ims) // plain strings: cannot fail
	return []string{envTemporal + "=" + r.server.address(), envNamespace + "=" + r.server.namespace(), envIMS + "=" + string(regions), fmt.Sprintf("%s=%g", envScale, r.o.scale),
		envTaskQueue + "=" + benchTaskQueue, fmt.Sprintf("%s=%d", envPollers, r.o.pollers),
		fmt.Sprintf("%s=%d", envCrossRegionCopies, r.o.crossRegionCopies)}
}

// benchRegion is one of the emulator's regions as the worker child reaches it.
type benchRegion struct {
	Name      string `json:"name"`
	ProjectID string `json:"project_id"`
	URL       string `json:"url"`
}

// imsConfig is the IMS client configuration of the emulator's regions, the first one home.
func imsConfig(regions []benchRegion) (imsclient.Config, error) {
	if len(regions) == 0 {
		return imsclient.Config{}, errors.New("no IMS region given")
	}
	cfg := imsclient.Config{Region: regions[0].Name, ProjectID: regions[0].ProjectID, AK: imsemu.DefaultAK, SK: imsemu.DefaultSK,
		Projects: map[string]string{}, Endpoints: map[string]string{}}
	for _, reg := range regions {
		cfg.Endpoints[reg.Name] = reg.URL
		if reg.Name != cfg.Region {
			cfg.Projects[reg.Name] = reg.ProjectID
		}
	}
	return cfg, nil
}

func (r *rig) close() {
	for _, w := range r.workers {
		w.Stop(childStopGrace)
	}
	if r.client != nil {
		r.client.Close()
	}
	if r.server != nil {
		r.server.stop()
	}
	for _, srv := range r.emuSrvs {
		_ = srv.Close()
	}
	if r.emu != nil {
		_ = r.emu.Close()
	}
	if r.dataDir != "" {
		_ = os.RemoveAll(r.dataDir)
	}
}

// child is a process running this binary in another role (the worker, the Temporal server).
type child struct {
	*childproc.Proc
	name    string
	ready   string // the rest of the line that announced readiness
	logPath string
}

// childStopGrace is how long a stopped child may take to stop before it is killed: a worker
// finishes its running activities within its own stop timeout, which is shorter.
const childStopGrace = 30 * time.Second

// startChild starts this binary with role and env and waits for its readiness line on stdout.
// Its stderr goes to <out>/<name>.log (appended, so a restarted child keeps the earlier log).
func startChild(ctx context.Context, o options, name, role string, env ...string) (*child, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(o.out, name+".log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	p, err := childproc.Start(childproc.Spec{Path: self, Env: append([]string{roleEnv + "=" + role}, env...), Stderr: logFile})
	if err != nil {
		logFile.Close()
		return nil, err
	}
	go func() {
		<-p.Exited()
		logFile.Close()
	}()
	c := &child{Proc: p, name: name, logPath: logPath}
	line, err := p.WaitLine(ctx, readyMarker, 2*time.Minute)
	if err == nil {
		_, c.ready, _ = strings.Cut(line, readyMarker)
		return c, nil
	}
	if errors.Is(err, childproc.ErrExited) {
		return nil, fmt.Errorf("the %s child exited before it was ready; see %s", name, logPath)
	}
	c.Stop(childStopGrace)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return nil, fmt.Errorf("the %s child was not ready within 2 minutes; see %s", name, logPath)
}

func (c *child) stats() (workerStatsView, error) {
	return c.readStats(http.MethodGet)
}

// resetPeaks starts the worker's peak slot counts afresh.
func (c *child) resetPeaks() error {
	_, err := c.readStats(http.MethodPost)
	return err
}

func (c *child) readStats(method string) (workerStatsView, error) {
	var v workerStatsView
	req, err := http.NewRequest(method, c.ready, nil)
	if err != nil {
		return v, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return v, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return v, err
	}
	return v, json.Unmarshal(b, &v)
}

// workerStatsView is workerStats as the parent reads it.
type workerStatsView struct {
	Heartbeats map[string]int `json:"heartbeats"`
	PeakSlots  map[string]int `json:"peak_slots"`
	PeakTotal  int            `json:"peak_total"`
}
