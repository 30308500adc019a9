// Package cluster runs imscopy's production shape on one machine, without Docker: PostgreSQL from
// the installed packages, Temporal's schemas set up by Temporal's own SQL tool, the upstream
// Temporal server as its own process, the IMS emulator and worker processes in production mode.
//
// docker-compose.yml is the one source of truth: the schema job's script, the server's
// environment (rendered by the server's embedded config template, as the temporalio/server
// image's entrypoint does with `temporal-server start`), its dynamic config file (through the
// service's bind mount), the namespace and its retention, the emulator's command and the workers'
// environment are all read from it. Only hosts and ports change, to free loopback ones, so that a
// setting missing from the Compose file fails here too.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/imscopy/imscopy/imsapi"
	"github.com/imscopy/imscopy/internal/childproc"
	"github.com/imscopy/imscopy/internal/devserver"
)

// Binaries the cluster runs, as `make build` names them in bin/ (and the images in /usr/local/bin).
const (
	ServerBinary   = "temporal-server"
	SQLToolBinary  = "temporal-sql-tool"
	WorkerBinary   = "worker"
	EmulatorBinary = "imsemu"
)

// Options say what to run and where.
type Options struct {
	// Bin is the folder of the binaries (ServerBinary, SQLToolBinary, WorkerBinary, EmulatorBinary).
	Bin string
	// Dir is the cluster's folder: PostgreSQL's data and every process's log. A folder that holds
	// a cluster's data already is used again.
	Dir string
	// ComposeFile is docker-compose.yml.
	ComposeFile string
	// Workers is how many worker processes run; 0 means the Compose file's replicas.
	Workers int
	// WorkerEnv is added to the worker service's environment (NAME=value), e.g. faster polling.
	WorkerEnv []string
	// EmulatorArgs are added to the emulator service's command, e.g. a shorter -job-duration.
	EmulatorArgs []string
	// ServerOnly starts PostgreSQL, the schemas, the Temporal server and its namespace, and
	// nothing else: no Web UI, emulator or workers (Workers, WorkerEnv and EmulatorArgs are
	// ignored). It is for a caller that brings its own, as cmd/bench does; only ServerBinary and
	// SQLToolBinary must be in Bin.
	ServerOnly bool
}

// Cluster is a running cluster.
type Cluster struct {
	opts    Options
	compose *Compose

	pg        *postgres
	serverEnv []string
	server    *Proc
	emulator  *Proc
	ui        *devserver.WebUI
	workers   []*Proc
	workerEnv [][]string
	// endedServerCPU is the CPU of the server processes that have ended (killed, then restarted),
	// so that Usage covers the cluster's whole life, not only the server's latest start.
	endedServerCPU time.Duration

	// TemporalAddress is the Temporal frontend's host:port, what a worker or starter dials.
	TemporalAddress string
	// Namespace is the namespace the Compose file's namespace job creates.
	Namespace string
	// Endpoints are the emulator's regions and their URLs, as IMS_ENDPOINTS gives them to workers.
	Endpoints map[string]string
	// MetricsAddrs are each worker's METRICS_ADDR.
	MetricsAddrs []string
}

// Start starts the cluster. On failure, what was started is stopped again.
func Start(ctx context.Context, opts Options) (_ *Cluster, err error) {
	compose, err := LoadCompose(opts.ComposeFile)
	if err != nil {
		return nil, err
	}
	// The processes run in other working folders: every path they are given is absolute.
	if opts.Dir, err = filepath.Abs(opts.Dir); err != nil {
		return nil, err
	}
	if opts.Bin, err = filepath.Abs(opts.Bin); err != nil {
		return nil, err
	}
	pgBin, err := PostgresBinDir()
	if err != nil {
		return nil, err
	}
	binaries := []string{ServerBinary, SQLToolBinary, WorkerBinary, EmulatorBinary}
	if opts.ServerOnly {
		binaries = binaries[:2]
	}
	for _, name := range binaries {
		if _, err := os.Stat(filepath.Join(opts.Bin, name)); err != nil {
			return nil, fmt.Errorf("%s: %w (`make build` builds it)", name, err)
		}
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, err
	}
	// PostgreSQL runs as another user, who must reach its data folder inside this one.
	if err := os.Chmod(opts.Dir, 0o755); err != nil {
		return nil, err
	}
	c := &Cluster{opts: opts, compose: compose}
	defer func() {
		if err != nil {
			c.Stop()
		}
	}()
	ports := newPortPicker()

	schemaEnv := compose.Env(schemaService)
	c.pg, err = initPostgres(pgBin, filepath.Join(opts.Dir, "postgresql"), opts.Dir, schemaEnv["SQL_USER"], schemaEnv["SQL_PASSWORD"])
	if err != nil {
		return nil, err
	}
	pgPort, err := ports.one()
	if err != nil {
		return nil, err
	}
	if err := c.pg.start(pgPort); err != nil {
		return nil, err
	}
	if err := c.setupSchema(ctx); err != nil {
		return nil, err
	}
	if err := c.configureServer(ports); err != nil {
		return nil, err
	}
	if err := c.StartServer(); err != nil {
		return nil, err
	}
	if err := c.createNamespace(ctx); err != nil {
		return nil, err
	}
	if opts.ServerOnly {
		return c, nil
	}
	// The Web UI, as the temporal-ui service: the one the dev-mode worker embeds, served by this
	// process in front of the standalone server.
	uiPort, err := ports.one()
	if err != nil {
		return nil, err
	}
	if c.ui, err = devserver.ServeWebUI(hostPort(uiPort), c.TemporalAddress, c.Namespace); err != nil {
		return nil, err
	}
	if err := c.startEmulator(ports); err != nil {
		return nil, err
	}
	if err := c.configureWorkers(ports); err != nil {
		return nil, err
	}
	for i := range c.workerEnv {
		if err := c.StartWorker(i); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// setupSchema runs the Compose file's schema job, its script and environment, with the real
// temporal-sql-tool on the PATH and PostgreSQL's loopback address instead of the service's.
func (c *Cluster) setupSchema(ctx context.Context) error {
	script, err := c.compose.Script(schemaService)
	if err != nil {
		return err
	}
	env := c.compose.Env(schemaService)
	env["SQL_HOST"] = loopback
	env["SQL_PORT"] = strconv.Itoa(c.pg.port)
	env["PATH"] = c.opts.Bin + ":/usr/bin:/bin"
	cmd := exec.CommandContext(ctx, "/bin/sh", "-ec", script)
	cmd.Env = childproc.EnvList(env)
	cmd.Dir = c.opts.Dir
	out, err := cmd.CombinedOutput()
	_ = os.WriteFile(filepath.Join(c.opts.Dir, "temporal-schema.log"), out, 0o644)
	if err != nil {
		return fmt.Errorf("the schema job of %s failed: %v; its log: %s", c.opts.ComposeFile, err, filepath.Join(c.opts.Dir, "temporal-schema.log"))
	}
	return nil
}

// The server's listeners, as its embedded config template names them, each moved to a free
// loopback port.
var serverPortVars = []string{
	"FRONTEND_GRPC_PORT", "FRONTEND_MEMBERSHIP_PORT", "FRONTEND_HTTP_PORT",
	"HISTORY_GRPC_PORT", "HISTORY_MEMBERSHIP_PORT",
	"MATCHING_GRPC_PORT", "MATCHING_MEMBERSHIP_PORT",
	"WORKER_GRPC_PORT", "WORKER_MEMBERSHIP_PORT",
}

// configureServer builds the server's environment: the temporal service's, with PostgreSQL and
// the listeners on loopback, and the dynamic config file where the service's bind mount puts it.
func (c *Cluster) configureServer(ports *portPicker) error {
	env := c.compose.Env(temporalService)
	for _, name := range serverPortVars {
		if _, set := env[name]; set {
			return fmt.Errorf("the %s service sets %s; the cluster moves every listener to a free port and would override it", temporalService, name)
		}
		port, err := ports.one()
		if err != nil {
			return err
		}
		env[name] = strconv.Itoa(port)
	}
	env["POSTGRES_SEEDS"] = loopback
	env["DB_PORT"] = strconv.Itoa(c.pg.port)
	env["BIND_ON_IP"] = loopback
	dc, err := DynamicConfigFile(c.compose.service(temporalService))
	if err != nil {
		return err
	}
	env["DYNAMIC_CONFIG_FILE_PATH"] = dc
	c.serverEnv = childproc.EnvList(env)
	c.TemporalAddress = hostPort(mustAtoi(env["FRONTEND_GRPC_PORT"]))
	return nil
}

// StartServer starts the Temporal server as the image's entrypoint does (`temporal-server
// start`, configured by its environment alone) and waits until its frontend answers.
func (c *Cluster) StartServer() error {
	if old := c.server; old != nil {
		select {
		case <-old.Exited():
			c.endedServerCPU += old.EndedCPU()
		default:
			return fmt.Errorf("the Temporal server (pid %d) still runs: kill it first", old.Pid())
		}
	}
	p, err := startProc(procSpec{
		name: ServerBinary, path: filepath.Join(c.opts.Bin, ServerBinary), args: []string{"start"},
		env: c.serverEnv, dir: c.opts.Dir, log: filepath.Join(c.opts.Dir, "temporal-server.log"),
	})
	if err != nil {
		return err
	}
	c.server = p
	return c.waitFrontend()
}

// waitFrontend waits until the frontend serves the system namespace. The bound only turns a
// server that never comes up into an error.
func (c *Cluster) waitFrontend() error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	for {
		nc, err := client.NewNamespaceClient(client.Options{HostPort: c.TemporalAddress, Logger: quietLogger{}})
		if err == nil {
			_, err = nc.Describe(ctx, "temporal-system")
			nc.Close()
			if err == nil {
				return nil
			}
		}
		select {
		case <-c.server.Exited():
			return fmt.Errorf("the Temporal server exited at start; its log, %s, ends with:\n%s", c.server.LogPath, c.server.Tail(3))
		case <-ctx.Done():
			return fmt.Errorf("the Temporal server did not answer at %s: %v; its log: %s", c.TemporalAddress, err, c.server.LogPath)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// KillServer is kill -9 of the Temporal server.
func (c *Cluster) KillServer() { c.server.Kill() }

// createNamespace does what the Compose file's namespace job does: creates its namespace with
// its retention unless it exists.
func (c *Cluster) createNamespace(ctx context.Context) error {
	name, retention, err := c.compose.Namespace()
	if err != nil {
		return err
	}
	c.Namespace = name
	nc, err := client.NewNamespaceClient(client.Options{HostPort: c.TemporalAddress, Logger: quietLogger{}})
	if err != nil {
		return err
	}
	defer nc.Close()
	err = nc.Register(ctx, &workflowservice.RegisterNamespaceRequest{
		Namespace: name, WorkflowExecutionRetentionPeriod: durationpb.New(retention),
	})
	var exists *serviceerror.NamespaceAlreadyExists
	if err != nil && !errors.As(err, &exists) {
		return fmt.Errorf("create namespace %s: %w", name, err)
	}
	return nil
}

// startEmulator runs the emulator service's command with its first region on a free loopback
// port (region i on that port + i, as the emulator does).
func (c *Cluster) startEmulator(ports *portPicker) error {
	workerEndpoints, err := imsapi.ParseEndpoints(c.compose.Env(workerService)["IMS_ENDPOINTS"])
	if err != nil {
		return fmt.Errorf("the %s service's IMS_ENDPOINTS: %w", workerService, err)
	}
	first, err := ports.run(len(workerEndpoints))
	if err != nil {
		return err
	}
	args := append(c.compose.Command(emulatorService), "-addr", hostPort(first))
	args = append(args, c.opts.EmulatorArgs...)
	// The worker service's IMS_ENDPOINTS send each region to the emulator's port for it; the
	// same offsets from the new first port.
	_, composeFirst, err := splitAddr(flagValue(c.compose.Command(emulatorService), "addr"))
	if err != nil {
		return fmt.Errorf("the %s service's -addr: %w", emulatorService, err)
	}
	c.Endpoints = map[string]string{}
	for region, endpoint := range workerEndpoints {
		u, err := url.Parse(endpoint)
		if err != nil {
			return err
		}
		port := mustAtoi(u.Port()) - composeFirst + first
		c.Endpoints[region] = "http://" + hostPort(port)
	}
	p, err := startProc(procSpec{
		name: EmulatorBinary, path: filepath.Join(c.opts.Bin, EmulatorBinary), args: args,
		env: []string{}, dir: c.opts.Dir, log: filepath.Join(c.opts.Dir, "imsemu.log"),
	})
	if err != nil {
		return err
	}
	c.emulator = p
	return waitHTTP(c.EmulatorURL()+"/_emulator/faults", p)
}

// UIURL is where the Temporal Web UI is.
func (c *Cluster) UIURL() string { return c.ui.URL() }

// EmulatorURL is the URL of the emulator's first region, which also serves its admin API.
func (c *Cluster) EmulatorURL() string {
	best := ""
	for _, u := range c.Endpoints {
		if best == "" || u < best {
			best = u
		}
	}
	return best
}

// configureWorkers builds each worker's environment: the worker service's, dialing this
// cluster's server and emulator, each with its own metrics port, then Options.WorkerEnv.
func (c *Cluster) configureWorkers(ports *portPicker) error {
	n := c.opts.Workers
	if n == 0 {
		if r := c.compose.service(workerService).Deploy; r != nil && r.Replicas != nil {
			n = *r.Replicas
		} else {
			n = 1
		}
	}
	base := c.compose.Env(workerService)
	base["TEMPORAL_ADDRESS"] = c.TemporalAddress
	var endpoints []string
	for region, u := range c.Endpoints {
		endpoints = append(endpoints, region+"="+u)
	}
	slices.Sort(endpoints)
	base["IMS_ENDPOINTS"] = strings.Join(endpoints, ",")
	for range n {
		port, err := ports.one()
		if err != nil {
			return err
		}
		env := map[string]string{}
		for k, v := range base {
			env[k] = v
		}
		env["METRICS_ADDR"] = hostPort(port)
		for _, kv := range c.opts.WorkerEnv {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
		c.workerEnv = append(c.workerEnv, childproc.EnvList(env))
		c.workers = append(c.workers, nil)
		c.MetricsAddrs = append(c.MetricsAddrs, env["METRICS_ADDR"])
	}
	return nil
}

// StartWorker starts worker i (again) and waits until it polls.
func (c *Cluster) StartWorker(i int) error {
	p, err := startProc(procSpec{
		name: fmt.Sprintf("worker-%d", i+1), path: filepath.Join(c.opts.Bin, WorkerBinary),
		env: c.workerEnv[i], dir: c.opts.Dir, log: filepath.Join(c.opts.Dir, fmt.Sprintf("worker-%d.log", i+1)),
	})
	if err != nil {
		return err
	}
	c.workers[i] = p
	return p.WaitLine("worker ready", 3*time.Minute)
}

// Worker is worker process i.
func (c *Cluster) Worker(i int) *Proc { return c.workers[i] }

// Workers is how many worker processes the cluster has.
func (c *Cluster) Workers() int { return len(c.workers) }

// Server is the Temporal server's process.
func (c *Cluster) Server() *Proc { return c.server }

// RestartServer starts the Temporal server again after KillServer, on the same database and ports.
func (c *Cluster) RestartServer() error { return c.StartServer() }

// CrashPostgres is PostgreSQL's immediate shutdown (as a power cut would end it) followed by a
// start on the same data folder and port: recovery from its write-ahead log.
func (c *Cluster) CrashPostgres() error {
	c.pg.crash()
	return c.pg.start(c.pg.port)
}

// PostgresAddress is where PostgreSQL listens.
func (c *Cluster) PostgresAddress() string { return hostPort(c.pg.port) }

// Describe says what runs where, one line each, ending with the TEMPORAL_ADDRESS line a starter needs.
func (c *Cluster) Describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "PostgreSQL       %s  pid %d, user %s, data %s, log %s\n", c.PostgresAddress(), c.pg.proc.Pid(), c.pg.user, c.pg.dir, c.pg.logPath)
	fmt.Fprintf(&b, "Temporal server  %s  pid %d, namespace %s, log %s\n", c.TemporalAddress, c.server.Pid(), c.Namespace, c.server.LogPath)
	if c.opts.ServerOnly {
		fmt.Fprintf(&b, "TEMPORAL_ADDRESS=%s\n", c.TemporalAddress)
		return b.String()
	}
	fmt.Fprintf(&b, "Temporal Web UI  %s\n", c.ui.URL())
	var regions []string
	for r, u := range c.Endpoints {
		regions = append(regions, r+" "+u)
	}
	slices.Sort(regions)
	fmt.Fprintf(&b, "IMS emulator     %s  pid %d, log %s\n", strings.Join(regions, ", "), c.emulator.Pid(), c.emulator.LogPath)
	for i, w := range c.workers {
		fmt.Fprintf(&b, "worker %d         metrics http://%s/metrics  pid %d, log %s\n", i+1, c.MetricsAddrs[i], w.Pid(), w.LogPath)
	}
	fmt.Fprintf(&b, "TEMPORAL_ADDRESS=%s\n", c.TemporalAddress)
	return b.String()
}

// Stop stops everything the cluster started, in the reverse order: workers (letting running
// activities finish, as their WORKER_STOP_TIMEOUT says), the emulator, the server, PostgreSQL.
func (c *Cluster) Stop() {
	for _, w := range c.workers {
		if w != nil {
			w.Signal(syscall.SIGTERM, time.Minute)
		}
	}
	if c.emulator != nil {
		c.emulator.Signal(syscall.SIGTERM, 10*time.Second)
	}
	if c.ui != nil {
		_ = c.ui.Stop()
	}
	if c.server != nil {
		c.server.Signal(syscall.SIGTERM, 30*time.Second)
	}
	if c.pg != nil {
		c.pg.stop()
	}
}

func mustAtoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// parseEndpoints reads IMS_ENDPOINTS (region=url,...).
// flagValue is the value of -name in args ("-name value" or "-name=value"), or "".
func flagValue(args []string, name string) string {
	for i, a := range args {
		if a == "-"+name || a == "--"+name {
			if i+1 < len(args) {
				return args[i+1]
			}
		}
		if v, ok := strings.CutPrefix(a, "-"+name+"="); ok {
			return v
		}
	}
	return ""
}

func splitAddr(addr string) (string, int, error) {
	i := strings.LastIndex(addr, ":")
	if i < 0 {
		return "", 0, fmt.Errorf("%q is not host:port", addr)
	}
	port, err := strconv.Atoi(addr[i+1:])
	if err != nil {
		return "", 0, fmt.Errorf("%q is not host:port", addr)
	}
	return addr[:i], port, nil
}

// quietLogger keeps the SDK client's retries while the server starts out of the output.
type quietLogger struct{}

func (quietLogger) Debug(string, ...interface{}) {}
func (quietLogger) Info(string, ...interface{})  {}
func (quietLogger) Warn(string, ...interface{})  {}
func (quietLogger) Error(string, ...interface{}) {}
