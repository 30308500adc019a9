// Command demo is `make demo`: it starts the IMS emulator and a dev-mode worker (which hosts the
// embedded Temporal server and the Temporal Web UI) as child processes, copies the IMS
// documentation's own example image through the CopyImage workflow with live progress, prints the
// result and stops its children. On a terminal it first waits for Ctrl-C, so the copy can be looked
// at in the Web UI.
//
// The children are the real binaries built next to this one, so the demo shows exactly what a
// user runs by hand; nothing is simulated in-process.
package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/imscopy/imscopy/internal/childproc"
	"github.com/imscopy/imscopy/internal/loopback"
)

// The seed example of docs/ims-api.md section 2, which the emulator serves as written.
const (
	seedImage       = "465076de-dc36-4aec-80f5-ef9d8009428f"
	seedKey         = "bd66288c-9081-460a-8227-4cbd0c814cb4"
	seedName        = "ims_encrypted_copy3"
	seedDescription = "test copy"
)

// Credentials the demo gives the emulator and the worker; they exist only on this machine.
const (
	demoAK      = "DEMOACCESSKEY0000000"
	demoSK      = "demo-secret-key-local-only"
	demoProject = "0b3f6ab0e2a64c2c9f2c4c6f4c1d7e01"
	demoEast    = "5c5e0f6a1b2c4d3e8f9a0b1c2d3e4f50"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	self, err := os.Executable()
	if err != nil {
		return err
	}
	bin := filepath.Dir(self)
	dataDir := filepath.Join(".imscopy", "demo")
	// A fresh data folder each run: the demo's emulator keeps its state in memory, so workflows
	// from an earlier demo would point at images that no longer exist.
	if err := os.RemoveAll(dataDir); err != nil {
		return err
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return err
	}

	// The emulator takes any free port and prints its endpoints; the embedded Temporal server
	// needs its address up front, so the demo asks the kernel for a free one.
	temporalAddr, err := loopback.FreeAddr()
	if err != nil {
		return err
	}
	// The same for the Web UI: its default port may be taken by another dev-mode worker or by
	// `temporal server start-dev`.
	uiAddr, err := loopback.FreeAddr()
	if err != nil {
		return err
	}

	emu, endpoints, err := startEmulator(ctx, bin, dataDir)
	if err != nil {
		return err
	}
	defer emu.Stop(stopGrace)
	worker, err := startWorker(ctx, bin, dataDir, endpoints, temporalAddr, uiAddr)
	if err != nil {
		return err
	}
	defer worker.Stop(stopGrace)
	fmt.Println("   worker ready; its log is in", filepath.Join(dataDir, "worker.log"))
	workflowsURL := "http://" + uiAddr + "/namespaces/default/workflows"
	fmt.Println("   Temporal Web UI:", workflowsURL)

	fmt.Println("== copying", seedImage, "as", seedName, "encrypted with KMS key", seedKey)
	starter := exec.CommandContext(ctx, filepath.Join(bin, "starter"), "copy",
		"--image", seedImage, "--name", seedName, "--description", seedDescription,
		"--cmk-id", seedKey, "--region", "cn-north-4", "--wait")
	starter.Env = append(os.Environ(), "TEMPORAL_ADDRESS="+temporalAddr)
	starter.Stdout, starter.Stderr = os.Stdout, os.Stderr
	if err := starter.Run(); err != nil {
		return fmt.Errorf("the copy did not succeed: %w", err)
	}
	if !term.IsTerminal(int(os.Stdin.Fd())) {
		fmt.Println("== done: the copy is durable; stopping the worker and the emulator")
		return nil
	}
	// Someone is watching: leave the copy to be looked at in the UI until they are done.
	fmt.Println("== done: the copy is durable. The worker and the Web UI keep running; look at the copy at")
	fmt.Println("  ", workflowsURL)
	fmt.Println("   Ctrl-C stops them")
	<-ctx.Done()
	fmt.Println("== stopping the worker and the emulator")
	return nil
}

// startEmulator starts the IMS emulator with the demo's regions and credentials, and returns
// it with its endpoints as IMS_ENDPOINTS takes them.
func startEmulator(ctx context.Context, bin, dataDir string) (*childproc.Proc, string, error) {
	fmt.Println("== starting the IMS emulator (jobs take 20 s)")
	logPath := filepath.Join(dataDir, "imsemu.log")
	emu, err := startChild(filepath.Join(bin, "imsemu"), nil, logPath,
		"-addr", "127.0.0.1:0",
		"-region", "cn-north-4,cn-east-3",
		"-project", demoProject+","+demoEast,
		"-ak", demoAK, "-sk", demoSK,
		"-job-duration", "20s")
	if err != nil {
		return nil, "", err
	}
	line, err := emu.WaitLine(ctx, "IMS_ENDPOINTS=", 30*time.Second)
	if err != nil {
		emu.Stop(stopGrace)
		return nil, "", fmt.Errorf("emulator did not start (see %s): %w", logPath, err)
	}
	_, endpoints, _ := strings.Cut(line, "IMS_ENDPOINTS=")
	endpoints = strings.TrimSpace(endpoints)
	fmt.Println("   IMS endpoints:", endpoints)
	return emu, endpoints, nil
}

// startWorker starts a dev-mode worker, which hosts the embedded Temporal server on temporalAddr
// and its Web UI on uiAddr, against the emulator's endpoints, and waits until it polls.
func startWorker(ctx context.Context, bin, dataDir, endpoints, temporalAddr, uiAddr string) (*childproc.Proc, error) {
	fmt.Println("== starting the worker with the embedded Temporal server on", temporalAddr)
	env := []string{
		"TEMPORAL_ADDRESS=",
		"DEV_SERVER_ADDRESS=" + temporalAddr,
		"DEV_UI_ADDRESS=" + uiAddr,
		"DATA_DIR=" + dataDir,
		"IMS_REGION=cn-north-4",
		"IMS_ENDPOINTS=" + endpoints,
		"IMS_PROJECTS=cn-east-3=" + demoEast,
		"HUAWEICLOUD_SDK_AK=" + demoAK,
		"HUAWEICLOUD_SDK_SK=" + demoSK,
		"HUAWEICLOUD_SDK_PROJECT_ID=" + demoProject,
	}
	logPath := filepath.Join(dataDir, "worker.log")
	worker, err := startChild(filepath.Join(bin, "worker"), env, logPath)
	if err != nil {
		return nil, err
	}
	if _, err := worker.WaitLine(ctx, "worker ready", 3*time.Minute); err != nil {
		worker.Stop(stopGrace)
		return nil, fmt.Errorf("worker did not start (see %s): %w", logPath, err)
	}
	return worker, nil
}

// stopGrace is how long a child may take to stop after a user's Ctrl-C before it is killed: the
// worker's stop timeout is 30 s, so 40 s covers a graceful stop.
const stopGrace = 40 * time.Second

// startChild starts a binary, copying its stdout and stderr to a log file; its WaitLine reads
// the same lines, so the demo can wait for its readiness line.
func startChild(path string, env []string, logPath string, args ...string) (*childproc.Proc, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	p, err := childproc.Start(childproc.Spec{Path: path, Args: args, Env: env, Log: logFile})
	if err != nil {
		logFile.Close()
		return nil, fmt.Errorf("%w (run `make build` first)", err)
	}
	go func() {
		<-p.Exited()
		logFile.Close()
	}()
	return p, nil
}
