// Command cluster runs imscopy's production shape on this machine, without Docker (`make
// cluster`): PostgreSQL from the installed packages, the upstream Temporal server on it, the IMS
// emulator and two workers in production mode, all configured from docker-compose.yml. It prints
// what runs where, ending with the TEMPORAL_ADDRESS a starter needs, and stops everything it
// started on Ctrl-C or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/imscopy/imscopy/internal/cluster"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("cluster", flag.ContinueOnError)
	fs.SetOutput(stderr)
	exe, _ := os.Executable()
	var (
		bin      = fs.String("bin", filepath.Dir(exe), "folder of temporal-server, temporal-sql-tool, worker and imsemu (`make build` puts them in bin/)")
		dir      = fs.String("dir", "", "the cluster's folder: PostgreSQL's data and the logs, kept and used again; empty: a new temporary folder, removed at exit")
		compose  = fs.String("compose", "docker-compose.yml", "the Compose file whose settings the cluster runs")
		workers  = fs.Int("workers", 0, "worker processes; 0: the Compose file's replicas")
		emuArgs  = fs.String("emulator-args", "", "flags added to the Compose file's emulator command, space-separated, e.g. \"-job-duration 5s\"")
		poolArgs = fs.String("worker-env", "", "variables added to the workers' environment, space-separated NAME=value")
	)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	folder := *dir
	if folder == "" {
		tmp, err := os.MkdirTemp("", "imscopy-cluster-")
		if err != nil {
			fmt.Fprintln(stderr, "cluster:", err)
			return 1
		}
		folder = tmp
	}
	fmt.Fprintf(stdout, "starting the cluster in %s ...\n", folder)
	c, err := cluster.Start(ctx, cluster.Options{
		Bin: *bin, Dir: folder, ComposeFile: *compose, Workers: *workers,
		EmulatorArgs: strings.Fields(*emuArgs), WorkerEnv: strings.Fields(*poolArgs),
	})
	if err != nil {
		fmt.Fprintln(stderr, "cluster:", err)
		fmt.Fprintf(stderr, "the logs are in %s\n", folder)
		return 1
	}
	fmt.Fprint(stdout, c.Describe())
	fmt.Fprintln(stdout, "running; Ctrl-C stops everything")
	<-ctx.Done()
	fmt.Fprintln(stdout, "stopping ...")
	c.Stop()
	if *dir == "" {
		// A stopped cluster's temporary folder is only its logs and a database nobody will open.
		_ = os.RemoveAll(folder)
	}
	fmt.Fprintln(stdout, "stopped")
	return 0
}
