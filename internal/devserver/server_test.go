package devserver

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/imscopy/imscopy/internal/logging"
	"github.com/imscopy/imscopy/internal/testkit"
)

const taskQueue = "devserver-test"

// greet is the trivial workflow the tests run.
func greet(_ workflow.Context, name string) (string, error) {
	return "hello " + name, nil
}

// testLogger shows the server's warnings in the test output. It writes to stderr rather than to
// t.Log because the server's goroutines may log after the test has returned.
func testLogger() *zap.Logger {
	return logging.New(logging.Options{Level: zapcore.WarnLevel, Output: os.Stderr})
}

func dial(t *testing.T, hostPort string) client.Client {
	t.Helper()
	c, err := client.Dial(client.Options{
		HostPort:  hostPort,
		Namespace: DefaultNamespace,
		Logger:    logging.NewTemporalLogger(testLogger()),
	})
	require.NoError(t, err)
	return c
}

// runWorker serves greet on taskQueue until the returned stop is called.
func runWorker(t *testing.T, c client.Client) (stop func()) {
	t.Helper()
	w := worker.New(c, taskQueue, worker.Options{})
	w.RegisterWorkflow(greet)
	require.NoError(t, w.Start())
	return w.Stop
}

func startGreet(t *testing.T, c client.Client, id, name string) client.WorkflowRun {
	t.Helper()
	run, err := c.ExecuteWorkflow(context.Background(),
		client.StartWorkflowOptions{ID: id, TaskQueue: taskQueue}, greet, name)
	require.NoError(t, err)
	return run
}

func describeStatus(t *testing.T, c client.Client, id string) enumspb.WorkflowExecutionStatus {
	t.Helper()
	d, err := c.DescribeWorkflowExecution(context.Background(), id, "")
	require.NoError(t, err)
	return d.GetWorkflowExecutionInfo().GetStatus()
}

func TestRestartKeepsWorkflows(t *testing.T) {
	dir := t.TempDir()
	hostPort := testkit.FreeAddr(t)

	srv, err := Start(Options{DataDir: dir, HostPort: hostPort, Logger: testLogger()})
	require.NoError(t, err)
	assert.Equal(t, hostPort, srv.HostPort())
	c := dial(t, srv.HostPort())
	stopWorker := runWorker(t, c)
	var got string
	require.NoError(t, startGreet(t, c, "greet-before-restart", "before").Get(context.Background(), &got))
	assert.Equal(t, "hello before", got)
	stopWorker()
	c.Close()
	require.NoError(t, srv.Stop())
	require.NoError(t, srv.Stop(), "a second Stop returns the first result")

	srv, err = Start(Options{DataDir: dir, HostPort: hostPort, Logger: testLogger()})
	require.NoError(t, err)
	defer func() { assert.NoError(t, srv.Stop()) }()
	c = dial(t, srv.HostPort())
	defer c.Close()

	assert.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, describeStatus(t, c, "greet-before-restart"))
	got = ""
	require.NoError(t, c.GetWorkflow(context.Background(), "greet-before-restart", "").Get(context.Background(), &got))
	assert.Equal(t, "hello before", got, "the closed workflow's result survives the restart")
}

func TestOneServerPerDataDir(t *testing.T) {
	dir := t.TempDir()
	srv, err := Start(Options{DataDir: dir, HostPort: testkit.FreeAddr(t), Logger: testLogger()})
	require.NoError(t, err)

	_, err = Start(Options{DataDir: dir, HostPort: testkit.FreeAddr(t), Logger: testLogger()})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "in use by another dev-mode worker")
	assert.Contains(t, err.Error(), "pid "+strconv.Itoa(os.Getpid()))

	require.NoError(t, srv.Stop())
}

func TestStartRefusesAnAddressInUse(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()

	_, err = Start(Options{DataDir: t.TempDir(), HostPort: l.Addr().String(), Logger: testLogger()})
	require.Error(t, err)
	assert.Contains(t, err.Error(), l.Addr().String()+" is in use")
	assert.Contains(t, err.Error(), "DEV_SERVER_ADDRESS")
}

// The helper process: a dev server that completes one workflow, starts a second one that no
// worker serves, prints "ready" and waits for its kill -9.
const (
	helperDirEnv  = "DEVSERVER_TEST_HELPER_DIR"
	helperAddrEnv = "DEVSERVER_TEST_HELPER_ADDR"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(helperDirEnv); dir != "" {
		os.Exit(runHelper(dir, os.Getenv(helperAddrEnv)))
	}
	os.Exit(m.Run())
}

func runHelper(dir, hostPort string) int {
	fail := func(err error) int { fmt.Println("helper failed:", err); return 1 }
	srv, err := Start(Options{DataDir: dir, HostPort: hostPort, Logger: testLogger()})
	if err != nil {
		return fail(err)
	}
	c, err := client.Dial(client.Options{HostPort: srv.HostPort(), Logger: logging.NewTemporalLogger(testLogger())})
	if err != nil {
		return fail(err)
	}
	w := worker.New(c, taskQueue, worker.Options{})
	w.RegisterWorkflow(greet)
	if err := w.Start(); err != nil {
		return fail(err)
	}
	ctx := context.Background()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "greet-done", TaskQueue: taskQueue}, greet, "done")
	if err != nil {
		return fail(err)
	}
	if err := run.Get(ctx, nil); err != nil {
		return fail(err)
	}
	w.Stop()
	if _, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "greet-pending", TaskQueue: taskQueue}, greet, "pending"); err != nil {
		return fail(err)
	}
	fmt.Println("ready")
	select {}
}

func TestRestartAfterKill9(t *testing.T) {
	dir := t.TempDir()
	hostPort := testkit.FreeAddr(t)
	helper := exec.Command(os.Args[0], "-test.run=^$")
	helper.Env = append(os.Environ(), helperDirEnv+"="+dir, helperAddrEnv+"="+hostPort)
	helper.Stderr = os.Stderr
	out, err := helper.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, helper.Start())
	defer func() { _ = helper.Process.Kill(); _ = helper.Wait() }()

	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "ready\n", line)
	require.NoError(t, helper.Process.Kill()) // SIGKILL: no chance to close or checkpoint anything
	_ = helper.Wait()
	_, err = os.Stat(filepath.Join(dir, dbFile+"-wal"))
	require.NoError(t, err, "the killed server leaves its write-ahead log for the next start to recover")

	srv, err := Start(Options{DataDir: dir, HostPort: hostPort, Logger: testLogger()})
	require.NoError(t, err, "the data folder of a killed server must start again")
	defer func() { assert.NoError(t, srv.Stop()) }()
	c := dial(t, srv.HostPort())
	defer c.Close()

	assert.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, describeStatus(t, c, "greet-done"))
	// The workflow that was waiting for a worker at the kill finishes with a worker of this process.
	stopWorker := runWorker(t, c)
	defer stopWorker()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var got string
	require.NoError(t, c.GetWorkflow(ctx, "greet-pending", "").Get(ctx, &got))
	assert.Equal(t, "hello pending", got)
}

func TestSchemaCreationInterruptedIsRedone(t *testing.T) {
	dir := t.TempDir()
	// What a process killed in the middle of creating the schema leaves: a database file without
	// the marker.
	require.NoError(t, os.WriteFile(filepath.Join(dir, dbFile), []byte("half-made"), 0o600))

	srv, err := Start(Options{DataDir: dir, HostPort: testkit.FreeAddr(t), Logger: testLogger()})
	require.NoError(t, err)
	defer func() { assert.NoError(t, srv.Stop()) }()
	c := dial(t, srv.HostPort())
	defer c.Close()
	stopWorker := runWorker(t, c)
	defer stopWorker()
	require.NoError(t, startGreet(t, c, "greet-fresh", "fresh").Get(context.Background(), nil))
}
