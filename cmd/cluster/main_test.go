package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var pidRE = regexp.MustCompile(`\bpid (\d+)\b`)

// make cluster as a user runs it: it says what runs where, ending with TEMPORAL_ADDRESS, and a
// Ctrl-C stops every process it started, each by its own orderly stop (not by the kernel's
// SIGKILL that a dying cluster leaves its processes).
func TestClusterStopsEverythingOnCtrlC(t *testing.T) {
	bin := os.Getenv("IMSCOPY_BIN")
	if bin == "" {
		t.Skip("needs the binaries of `make build` in IMSCOPY_BIN (make test passes it)")
	}
	// A folder kept after the stop, for the logs; PostgreSQL's user must reach it.
	folder, err := os.MkdirTemp("", "imscopy-cluster-cmd-")
	require.NoError(t, err)
	require.NoError(t, os.Chmod(folder, 0o755))
	t.Cleanup(func() { _ = os.RemoveAll(folder) })
	cmd := exec.Command(filepath.Join(bin, "cluster"), "-bin", bin, "-compose", "../../docker-compose.yml", "-dir", folder)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	var pids []int
	var address string
	sc := bufio.NewScanner(out)
	for address == "" && sc.Scan() {
		line := sc.Text()
		if m := pidRE.FindStringSubmatch(line); m != nil {
			pid, _ := strconv.Atoi(m[1])
			pids = append(pids, pid)
		}
		if a, ok := strings.CutPrefix(line, "TEMPORAL_ADDRESS="); ok {
			address = a
		}
	}
	require.NotEmpty(t, address, "no TEMPORAL_ADDRESS line; stderr:\n%s", stderr.String())
	require.Len(t, pids, 5, "PostgreSQL, the server, the emulator and two workers, each with its pid")
	for _, pid := range pids {
		require.True(t, alive(pid), "pid %d is not running", pid)
	}

	require.NoError(t, cmd.Process.Signal(os.Interrupt))
	go func() {
		for sc.Scan() { // drain, so the cluster never blocks on its output
		}
	}()
	require.NoError(t, cmd.Wait(), "stderr:\n%s", stderr.String())
	for _, pid := range pids {
		assert.False(t, alive(pid), "pid %d still runs after the cluster stopped", pid)
	}
	stopped := map[string]string{
		"postgresql.log":      "database system is shut down",
		"temporal-server.log": "All services are stopped.",
		"worker-1.log":        "worker stopped",
		"worker-2.log":        "worker stopped",
	}
	for log, says := range stopped {
		b, err := os.ReadFile(filepath.Join(folder, log))
		require.NoError(t, err)
		assert.Contains(t, string(b), says, "%s does not say it stopped in order", log)
	}
}

// alive says whether pid runs (a zombie, ended but not yet waited for, does not).
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil {
		return false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	return !strings.HasPrefix(strings.TrimSpace(s[strings.LastIndexByte(s, ')')+1:]), "Z")
}
