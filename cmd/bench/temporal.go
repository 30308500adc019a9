package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/imscopy/imscopy/internal/cluster"
)

// The Temporal servers a run can use (-temporal).
const (
	// temporalEmbedded is the embedded dev server on SQLite, this binary's server child.
	temporalEmbedded = "embedded"
	// temporalCluster is internal/cluster's upstream temporal-server on PostgreSQL, started from
	// docker-compose.yml's settings: production's shape.
	temporalCluster = "cluster"
)

// addTemporalFlags adds the flags that choose the Temporal server to a subcommand's flags.
func addTemporalFlags(fs *flag.FlagSet, o *options) {
	fs.StringVar(&o.temporal, "temporal", temporalEmbedded, "the Temporal server: "+temporalEmbedded+
		" (the embedded server on SQLite, a child process) or "+temporalCluster+
		" (the upstream temporal-server on PostgreSQL, as make cluster runs it; the bench's own emulator and workers stay)")
	fs.StringVar(&o.clusterBin, "bin", "bin", "with -temporal "+temporalCluster+": the folder of temporal-server and temporal-sql-tool (make build puts them in bin/)")
	fs.StringVar(&o.composeFile, "compose", "docker-compose.yml", "with -temporal "+temporalCluster+": the Compose file whose server settings the cluster runs")
}

// checkTemporal refuses a -temporal the bench cannot run.
func checkTemporal(o options) error {
	switch o.temporal {
	case temporalEmbedded, temporalCluster:
		return nil
	}
	return fmt.Errorf("-temporal %q: want %s or %s", o.temporal, temporalEmbedded, temporalCluster)
}

// temporalServer is the Temporal server a rig runs on.
type temporalServer interface {
	// address and namespace are what workers and the bench's client dial.
	address() string
	namespace() string
	// pid is the server process's now (it changes with a restart).
	pid() int
	// killAndRestart is kill -9 of the server, then a start on the same database.
	killAndRestart(ctx context.Context) error
	// usage is what the server and its database have cost so far.
	usage() (serverUsage, error)
	// describe names the server and its database, for the report.
	describe() string
	stop()
}

// serverUsage is a temporalServer's cost so far.
type serverUsage struct {
	// serverCPU is the Temporal server's; the embedded server's counts its current process only
	// (the bench reads it around phases that kill nothing).
	serverCPU time.Duration
	// databaseCPU is PostgreSQL's, every backend included; SQLite runs inside the embedded
	// server, so its share is in serverCPU and hasDatabaseCPU is false.
	databaseCPU    time.Duration
	hasDatabaseCPU bool
	// databaseBytes is the size of the database's files: PostgreSQL's tables and indexes (not its
	// write-ahead log, recycled in fixed segments); SQLite's files, its write-ahead log included.
	databaseBytes int64
}

func (u serverUsage) sub(before serverUsage) serverUsage {
	return serverUsage{serverCPU: u.serverCPU - before.serverCPU, databaseCPU: u.databaseCPU - before.databaseCPU,
		hasDatabaseCPU: u.hasDatabaseCPU, databaseBytes: u.databaseBytes - before.databaseBytes}
}

// embeddedServer is the embedded dev server on SQLite in a child process of this binary.
type embeddedServer struct {
	o       options
	dataDir string
	addr    string
	child   *child
}

func startEmbedded(ctx context.Context, o options, dataDir, addr string) (*embeddedServer, error) {
	s := &embeddedServer{o: o, dataDir: dataDir, addr: addr}
	return s, s.start(ctx)
}

func (s *embeddedServer) start(ctx context.Context) error {
	srv, err := startChild(ctx, s.o, "temporal-server", roleServer, envDataDir+"="+s.dataDir, envTemporal+"="+s.addr)
	if err != nil {
		return err
	}
	s.child = srv
	return nil
}

func (s *embeddedServer) address() string   { return s.addr }
func (s *embeddedServer) namespace() string { return "default" }
func (s *embeddedServer) pid() int          { return s.child.Pid() }
func (s *embeddedServer) describe() string  { return "the embedded Temporal server on SQLite" }

func (s *embeddedServer) killAndRestart(ctx context.Context) error {
	s.child.Kill()
	return s.start(ctx)
}

func (s *embeddedServer) usage() (serverUsage, error) {
	cpu, err := procCPU(s.child.Pid())
	if err != nil {
		return serverUsage{}, err
	}
	size, err := dirSize(s.dataDir)
	return serverUsage{serverCPU: cpu, databaseBytes: size}, err
}

func (s *embeddedServer) stop() {
	if s.child != nil {
		s.child.Stop(childStopGrace)
	}
}

// clusterServer is internal/cluster's upstream Temporal server on PostgreSQL, without the
// cluster's emulator and workers: the bench brings its own, with its job durations, progress
// model and scaled polling.
type clusterServer struct {
	c   *cluster.Cluster
	dir string
	out string
}

func startCluster(ctx context.Context, o options, dir string) (*clusterServer, error) {
	c, err := cluster.Start(ctx, cluster.Options{Bin: o.clusterBin, Dir: dir, ComposeFile: o.composeFile, ServerOnly: true})
	if err != nil {
		return nil, fmt.Errorf("start the cluster's Temporal server on PostgreSQL (its logs: %s): %w", dir, err)
	}
	return &clusterServer{c: c, dir: dir, out: o.out}, nil
}

func (s *clusterServer) address() string   { return s.c.TemporalAddress }
func (s *clusterServer) namespace() string { return s.c.Namespace }
func (s *clusterServer) pid() int          { return s.c.Server().Pid() }
func (s *clusterServer) describe() string {
	return "the upstream Temporal server on PostgreSQL (internal/cluster, docker-compose.yml's settings)"
}

func (s *clusterServer) killAndRestart(context.Context) error {
	s.c.KillServer()
	return s.c.RestartServer()
}

func (s *clusterServer) usage() (serverUsage, error) {
	u, err := s.c.Usage()
	return serverUsage{serverCPU: u.ServerCPU, databaseCPU: u.PostgresCPU, hasDatabaseCPU: true, databaseBytes: u.DatabaseBytes}, err
}

// stop stops the cluster and keeps the server's and PostgreSQL's logs in the results folder, as
// the children's are; the database goes with the run's data folder.
func (s *clusterServer) stop() {
	s.c.Stop()
	for _, name := range []string{"temporal-server.log", "postgresql.log", "temporal-schema.log"} {
		_ = copyFile(filepath.Join(s.dir, name), filepath.Join(s.out, name))
	}
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// dirSize is the size of the files under dir.
func dirSize(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if info, err := d.Info(); err == nil {
			n += info.Size()
		}
		return nil
	})
	return n, err
}
