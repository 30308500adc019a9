// Package testkit holds the helpers many packages' tests need alike: free loopback addresses, a
// clock a test moves by hand, a known environment of variables, a log buffer, a workflow argument
// as raw JSON, and the assertion that an error is a Temporal application error. It imports nothing of imscopy's, so any package's own tests
// (package x, not only x_test) can use it; helpers that need the emulator are in
// internal/testkit/emutest.
package testkit

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/imscopy/imscopy/internal/loopback"
)

// FreeAddr is a free "127.0.0.1:port" address for a server the test starts (loopback.FreeAddr).
func FreeAddr(t testing.TB) string {
	t.Helper()
	addr, err := loopback.FreeAddr()
	require.NoError(t, err)
	return addr
}

// Clock is a clock that moves only when the test advances it, so what a test sees depends on what
// it asked for, never on how long the asking took. Its Now is the emulator's Config.Now.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock is a clock standing at start. A clock for the emulator's signed requests must start
// within 15 minutes of the real time (time.Now()): the emulator, like IMS's gateway, refuses
// signatures dated further from its clock.
func NewClock(start time.Time) *Clock { return &Clock{now: start} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Environ gives the test exactly vars among the variables named in clear (and those of vars),
// whatever the machine running it has set: each is unset, not only emptied, so that a program's
// "unset" and "set to empty" stay apart. TEMPORAL_CONFIG_FILE points at a file that does not
// exist, so the machine's own Temporal CLI profile is not read either. t.Setenv restores the
// originals afterwards.
func Environ(t *testing.T, clear []string, vars map[string]string) {
	t.Helper()
	for _, name := range clear {
		t.Setenv(name, "")
		require.NoError(t, os.Unsetenv(name))
	}
	t.Setenv("TEMPORAL_CONFIG_FILE", filepath.Join(t.TempDir(), "no-such-temporal.toml"))
	for k, v := range vars {
		t.Setenv(k, v)
	}
}

// AppError is err's Temporal application error, wherever it is in the chain; the test fails when
// err is nil or carries none.
func AppError(t testing.TB, err error) *temporal.ApplicationError {
	t.Helper()
	require.Error(t, err)
	var app *temporal.ApplicationError
	require.True(t, errors.As(err, &app), "want an application error, got %T %v", err, err)
	return app
}

// Buffer is a bytes.Buffer that one goroutine may write (a program's log) while the test reads
// it.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String is everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// JSONPayload is a workflow argument as another language's client sends it: its own JSON bytes
// (js, sent as they are, valid or not), with nothing of imscopy's Go types on the way.
func JSONPayload(js string) converter.RawValue {
	return converter.NewRawValue(&commonpb.Payload{
		Metadata: map[string][]byte{converter.MetadataEncoding: []byte(converter.MetadataEncodingJSON)},
		Data:     []byte(js)})
}
