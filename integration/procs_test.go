package integration

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
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

// proc is a program under test running as its own OS process, so that kill -9 is real.
type proc struct {
	t      *testing.T
	name   string
	cmd    *exec.Cmd
	mu     sync.Mutex
	out    bytes.Buffer
	lines  chan string
	exited chan struct{}
}

func startProc(t *testing.T, name string, env []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(filepath.Join(binaries(t), name), args...)
	cmd.Env = append(os.Environ(), env...)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = cmd.Stdout
	p := &proc{t: t, name: name, cmd: cmd, lines: make(chan string, 4096), exited: make(chan struct{})}
	require.NoError(t, cmd.Start())
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
		for sc.Scan() {
			p.mu.Lock()
			p.out.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			select {
			case p.lines <- sc.Text():
			default:
			}
		}
		_ = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() { p.kill() })
	return p
}

// waitLine blocks until the process prints a line containing marker. It has a generous bound
// only so that a broken build fails the test instead of hanging CI; it asserts no timing.
func (p *proc) waitLine(marker string) string {
	p.t.Helper()
	deadline := time.After(3 * time.Minute)
	for {
		select {
		case l := <-p.lines:
			if strings.Contains(l, marker) {
				return l
			}
		case <-p.exited:
			p.t.Fatalf("%s exited before printing %q; output:\n%s", p.name, marker, p.output())
		case <-deadline:
			p.t.Fatalf("%s did not print %q; output:\n%s", p.name, marker, p.output())
		}
	}
}

func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// kill is kill -9: no deferred function, no graceful stop.
func (p *proc) kill() {
	if p.cmd.Process != nil {
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.exited
	}
}

// exitCode waits for the process to end by itself and returns its exit code. The bound only turns
// a process that never exits into a failure.
func (p *proc) exitCode() int {
	p.t.Helper()
	select {
	case <-p.exited:
	case <-time.After(3 * time.Minute):
		p.t.Fatalf("%s did not exit; output:\n%s", p.name, p.output())
	}
	return p.cmd.ProcessState.ExitCode()
}

// stop is a user's Ctrl-C.
func (p *proc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	<-p.exited
}
