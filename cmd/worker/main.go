// Command worker runs imscopy's copy workflow and its activities on a Temporal task queue.
//
// It is configured by environment variables only (`worker -h` lists them). With TEMPORAL_ADDRESS
// empty it runs in dev mode: it hosts an embedded Temporal server on DEV_SERVER_ADDRESS with its
// state under DATA_DIR, so one process is all a laptop needs, and a restart keeps every workflow.
//
// It stops on SIGINT or SIGTERM: it stops polling, lets running activities finish for up to
// WORKER_STOP_TIMEOUT, then stops the embedded server. A second signal exits at once.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.uber.org/zap"
	"golang.org/x/term"

	"github.com/imscopy/imscopy/activities"
	"github.com/imscopy/imscopy/imsapi"
	"github.com/imscopy/imscopy/internal/config"
	"github.com/imscopy/imscopy/internal/devserver"
	"github.com/imscopy/imscopy/internal/logging"
	"github.com/imscopy/imscopy/workflows"
)

// Exit codes.
const (
	exitFailed = 1 // the worker could not start or failed while running
	exitConfig = 2 // the environment is wrong; the message says which variable
)

func main() {
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: worker\n\nThe worker takes no flags; it reads these environment variables:\n\n")
		_ = config.WorkerUsage(flag.CommandLine.Output())
	}
	flag.Parse()
	if flag.NArg() > 0 {
		flag.Usage()
		os.Exit(exitConfig)
	}

	cfg, err := config.LoadWorker()
	if err != nil {
		fmt.Fprintf(os.Stderr, "worker: cannot start, the environment is not right:\n%v\n(`worker -h` lists every variable)\n", err)
		os.Exit(exitConfig)
	}

	redactor := logging.NewRedactor()
	redactor.Register(cfg.Secrets()...)
	logger := logging.New(logging.Options{
		Level:    cfg.LogLevel.Zap(),
		Console:  term.IsTerminal(int(os.Stderr.Fd())),
		Redactor: redactor,
	})
	defer func() { _ = logger.Sync() }()

	if err := run(cfg, logger); err != nil {
		logger.Error("worker failed", zap.Error(err))
		_ = logger.Sync()
		os.Exit(exitFailed)
	}
}

func run(cfg config.Worker, logger *zap.Logger) error {
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	signals, stopSignals := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stopSignals()

	ims, err := imsapi.New(imsapi.Config{
		Region:        cfg.Region,
		ProjectID:     cfg.ProjectID,
		Projects:      cfg.Projects,
		AK:            cfg.AK.Reveal(),
		SK:            cfg.SK.Reveal(),
		SecurityToken: cfg.SecurityToken.Reveal(),
		Endpoints:     cfg.Endpoints,
		// One line per HTTP exchange: worth having when debugging, noise otherwise.
		Logger: logger.Named("ims").Sugar().Debugf,
	})
	if err != nil {
		return fmt.Errorf("IMS client: %w", err)
	}

	address := string(cfg.TemporalAddress)
	if cfg.DevMode() {
		srv, err := devserver.Start(devserver.Options{
			DataDir:   cfg.DataDir,
			HostPort:  string(cfg.DevServerAddress),
			Namespace: cfg.Namespace,
			Logger:    logger,
		})
		if err != nil {
			return err
		}
		// Deferred first, so it runs last: the server outlives the worker that talks to it.
		defer func() {
			if err := srv.Stop(); err != nil {
				logger.Warn("embedded Temporal server stop", zap.Error(err))
			}
			logger.Info("embedded Temporal server stopped")
		}()
		address = srv.HostPort()
		logger.Info("embedded Temporal server started", zap.String("address", address), zap.String("dataDir", cfg.DataDir))
	}

	c, err := client.Dial(client.Options{
		HostPort:  address,
		Namespace: cfg.Namespace,
		Logger:    logging.NewTemporalLogger(logger.Named("temporal")),
	})
	if err != nil {
		return fmt.Errorf("cannot reach Temporal at %s (namespace %s): %w; check TEMPORAL_ADDRESS, or leave it empty "+
			"to run an embedded server", address, cfg.Namespace, err)
	}
	defer c.Close()

	w := worker.New(c, cfg.TaskQueue, worker.Options{
		WorkerStopTimeout: cfg.WorkerStopTimeout,
		// A fatal poll error (the namespace was deleted, the credentials were revoked) ends the
		// process, so a supervisor restarts it and the failure is visible, instead of a worker
		// that looks alive and polls nothing.
		OnFatalError: func(err error) { cancel(err) },
	})
	workflows.Register(w, &activities.Activities{IMS: ims, Poll: cfg.Poll(), Signaler: c})
	if err := w.Start(); err != nil {
		return fmt.Errorf("start polling task queue %s: %w", cfg.TaskQueue, err)
	}
	logger.Info("worker ready",
		zap.String("temporal", address), zap.String("namespace", cfg.Namespace), zap.String("taskQueue", cfg.TaskQueue),
		zap.Bool("devMode", cfg.DevMode()), zap.String("region", cfg.Region), zap.Any("imsEndpoints", cfg.Endpoints))

	<-signals.Done()
	// Restore the default signal handling: a second Ctrl-C ends the process at once.
	stopSignals()
	if cause := context.Cause(ctx); cause != nil {
		w.Stop()
		return fmt.Errorf("the worker stopped polling: %w", cause)
	}
	logger.Info("stopping: no new tasks; running activities get WORKER_STOP_TIMEOUT to finish (signal again to exit at once)",
		zap.Duration("stopTimeout", cfg.WorkerStopTimeout))
	w.Stop()
	logger.Info("worker stopped")
	return nil
}
