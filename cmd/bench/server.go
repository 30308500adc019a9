package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"go.uber.org/zap"

	"github.com/imscopy/imscopy/internal/devserver"
	"github.com/imscopy/imscopy/internal/logging"
)

const (
	roleServer = "server"
	envDataDir = "IMSCOPY_BENCH_DATA_DIR"
)

// serverMain is the Temporal server child: the embedded dev server on the parent's data folder,
// until SIGTERM (or a kill -9 in chaos runs; the next start recovers from the SQLite file).
func serverMain() error {
	srv, err := devserver.Start(devserver.Options{
		DataDir: os.Getenv(envDataDir), HostPort: os.Getenv(envTemporal),
		Logger: logging.New(logging.Options{Level: zap.WarnLevel, Output: os.Stderr}),
	})
	if err != nil {
		return err
	}
	fmt.Printf("%s%s\n", readyMarker, srv.HostPort())
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, os.Interrupt)
	<-stop
	return srv.Stop()
}
