package cluster

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Proc is one program of the cluster running as its own OS process, so that kill -9 is real.
// Its output goes to a log file of its own.
type Proc struct {
	Name    string
	LogPath string

	cmd    *exec.Cmd
	mu     sync.Mutex
	lines  []string
	notify chan struct{} // closed and replaced on each new line
	exited chan struct{}
}

// procSpec is how to start a program.
type procSpec struct {
	name string
	path string
	args []string
	env  []string // the whole environment: nothing is inherited
	dir  string
	log  string
	cred *syscall.Credential // nil: the cluster's own user
}

func startProc(s procSpec) (*Proc, error) {
	logFile, err := os.OpenFile(s.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(s.path, s.args...)
	cmd.Env = s.env
	cmd.Dir = s.dir
	// A cluster that dies takes its processes with it; none is left holding a port or the database.
	// Its own process group: a Ctrl-C at the terminal reaches the cluster alone, which stops the
	// processes in order (workers before the server, the server before its database).
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Credential: s.cred, Setpgid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		logFile.Close()
		return nil, err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", s.name, err)
	}
	p := &Proc{Name: s.name, LogPath: s.log, cmd: cmd, notify: make(chan struct{}), exited: make(chan struct{})}
	go p.read(out, logFile)
	return p, nil
}

func (p *Proc) read(out io.Reader, logFile *os.File) {
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for sc.Scan() {
		line := sc.Text()
		_, _ = logFile.WriteString(line + "\n")
		p.mu.Lock()
		p.lines = append(p.lines, line)
		close(p.notify)
		p.notify = make(chan struct{})
		p.mu.Unlock()
	}
	_ = p.cmd.Wait()
	logFile.Close()
	close(p.exited)
}

// Pid is the process's ID.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// WaitLine waits until the process has printed a line containing marker, from its start on. The
// bound only turns a program that never gets ready into an error.
func (p *Proc) WaitLine(marker string, bound time.Duration) error {
	deadline := time.After(bound)
	seen := 0
	for {
		p.mu.Lock()
		lines, notify := p.lines[seen:], p.notify
		seen = len(p.lines)
		p.mu.Unlock()
		for _, l := range lines {
			if strings.Contains(l, marker) {
				return nil
			}
		}
		select {
		case <-notify:
		case <-p.exited:
			if p.has(marker) {
				return nil
			}
			return fmt.Errorf("%s exited (%s) before printing %q; its log, %s, ends with:\n%s", p.Name, p.cmd.ProcessState, marker, p.LogPath, p.tail(5))
		case <-deadline:
			return fmt.Errorf("%s did not print %q within %s; its log: %s", p.Name, marker, bound, p.LogPath)
		}
	}
}

func (p *Proc) has(marker string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.lines {
		if strings.Contains(l, marker) {
			return true
		}
	}
	return false
}

// tail is the last n lines the process printed.
func (p *Proc) tail(n int) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.lines[max(0, len(p.lines)-n):], "\n")
}

// Output is everything the process has printed.
func (p *Proc) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.lines, "\n")
}

// Kill is kill -9: no deferred function, no graceful stop.
func (p *Proc) Kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

// Signal sends sig and waits for the process to end; after grace it is killed.
func (p *Proc) Signal(sig syscall.Signal, grace time.Duration) {
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.exited:
	case <-time.After(grace):
		p.Kill()
	}
}

// Exited is closed when the process has ended.
func (p *Proc) Exited() <-chan struct{} { return p.exited }

// waitHTTP waits until url answers 200 while p runs. The bound only turns a program that never
// gets ready into an error.
func waitHTTP(url string, p *Proc) error {
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-p.exited:
			return fmt.Errorf("%s exited at start; its log, %s, ends with:\n%s", p.Name, p.LogPath, p.tail(5))
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer at %s: %v; its log: %s", p.Name, url, err, p.LogPath)
		}
	}
}
