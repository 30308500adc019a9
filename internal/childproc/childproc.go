// Package childproc runs a program as a child process and waits for the lines it prints: the
// demo's emulator and worker, the bench's Temporal server and workers, and the integration tests'
// worker, starter and emulator. A child is a real OS process, so that stopping it is a real
// SIGTERM and killing it a real kill -9, as in production.
package childproc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Spec is what to run.
type Spec struct {
	Name string // what errors call the child; the program's file name when empty
	Path string
	Args []string
	Env  []string // added to this process's environment; a later NAME=value wins
	// OnlyEnv makes Env the child's whole environment: nothing of this process's is inherited,
	// so that no variable of the machine running it can change the child's configuration.
	OnlyEnv bool
	Dir     string              // the child's working folder; this process's when empty
	User    *syscall.Credential // the user the child runs as; this process's when nil
	// Detached gives the child a process group of its own, so that a Ctrl-C at the terminal
	// reaches this process alone, which can then stop its children in order; and kills the child
	// if this process dies first, so that none is left holding a port or a database.
	Detached bool
	// Stderr, when set, takes the child's stderr apart from its stdout. Otherwise stderr and stdout
	// are one stream: WaitLine finds a line on either.
	Stderr io.Writer
	// Log, when set, gets every line of the stream WaitLine reads, as it arrives.
	Log io.Writer
}

// EnvList is vars as a child's environment takes them ("NAME=value"), sorted by name so that a
// child's environment reads the same in every log.
func EnvList(vars map[string]string) []string {
	out := make([]string, 0, len(vars))
	for k, v := range vars {
		out = append(out, k+"="+v)
	}
	slices.Sort(out)
	return out
}

// Proc is a running child.
type Proc struct {
	name   string
	cmd    *exec.Cmd
	exited chan struct{}

	mu      sync.Mutex
	lines   []string      // every line read so far
	next    int           // the first line WaitLine has not looked at
	arrived chan struct{} // closed and replaced whenever a line arrives or the stream ends
	ended   bool          // the stream has ended
}

// Start starts the child. Its output is read from the start, so the child never blocks on a
// full pipe, whether or not anyone waits for its lines.
func Start(s Spec) (*Proc, error) {
	name := s.Name
	if name == "" {
		name = filepath.Base(s.Path)
	}
	cmd := exec.Command(s.Path, s.Args...)
	cmd.Env = append(os.Environ(), s.Env...)
	if s.OnlyEnv {
		cmd.Env = slices.Clone(s.Env)
	}
	cmd.Dir = s.Dir
	if s.User != nil || s.Detached {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.User, Setpgid: s.Detached}
		if s.Detached {
			cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
		}
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if s.Stderr != nil {
		cmd.Stderr = s.Stderr
	} else {
		cmd.Stderr = cmd.Stdout
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Proc{name: name, cmd: cmd, exited: make(chan struct{}), arrived: make(chan struct{})}
	go func() {
		p.read(out, s.Log)
		// Wait only once the output has been read to its end: it closes the pipe.
		_ = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// read keeps every line of r (without its line end) and copies it to log.
func (p *Proc) read(r io.Reader, log io.Writer) {
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadString('\n')
		if line != "" {
			if log != nil {
				_, _ = io.WriteString(log, line)
			}
			p.add(strings.TrimRight(line, "\r\n"), false)
		}
		if err != nil {
			p.add("", true)
			return
		}
	}
}

func (p *Proc) add(line string, end bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if end {
		p.ended = true
	} else {
		p.lines = append(p.lines, line)
	}
	close(p.arrived)
	p.arrived = make(chan struct{})
}

// WaitLine returns the first line containing marker among those it has not looked at before:
// each call goes on from the line after the one the previous call returned. It fails when the
// child's output ends first (the child exited), after timeout, or when ctx ends.
func (p *Proc) WaitLine(ctx context.Context, marker string, timeout time.Duration) (string, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		p.mu.Lock()
		for ; p.next < len(p.lines); p.next++ {
			if l := p.lines[p.next]; strings.Contains(l, marker) {
				p.next++
				p.mu.Unlock()
				return l, nil
			}
		}
		ended, arrived := p.ended, p.arrived
		p.mu.Unlock()
		if ended {
			return "", fmt.Errorf("%s %w before printing %q", p.name, ErrExited, marker)
		}
		select {
		case <-arrived:
		case <-deadline.C:
			return "", fmt.Errorf("%s did not print %q within %s", p.name, marker, timeout)
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
}

// Output is every line the child has printed so far, each ending in "\n".
func (p *Proc) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var b strings.Builder
	for _, l := range p.lines {
		b.WriteString(l + "\n")
	}
	return b.String()
}

// Pid is the child's process ID.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Exited is closed once the child has exited and its output has been read.
func (p *Proc) Exited() <-chan struct{} { return p.exited }

// ErrExited is WaitLine's error for a child whose output ended (it exited) before the line.
var ErrExited = errors.New("exited")

// ErrStillRunning is Wait's error for a child that did not exit in time.
var ErrStillRunning = errors.New("the child is still running")

// Wait waits up to timeout for the child to exit by itself and returns its exit code.
func (p *Proc) Wait(timeout time.Duration) (int, error) {
	select {
	case <-p.exited:
		return p.cmd.ProcessState.ExitCode(), nil
	case <-time.After(timeout):
		return 0, fmt.Errorf("%s: %w after %s", p.name, ErrStillRunning, timeout)
	}
}

// Tail is the last n lines the child has printed, one per line.
func (p *Proc) Tail(n int) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.lines[max(0, len(p.lines)-n):], "\n")
}

// Signal sends sig (a program's own stop signal: SIGINT, SIGQUIT...) and returns once the child
// has exited; if it has not within grace, it is killed.
func (p *Proc) Signal(sig syscall.Signal, grace time.Duration) {
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.exited:
	case <-time.After(grace):
		p.Kill()
	}
}

// EndedCPU waits for the child to exit and returns the user and system CPU time it used, with
// that of its own children it waited for (PostgreSQL's postmaster waits for every backend).
func (p *Proc) EndedCPU() time.Duration {
	<-p.exited
	if p.cmd.ProcessState == nil {
		return 0
	}
	return p.cmd.ProcessState.UserTime() + p.cmd.ProcessState.SystemTime()
}

// Stop is a user's Ctrl-C: SIGTERM, then SIGKILL if the child has not exited within grace (never
// when grace is 0). It returns once the child has exited.
func (p *Proc) Stop(grace time.Duration) {
	if grace <= 0 {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		<-p.exited
		return
	}
	p.Signal(syscall.SIGTERM, grace)
}

// Kill is kill -9: no deferred function runs, no graceful stop, as in a crash. It returns once
// the child has exited.
func (p *Proc) Kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}
