package integration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/imscopy/imscopy/internal/childproc"
)

// binDir holds the worker, starter and imsemu binaries. `make test` builds them once and passes
// IMSCOPY_BIN; a plain `go test` builds them here, so the tests always run the real programs.
var (
	binOnce sync.Once
	binPath string
	binErr  error
)

func binaries(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		if dir := os.Getenv("IMSCOPY_BIN"); dir != "" {
			binPath = dir
			return
		}
		dir, err := os.MkdirTemp("", "imscopy-bin-")
		if err != nil {
			binErr = err
			return
		}
		cmd := exec.Command("go", "build", "-o", dir+"/", "../cmd/worker", "../cmd/starter", "../cmd/imsemu")
		out, err := cmd.CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
			return
		}
		binPath = dir
	})
	require.NoError(t, binErr)
	return binPath
}

// procBound bounds each wait for a child only so that a broken build fails the test instead of
// hanging CI; no test asserts a timing.
const procBound = 3 * time.Minute

// proc is a program under test running as its own OS process, so that kill -9 is real. It is
// killed when the test ends.
type proc struct {
	*childproc.Proc
	t *testing.T
}

func startProc(t *testing.T, name string, env []string, args ...string) *proc {
	t.Helper()
	p, err := childproc.Start(childproc.Spec{Path: filepath.Join(binaries(t), name), Args: args, Env: env})
	require.NoError(t, err)
	t.Cleanup(p.Kill)
	return &proc{Proc: p, t: t}
}

// waitLine blocks until the process prints a line containing marker, and fails the test when it
// exits first or takes longer than procBound.
func (p *proc) waitLine(marker string) string {
	p.t.Helper()
	line, err := p.WaitLine(context.Background(), marker, procBound)
	if err != nil {
		p.t.Fatalf("%v; output:\n%s", err, p.Output())
	}
	return line
}

// exitCode waits for the process to end by itself and returns its exit code.
func (p *proc) exitCode() int {
	p.t.Helper()
	code, err := p.Wait(procBound)
	if err != nil {
		p.t.Fatalf("%v; output:\n%s", err, p.Output())
	}
	return code
}
