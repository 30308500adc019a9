package cluster

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/imscopy/imscopy/imsapi/imsemu"
	"github.com/imscopy/imscopy/workflows/copyimage"
)

// TestMeasurePostgresAgainstSQLite is a measurement, not a check, and runs only when asked:
//
//	IMSCOPY_BIN=$PWD/bin IMSCOPY_CLUSTER_MEASURE=500 go test -count=1 -v -run Measure -timeout 60m ./internal/cluster
//
// The same workload (that many copies started at once, on two workers, IMS quotas lifted) runs
// on the cluster's upstream server on PostgreSQL, then on the embedded server on SQLite (the
// bench's server child, bin/bench), and it logs side by side: copies per minute, the server's and
// the database's CPU per copy, and the database's growth per 1,000 copies.
func TestMeasurePostgresAgainstSQLite(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("IMSCOPY_CLUSTER_MEASURE"))
	bin := os.Getenv("IMSCOPY_BIN")
	if n <= 0 || bin == "" {
		t.Skip("a measurement: set IMSCOPY_CLUSTER_MEASURE (copies) and IMSCOPY_BIN")
	}
	dir, err := os.MkdirTemp("", "imscopy-measure-")
	require.NoError(t, err)
	defer os.RemoveAll(dir)
	require.NoError(t, os.Chmod(dir, 0o755)) // PostgreSQL's user must reach its folder inside
	c, err := Start(context.Background(), Options{
		Bin: bin, Dir: filepath.Join(dir, "cluster"), ComposeFile: "../../docker-compose.yml",
		EmulatorArgs: []string{"-job-duration", "5s", "-job-quota", "-1", "-image-quota", "-1"},
		WorkerEnv: []string{"POLL_INITIAL=1s", "POLL_MIN=500ms", "POLL_MAX=2s", "POLL_LAG=1s",
			"POLL_HEARTBEAT=2s", "VISIBILITY_WAIT=4s"},
	})
	require.NoError(t, err)
	defer c.Stop()

	// PostgreSQL, the upstream server.
	before, err := c.Usage()
	require.NoError(t, err)
	pgWall := runCopies(t, c.TemporalAddress, "pg", n)
	pg, err := c.Usage()
	require.NoError(t, err)
	pg = pg.Sub(before)
	for _, w := range c.workers {
		w.Signal(syscall.SIGTERM, time.Minute)
	}

	// SQLite, the embedded server in a process of its own, with workers of the same environment.
	sqliteDir := filepath.Join(dir, "sqlite")
	require.NoError(t, os.MkdirAll(sqliteDir, 0o755))
	ports := newPortPicker()
	port, err := ports.one()
	require.NoError(t, err)
	addr := hostPort(port)
	srv, err := startProc(procSpec{name: "embedded", path: filepath.Join(bin, "bench"),
		env: []string{"IMSCOPY_BENCH_ROLE=server", "IMSCOPY_BENCH_DATA_DIR=" + sqliteDir, "IMSCOPY_BENCH_TEMPORAL=" + addr},
		dir: dir, log: filepath.Join(dir, "embedded.log")})
	require.NoError(t, err)
	defer srv.Signal(syscall.SIGTERM, time.Minute)
	require.NoError(t, srv.WaitLine(addr, 3*time.Minute))
	for i, env := range c.workerEnv {
		var e []string
		for _, kv := range env {
			if !strings.HasPrefix(kv, "TEMPORAL_ADDRESS=") {
				e = append(e, kv)
			}
		}
		w, err := startProc(procSpec{name: "sqlite-worker", path: filepath.Join(bin, WorkerBinary),
			env: append(e, "TEMPORAL_ADDRESS="+addr), dir: dir, log: filepath.Join(dir, fmt.Sprintf("sqlite-worker-%d.log", i))})
		require.NoError(t, err)
		defer w.Signal(syscall.SIGTERM, time.Minute)
		require.NoError(t, w.WaitLine("worker ready", 3*time.Minute))
	}
	cpu0, err := procTimes(srv.Pid())
	require.NoError(t, err)
	size0 := dirSize(t, sqliteDir)
	sqWall := runCopies(t, addr, "sq", n)
	cpu1, err := procTimes(srv.Pid())
	require.NoError(t, err)
	sqCPU, sqBytes := cpu1.self-cpu0.self, dirSize(t, sqliteDir)-size0

	per := func(d time.Duration) string { return (d / time.Duration(n)).Round(100 * time.Microsecond).String() }
	perK := func(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)*1000/float64(n)/(1<<20)) }
	t.Logf("%d copies, two workers, 5 s jobs, started at once", n)
	t.Logf("| | PostgreSQL 15, upstream server | SQLite, embedded server |")
	t.Logf("|---|---|---|")
	t.Logf("| copies per minute | %.0f | %.0f |", float64(n)/pgWall.Minutes(), float64(n)/sqWall.Minutes())
	t.Logf("| Temporal server CPU per copy | %s | %s |", per(pg.ServerCPU), per(sqCPU))
	t.Logf("| database CPU per copy | %s | (in the server) |", per(pg.PostgresCPU))
	t.Logf("| database growth per 1,000 copies | %s | %s |", perK(pg.DatabaseBytes), perK(sqBytes))
}

// runCopies starts n copies at once and waits for them all; it returns the wall time.
func runCopies(t *testing.T, address, prefix string, n int) time.Duration {
	cl, err := client.Dial(client.Options{HostPort: address, Logger: quietLogger{}})
	require.NoError(t, err)
	defer cl.Close()
	start := time.Now()
	var runs []client.WorkflowRun
	for i := range n {
		in := copyimage.Input{Region: imsemu.DefaultRegions[0].Name, SourceImageID: imsemu.SeedImageID,
			Name: fmt.Sprintf("%s-%d", prefix, i), CMKID: imsemu.SeedKMSKeyID}
		run, err := cl.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{ID: copyimage.WorkflowID(in), TaskQueue: "imscopy"},
			copyimage.CopyImage, in)
		require.NoError(t, err)
		runs = append(runs, run)
	}
	for _, run := range runs {
		require.NoError(t, run.Get(context.Background(), nil))
	}
	return time.Since(start)
}

func dirSize(t *testing.T, dir string) int64 {
	var n int64
	require.NoError(t, filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err == nil {
			n += info.Size()
		}
		return nil
	}))
	return n
}
