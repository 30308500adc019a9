// Package filelock holds an exclusive lock on a file for the life of a process. The operating
// system releases it when the process exits, however it exits (kill -9 included), so a stale lock
// never needs cleaning up by hand.
package filelock

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// ErrLocked means another process holds the lock.
var ErrLocked = errors.New("locked by another process")

// Lock is a held lock.
type Lock struct {
	f *os.File
}

// Acquire takes the lock on path, creating the file if needed, without waiting. When another
// process holds it, the error wraps ErrLocked and names that process's ID.
func Acquire(path string) (*Lock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := lockFile(f); err != nil {
		holder := readHolder(path)
		_ = f.Close()
		if errors.Is(err, ErrLocked) && holder != "" {
			return nil, fmt.Errorf("%s: %w (pid %s)", path, ErrLocked, holder)
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	// The holder's pid is only for the message above; the lock itself is the OS's.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &Lock{f: f}, nil
}

// Release drops the lock.
func (l *Lock) Release() error {
	if err := unlockFile(l.f); err != nil {
		_ = l.f.Close()
		return err
	}
	return l.f.Close()
}

func readHolder(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
