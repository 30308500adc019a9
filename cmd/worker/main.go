// Command worker runs imscopy's copy workflow and its activities on a Temporal task queue.
//
// It is configured by environment variables only (`worker -h` lists them). With TEMPORAL_ADDRESS
// empty it runs in dev mode: it hosts an embedded Temporal server on DEV_SERVER_ADDRESS with its
// state under DATA_DIR, so one process is all a laptop needs, and a restart keeps every workflow;
// it serves the Temporal Web UI on DEV_UI_ADDRESS, as `temporal server start-dev` does.
//
// With TEMPORAL_ADDRESS set it dials that cluster instead, with the Temporal CLI's connection
// settings (TEMPORAL_TLS_*, TEMPORAL_API_KEY, a TEMPORAL_PROFILE of TEMPORAL_CONFIG_FILE). With
// METRICS_ADDR set it serves Prometheus metrics on /metrics and its readiness on /healthz.
//
// It stops on SIGINT or SIGTERM: it stops polling, lets running activities finish for up to
// WORKER_STOP_TIMEOUT, then stops the embedded server. A second signal exits at once.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.uber.org/zap"
	"golang.org/x/term"

	"github.com/imscopy/imscopy/activities"
	"github.com/imscopy/imscopy/imsapi/imsclient"
	"github.com/imscopy/imscopy/internal/config"
	"github.com/imscopy/imscopy/internal/devserver"
	"github.com/imscopy/imscopy/internal/logging"
	"github.com/imscopy/imscopy/internal/metrics"
	"github.com/imscopy/imscopy/workflows"
)

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1 // the worker could not start or failed while running
	exitConfig = 2 // the environment is wrong; the message says which variable
)

func main() {
	ctx, stopSignals := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// After the first signal, the default handling is back: a second one ends the process at once.
	context.AfterFunc(ctx, stopSignals)
	os.Exit(start(ctx, os.Args[1:], os.Stderr))
}

// start is the whole program: it runs until ctx ends, returns the exit code, and writes messages
// and logs to out.
func start(ctx context.Context, args []string, out io.Writer) int {
	flags := flag.NewFlagSet("worker", flag.ContinueOnError)
	flags.SetOutput(out)
	flags.Usage = func() {
		fmt.Fprintf(out, "usage: worker\n\nThe worker takes no flags; it reads these environment variables:\n\n")
		_ = config.WorkerUsage(out)
	}
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitConfig
	}
	if flags.NArg() > 0 {
		flags.Usage()
		return exitConfig
	}

	cfg, err := config.LoadWorker()
	if err != nil {
		fmt.Fprintf(out, "worker: cannot start, the environment is not right:\n%v\n(`worker -h` lists every variable)\n", err)
		return exitConfig
	}

	redactor := logging.NewRedactor()
	redactor.Register(cfg.Secrets()...)
	logger := logging.New(logging.Options{
		Level:    cfg.LogLevel.Zap(),
		Output:   out,
		Console:  isTerminal(out),
		Redactor: redactor,
	})
	defer func() { _ = logger.Sync() }()

	if err := run(ctx, cfg, logger); err != nil {
		logger.Error("worker failed", zap.Error(err))
		return exitFailed
	}
	return exitOK
}

// isTerminal says whether logs go to a person (readable lines) rather than a collector (JSON).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// run connects the worker (to IMS, and to Temporal or the embedded server it starts), starts it
// polling, and stops it when ctx ends or polling fails for good.
func run(ctx context.Context, cfg config.Worker, logger *zap.Logger) error {
	ctx, fail := context.WithCancelCause(ctx)
	defer fail(nil)

	m, metricsServer, err := serveMetrics(cfg.MetricsAddr, logger)
	if err != nil {
		return err
	}
	if metricsServer != nil {
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = metricsServer.Close(sctx)
		}()
	}
	ims, err := newIMSClient(cfg, logger, m)
	if err != nil {
		return err
	}
	address := string(cfg.TemporalAddress)
	if cfg.DevMode() {
		var stop func()
		if address, stop, err = startEmbeddedServer(cfg, logger); err != nil {
			return err
		}
		// Deferred first, so it runs last: the server outlives the worker that talks to it.
		defer stop()
	}
	c, err := connect(ctx, cfg, address, logger, m)
	if err != nil {
		return err
	}
	defer c.Close()

	// A fatal poll error (the namespace was deleted, the credentials were revoked) ends the
	// process, so a supervisor restarts it and the failure is visible, instead of a worker
	// that looks alive and polls nothing.
	w, err := startPolling(c, cfg, ims, m, func(err error) { fail(fmt.Errorf("the worker stopped polling: %w", err)) })
	if err != nil {
		return err
	}
	if metricsServer != nil {
		metricsServer.SetReady(true)
	}
	logger.Info("worker ready",
		zap.String("temporal", address), zap.String("namespace", cfg.Namespace), zap.String("taskQueue", cfg.TaskQueue),
		zap.Stringer("connection", cfg.Temporal), zap.Bool("devMode", cfg.DevMode()), zap.String("region", cfg.Region),
		zap.Any("imsEndpoints", cfg.Endpoints))

	<-ctx.Done()
	if metricsServer != nil {
		// Not ready from now on: a stopping worker polls nothing.
		metricsServer.SetReady(false)
	}
	if cause := context.Cause(ctx); !errors.Is(cause, context.Canceled) {
		w.Stop()
		return cause
	}
	logger.Info("stopping: no new tasks; running activities get WORKER_STOP_TIMEOUT to finish (signal again to exit at once)",
		zap.Duration("stopTimeout", cfg.WorkerStopTimeout))
	w.Stop()
	logger.Info("worker stopped")
	return nil
}

// newIMSClient is the IMS client of cfg; m, when not nil, observes every call.
func newIMSClient(cfg config.Worker, logger *zap.Logger, m *metrics.Metrics) (*imsclient.Client, error) {
	imsConfig := imsclient.Config{
		Region:        cfg.Region,
		ProjectID:     cfg.ProjectID,
		Projects:      cfg.Projects,
		AK:            cfg.AK.Reveal(),
		SK:            cfg.SK.Reveal(),
		SecurityToken: cfg.SecurityToken.Reveal(),
		Endpoints:     cfg.Endpoints,
		// One line per HTTP exchange: worth having when debugging, noise otherwise.
		Logger: logger.Named("ims").Sugar().Debugf,
	}
	if m != nil {
		imsConfig.Observe = m.ObserveIMSCall
	}
	ims, err := imsclient.New(imsConfig)
	if err != nil {
		return nil, fmt.Errorf("IMS client: %w", err)
	}
	return ims, nil
}

// startEmbeddedServer starts dev mode's Temporal server (and its Web UI when configured) and
// returns its address and how to stop it.
func startEmbeddedServer(cfg config.Worker, logger *zap.Logger) (string, func(), error) {
	srv, err := devserver.Start(devserver.Options{
		DataDir:    cfg.DataDir,
		HostPort:   string(cfg.DevServerAddress),
		Namespace:  cfg.Namespace,
		Logger:     logger,
		UIHostPort: string(cfg.DevUIAddress),
	})
	if err != nil {
		return "", nil, err
	}
	stop := func() {
		if err := srv.Stop(); err != nil {
			logger.Warn("embedded Temporal server stop", zap.Error(err))
			return
		}
		logger.Info("embedded Temporal server stopped")
	}
	address := srv.HostPort()
	logger.Info("embedded Temporal server started", zap.String("address", address), zap.String("dataDir", cfg.DataDir))
	if url := srv.UIURL(); url != "" {
		logger.Info("serving the Temporal Web UI", zap.String("url", url))
	}
	return address, stop, nil
}

// connect dials Temporal at address; a failure says what to check.
func connect(ctx context.Context, cfg config.Worker, address string, logger *zap.Logger, m *metrics.Metrics) (client.Client, error) {
	opts := cfg.Temporal.Options(address, cfg.Namespace)
	opts.Logger = logging.NewTemporalLogger(logger.Named("temporal"))
	if m != nil {
		opts.MetricsHandler = m.Temporal()
	}
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		hint := "check TEMPORAL_ADDRESS, or leave it empty to run an embedded server"
		if h := cfg.Temporal.Hint(err); h != "" {
			hint = h
		}
		return nil, fmt.Errorf("cannot reach Temporal at %s (namespace %s, %s): %w; %s", address, cfg.Namespace, cfg.Temporal, err, hint)
	}
	return c, nil
}

// startPolling registers every workflow and activity on a worker of cfg's task queue and starts
// it polling; onFatal is called when polling fails for good.
func startPolling(c client.Client, cfg config.Worker, ims *imsclient.Client, m *metrics.Metrics, onFatal func(error)) (worker.Worker, error) {
	wopts := cfg.WorkerOptions()
	wopts.OnFatalError = onFatal
	if m != nil {
		wopts.Interceptors = append(wopts.Interceptors, m.Interceptor())
	}
	w := worker.New(c, cfg.TaskQueue, wopts)
	workflows.Register(w, &activities.Activities{IMS: ims, Poll: cfg.Poll(), Calibration: activities.NewCalibration(),
		Temporal: c, CrossRegionCopies: cfg.CrossRegionCopies})
	if err := w.Start(); err != nil {
		return nil, fmt.Errorf("start polling task queue %s: %w", cfg.TaskQueue, err)
	}
	return w, nil
}

// serveMetrics starts the metrics and health endpoint on addr; with addr empty it serves nothing
// and returns nils, and every metric hook stays unset.
func serveMetrics(addr config.HostPort, logger *zap.Logger) (*metrics.Metrics, *metrics.Server, error) {
	if addr == "" {
		return nil, nil, nil
	}
	m, err := metrics.New(func(err error) { logger.Warn("metric dropped", zap.Error(err)) })
	if err != nil {
		return nil, nil, err
	}
	srv, err := m.Listen(string(addr))
	if err != nil {
		return nil, nil, err
	}
	logger.Info("serving metrics and health", zap.String("address", srv.Addr()))
	return m, srv, nil
}
