package cluster

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"syscall"
	"time"

	"github.com/imscopy/imscopy/internal/childproc"
)

// Proc is one program of the cluster running as its own OS process (internal/childproc), so that
// kill -9 is real. Its output goes to a log file of its own.
type Proc struct {
	*childproc.Proc
	Name    string
	LogPath string
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

// startProc starts a program detached: a Ctrl-C at the terminal reaches the cluster alone, which
// stops the processes in order (workers before the server, the server before its database), and
// a cluster that dies takes its processes with it.
func startProc(s procSpec) (*Proc, error) {
	logFile, err := os.OpenFile(s.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cp, err := childproc.Start(childproc.Spec{Name: s.name, Path: s.path, Args: s.args, Env: s.env, OnlyEnv: true,
		Dir: s.dir, User: s.cred, Detached: true, Log: logFile})
	if err != nil {
		logFile.Close()
		return nil, err
	}
	go func() {
		<-cp.Exited()
		logFile.Close()
	}()
	return &Proc{Proc: cp, Name: s.name, LogPath: s.log}, nil
}

// WaitLine waits until the process has printed a line containing marker. The bound only turns a
// program that never gets ready into an error, which names its log and how it ends.
func (p *Proc) WaitLine(marker string, bound time.Duration) error {
	if _, err := p.Proc.WaitLine(context.Background(), marker, bound); err != nil {
		return fmt.Errorf("%w; its log, %s, ends with:\n%s", err, p.LogPath, p.Tail(5))
	}
	return nil
}

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
		case <-p.Exited():
			return fmt.Errorf("%s exited at start; its log, %s, ends with:\n%s", p.Name, p.LogPath, p.Tail(5))
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer at %s: %v; its log: %s", p.Name, url, err, p.LogPath)
		}
	}
}
