package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/worker"
	tokenspb "go.temporal.io/server/api/token/v1"
	"go.uber.org/zap/zapcore"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/imscopy/imscopy/activities"
	"github.com/imscopy/imscopy/imsapi/imsclient"
	"github.com/imscopy/imscopy/internal/logging"
)

// The worker child is this binary started again with roleEnv=roleWorker; the parent passes the
// rest through these variables.
const (
	roleEnv              = "IMSCOPY_BENCH_ROLE"
	roleWorker           = "worker"
	envTemporal          = "IMSCOPY_BENCH_TEMPORAL"
	envNamespace         = "IMSCOPY_BENCH_NAMESPACE"
	envIMS               = "IMSCOPY_BENCH_IMS" // JSON: the emulator's regions ([]benchRegion), the home region first
	envCrossRegionCopies = "IMSCOPY_BENCH_CROSS_REGION_COPIES"
	envScale             = "IMSCOPY_BENCH_SCALE"
	envTaskQueue         = "IMSCOPY_BENCH_TASK_QUEUE"
	envPollers           = "IMSCOPY_BENCH_POLLERS"
	readyMarker          = "BENCH_WORKER_READY "
	heartbeatRPC         = "/temporal.api.workflowservice.v1.WorkflowService/RecordActivityTaskHeartbeat"
	heartbeatByID        = "/temporal.api.workflowservice.v1.WorkflowService/RecordActivityTaskHeartbeatById"
	statsPath            = "/stats"
	benchTaskQueue       = "imscopy-bench"
)

// workerStats is what the worker child counts, per strategy (read from the workflow ID).
type workerStats struct {
	mu         sync.Mutex
	Heartbeats map[string]int `json:"heartbeats"` // RecordActivityTaskHeartbeat RPCs sent
	Slots      map[string]int `json:"slots"`      // activities running now
	PeakSlots  map[string]int `json:"peak_slots"` // most activities running at once
	PeakTotal  int            `json:"peak_total"` // most activities running at once, all strategies
	total      int
}

func newWorkerStats() *workerStats {
	return &workerStats{Heartbeats: map[string]int{}, Slots: map[string]int{}, PeakSlots: map[string]int{}}
}

func (s *workerStats) heartbeat(strategy string) {
	s.mu.Lock()
	s.Heartbeats[strategy]++
	s.mu.Unlock()
}

func (s *workerStats) slot(strategy string, delta int) {
	s.mu.Lock()
	s.Slots[strategy] += delta
	s.total += delta
	s.PeakSlots[strategy] = max(s.PeakSlots[strategy], s.Slots[strategy])
	s.PeakTotal = max(s.PeakTotal, s.total)
	s.mu.Unlock()
}

// ServeHTTP answers a GET with the counters. A POST first lowers the peaks to what runs now, so
// that a phase's peaks are its own, not the warm-up's.
func (s *workerStats) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if r.Method == http.MethodPost {
		s.PeakTotal = s.total
		for k := range s.PeakSlots {
			s.PeakSlots[k] = s.Slots[k]
		}
	}
	b, err := json.Marshal(s)
	s.mu.Unlock()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

// countHeartbeats is a gRPC client interceptor: it counts the heartbeat RPCs that leave the
// worker (the SDK throttles RecordHeartbeat calls, so the calls would overstate them) and reads
// the workflow ID out of the task token to know whose they are.
func countHeartbeats(stats *workerStats) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		switch method {
		case heartbeatRPC:
			var token tokenspb.Task
			if r, ok := req.(*workflowservice.RecordActivityTaskHeartbeatRequest); ok && proto.Unmarshal(r.GetTaskToken(), &token) == nil {
				stats.heartbeat(strategyOf(token.GetWorkflowId()))
			} else {
				stats.heartbeat("")
			}
		case heartbeatByID:
			if r, ok := req.(*workflowservice.RecordActivityTaskHeartbeatByIdRequest); ok {
				stats.heartbeat(strategyOf(r.GetWorkflowId()))
			}
		}
		return invoker(ctx, method, req, reply, cc, opts...)
	}
}

// slotCounter is an activity interceptor that tracks how many activity slots each strategy holds.
type slotCounter struct {
	interceptor.WorkerInterceptorBase
	stats *workerStats
}

func (c *slotCounter) InterceptActivity(ctx context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	return &slotHolder{ActivityInboundInterceptorBase: interceptor.ActivityInboundInterceptorBase{Next: next}, stats: c.stats}
}

type slotHolder struct {
	interceptor.ActivityInboundInterceptorBase
	stats *workerStats
}

func (h *slotHolder) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	strategy := strategyOf(activity.GetInfo(ctx).WorkflowExecution.ID)
	h.stats.slot(strategy, 1)
	defer h.stats.slot(strategy, -1)
	return h.Next.ExecuteActivity(ctx, in)
}

// workerMain is the worker child: the product's workflow and activities plus the comparison
// strategies on one task queue, with the counters served on a loopback port.
func workerMain() error {
	scale, err := strconv.ParseFloat(os.Getenv(envScale), 64)
	if err != nil || scale <= 0 {
		return fmt.Errorf("%s=%q: want a positive number", envScale, os.Getenv(envScale))
	}
	var regions []benchRegion
	if err := json.Unmarshal([]byte(os.Getenv(envIMS)), &regions); err != nil {
		return fmt.Errorf("%s: %w", envIMS, err)
	}
	cfg, err := imsConfig(regions)
	if err != nil {
		return err
	}
	ims, err := imsclient.New(cfg)
	if err != nil {
		return err
	}
	crossRegionCopies, _ := strconv.Atoi(os.Getenv(envCrossRegionCopies))
	stats := newWorkerStats()
	c, err := client.Dial(client.Options{
		HostPort:  os.Getenv(envTemporal),
		Namespace: os.Getenv(envNamespace),
		// Warnings only: info lines for thousands of activities would cost the CPU being measured.
		Logger:            logging.NewTemporalLogger(logging.New(logging.Options{Level: zapcore.WarnLevel, Output: os.Stderr})),
		ConnectionOptions: client.ConnectionOptions{DialOptions: []grpc.DialOption{grpc.WithChainUnaryInterceptor(countHeartbeats(stats))}},
	})
	if err != nil {
		return err
	}
	defer c.Close()

	pollers, _ := strconv.Atoi(os.Getenv(envPollers))
	w := worker.New(c, os.Getenv(envTaskQueue), workerOptions(scale, pollers, stats))
	acts := &activities.Activities{IMS: ims, Poll: scaledPollConfig(scale), Calibration: activities.NewCalibration(),
		Temporal: c, CrossRegionCopies: crossRegionCopies}
	registerStrategies(w, acts)
	if err := w.Start(); err != nil {
		return err
	}
	defer w.Stop()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle(statsPath, stats)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	fmt.Printf("%shttp://%s%s\n", readyMarker, ln.Addr(), statsPath)
	// The parent ends the child with SIGTERM (or kill -9 in chaos runs); until then, serve.
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, os.Interrupt)
	<-stop
	return srv.Close()
}

// scaledPollConfig is the product's default PollConfig with every interval divided by scale.
func scaledPollConfig(scale float64) activities.PollConfig {
	p := activities.DefaultPollConfig()
	for _, d := range []*time.Duration{&p.Initial, &p.Min, &p.Max, &p.Lag, &p.HeartbeatEvery, &p.VisibilityWait} {
		*d = scaled(*d, scale)
	}
	return p
}

// workerOptions are the worker's options. The heartbeat throttle is scaled too: the SDK sends a
// heartbeat at most every 80 % of the heartbeat timeout, capped at MaxHeartbeatThrottleInterval.
// The product's PollJob keeps its real one-minute timeout (workflows.pollOptions), so at scale
// s the cap 48 s/s gives it the same heartbeats per job-second as at scale 1; the comparison
// strategies' timeouts are scaled already and stay under the cap.
func workerOptions(scale float64, pollers int, stats *workerStats) worker.Options {
	opts := worker.Options{
		Interceptors:                     []interceptor.WorkerInterceptor{&slotCounter{stats: stats}},
		MaxConcurrentWorkflowTaskPollers: pollers,
		MaxConcurrentActivityTaskPollers: pollers,
	}
	if scale > 1 {
		opts.MaxHeartbeatThrottleInterval = scaled(48*time.Second, scale)
		opts.DefaultHeartbeatThrottleInterval = scaled(30*time.Second, scale)
	}
	return opts
}
