package childproc

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imscopy/imscopy/internal/testkit"
)

// helperEnv makes the test binary act as the child: it runs the behaviour named in it and exits.
const helperEnv = "CHILDPROC_TEST_HELPER"

func TestMain(m *testing.M) {
	if b := os.Getenv(helperEnv); b != "" {
		helper(b)
		return
	}
	os.Exit(m.Run())
}

// helper is the child's behaviour: print lines, then exit with a code, wait for SIGTERM, or ignore it.
func helper(behaviour string) {
	switch behaviour {
	case "lines":
		fmt.Println("starting")
		fmt.Fprintln(os.Stderr, "a warning on stderr")
		fmt.Println("ready at http://127.0.0.1:1")
		fmt.Println("ready again")
		os.Exit(3)
	case "term":
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM)
		fmt.Println("waiting")
		<-sig
		fmt.Println("stopping")
		os.Exit(0)
	case "describe":
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGINT)
		wd, _ := os.Getwd()
		fmt.Printf("env %d %s\n", len(os.Environ()), os.Getenv("ONLY"))
		fmt.Printf("dir %s\n", wd)
		fmt.Printf("group %t\n", syscall.Getpgrp() == os.Getpid())
		<-sig
		fmt.Println("stopping on SIGINT")
		os.Exit(0)
	case "stubborn":
		signal.Ignore(syscall.SIGTERM)
		fmt.Println("waiting")
		time.Sleep(time.Hour)
	}
}

func start(t *testing.T, behaviour string, s Spec) *Proc {
	t.Helper()
	s.Path = os.Args[0]
	s.Env = append(s.Env, helperEnv+"="+behaviour)
	p, err := Start(s)
	require.NoError(t, err)
	t.Cleanup(p.Kill)
	return p
}

func TestWaitLineGoesOnFromTheLastLineFound(t *testing.T) {
	var log testkit.Buffer
	p := start(t, "lines", Spec{Log: &log})
	ctx := context.Background()

	line, err := p.WaitLine(ctx, "ready", time.Minute)
	require.NoError(t, err)
	assert.Equal(t, "ready at http://127.0.0.1:1", line)
	line, err = p.WaitLine(ctx, "ready", time.Minute)
	require.NoError(t, err)
	assert.Equal(t, "ready again", line, "a second wait does not find the first line again")

	code, err := p.Wait(time.Minute)
	require.NoError(t, err)
	assert.Equal(t, 3, code)
	_, err = p.WaitLine(ctx, "starting", time.Minute)
	assert.ErrorContains(t, err, "exited before printing", "lines already passed are not looked at again")
	assert.Contains(t, p.Output(), "a warning on stderr", "stderr is part of the stream")
	assert.Equal(t, p.Output(), log.String(), "the log has every line")
}

func TestStderrApart(t *testing.T) {
	var stderr testkit.Buffer
	p := start(t, "lines", Spec{Stderr: &stderr})
	_, err := p.Wait(time.Minute)
	require.NoError(t, err)
	assert.NotContains(t, p.Output(), "warning")
	assert.Equal(t, "a warning on stderr\n", stderr.String())
}

func TestWaitLineFailsWhenTheChildExitsOrTimeIsUp(t *testing.T) {
	p := start(t, "lines", Spec{})
	_, err := p.WaitLine(context.Background(), "never printed", time.Minute)
	assert.ErrorIs(t, err, ErrExited)
	assert.ErrorContains(t, err, "exited before printing \"never printed\"")

	p = start(t, "term", Spec{})
	_, err = p.WaitLine(context.Background(), "never printed", 100*time.Millisecond)
	assert.ErrorContains(t, err, "did not print")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = p.WaitLine(ctx, "never printed", time.Minute)
	assert.ErrorIs(t, err, context.Canceled)
	_, err = p.Wait(10 * time.Millisecond)
	assert.ErrorIs(t, err, ErrStillRunning)
}

func TestStopIsSIGTERMThenKill(t *testing.T) {
	p := start(t, "term", Spec{})
	_, err := p.WaitLine(context.Background(), "waiting", time.Minute)
	require.NoError(t, err)
	p.Stop(time.Minute)
	assert.Contains(t, p.Output(), "stopping", "the child stopped by itself")
	assert.Equal(t, 0, p.cmd.ProcessState.ExitCode())

	p = start(t, "stubborn", Spec{})
	_, err = p.WaitLine(context.Background(), "waiting", time.Minute)
	require.NoError(t, err)
	p.Stop(100 * time.Millisecond)
	select {
	case <-p.Exited():
	default:
		t.Fatal("Stop returned before the child exited")
	}
	assert.Equal(t, "signal: killed", p.cmd.ProcessState.String(), "a child that ignores SIGTERM is killed")
}

func TestKillIsSIGKILL(t *testing.T) {
	p := start(t, "term", Spec{})
	_, err := p.WaitLine(context.Background(), "waiting", time.Minute)
	require.NoError(t, err)
	p.Kill()
	assert.NotContains(t, p.Output(), "stopping", "no chance to stop gracefully")
	assert.Equal(t, "signal: killed", p.cmd.ProcessState.String())
	assert.Positive(t, p.Pid())
}

func TestStartNamesAMissingProgram(t *testing.T) {
	_, err := Start(Spec{Path: "/no/such/program"})
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "start program: "), err.Error())
}

// A detached child with only its own environment: it sees Env alone, runs in Dir, leads a process
// group of its own, and stops on the signal its program takes (SIGINT, as PostgreSQL's smart stop).
func TestADetachedChildHasOnlyItsOwnEnvironment(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("CHILDPROC_INHERITED", "yes")
	p := start(t, "describe", Spec{Name: "describer", Env: []string{"ONLY=this"}, OnlyEnv: true, Dir: dir, Detached: true})
	ctx := context.Background()
	line, err := p.WaitLine(ctx, "env ", time.Minute)
	require.NoError(t, err)
	assert.Equal(t, "env 2 this", line, "ONLY and the helper's variable, nothing inherited")
	line, err = p.WaitLine(ctx, "dir ", time.Minute)
	require.NoError(t, err)
	assert.Equal(t, "dir "+dir, line)
	line, err = p.WaitLine(ctx, "group ", time.Minute)
	require.NoError(t, err)
	assert.Equal(t, "group true", line, "its own process group")

	p.Signal(syscall.SIGINT, time.Minute)
	assert.Contains(t, p.Tail(1), "stopping on SIGINT")
	_, err = p.WaitLine(ctx, "never", time.Minute)
	assert.ErrorContains(t, err, "describer exited", "errors use its name")
}

func TestEnvList(t *testing.T) {
	assert.Equal(t, []string{"A=1", "B=x=y"}, EnvList(map[string]string{"B": "x=y", "A": "1"}))
}
