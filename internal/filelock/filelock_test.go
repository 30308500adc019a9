package filelock

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAcquireIsExclusiveUntilReleased(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")

	first, err := Acquire(path)
	require.NoError(t, err)

	_, err = Acquire(path)
	require.ErrorIs(t, err, ErrLocked)
	assert.Contains(t, err.Error(), "pid "+strconv.Itoa(os.Getpid()))

	require.NoError(t, first.Release())
	second, err := Acquire(path)
	require.NoError(t, err)
	require.NoError(t, second.Release())
}

// holderEnv makes the test binary a process that takes the lock, says so, and waits to be killed.
const holderEnv = "FILELOCK_TEST_HOLD"

func TestMain(m *testing.M) {
	if path := os.Getenv(holderEnv); path != "" {
		if _, err := Acquire(path); err != nil {
			os.Stdout.WriteString("error: " + err.Error() + "\n")
			os.Exit(1)
		}
		os.Stdout.WriteString("held\n")
		select {}
	}
	os.Exit(m.Run())
}

func TestLockOfAKilledProcessIsFree(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), holderEnv+"="+path)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "held\n", line)

	_, err = Acquire(path)
	require.ErrorIs(t, err, ErrLocked)
	assert.Contains(t, err.Error(), "pid "+strconv.Itoa(cmd.Process.Pid))

	require.NoError(t, cmd.Process.Kill())
	_ = cmd.Wait()

	l, err := Acquire(path)
	require.NoError(t, err, "the OS must release the lock of a killed process")
	require.NoError(t, l.Release())
}
