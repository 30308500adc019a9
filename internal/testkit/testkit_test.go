package testkit

import (
	"errors"
	"fmt"
	"net"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
)

func TestFreeAddrIsOnLoopback(t *testing.T) {
	addr := FreeAddr(t)
	host, _, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1", host)
}

func TestClockMovesOnlyWhenAdvanced(t *testing.T) {
	start := time.Date(2026, 11, 26, 6, 14, 27, 0, time.UTC)
	c := NewClock(start)
	assert.Equal(t, start, c.Now())
	assert.Equal(t, start, c.Now(), "standing still")
	c.Advance(90 * time.Second)
	assert.Equal(t, start.Add(90*time.Second), c.Now())
}

func TestEnvironUnsetsWhatItClears(t *testing.T) {
	t.Setenv("TESTKIT_CLEARED", "from the machine")
	t.Setenv("TESTKIT_KEPT", "from the machine")
	Environ(t, []string{"TESTKIT_CLEARED", "TESTKIT_SET"}, map[string]string{"TESTKIT_SET": "given"})
	_, ok := os.LookupEnv("TESTKIT_CLEARED")
	assert.False(t, ok, "unset, not only empty")
	assert.Equal(t, "given", os.Getenv("TESTKIT_SET"))
	assert.Equal(t, "from the machine", os.Getenv("TESTKIT_KEPT"), "what is not named is left alone")
	_, err := os.Stat(os.Getenv("TEMPORAL_CONFIG_FILE"))
	assert.ErrorIs(t, err, os.ErrNotExist, "no Temporal CLI profile")
}

func TestAppErrorFindsTheApplicationError(t *testing.T) {
	app := temporal.NewNonRetryableApplicationError("bad name", "InvalidInput", nil)
	assert.Same(t, app, AppError(t, fmt.Errorf("activity: %w", app)))

	for _, err := range []error{nil, errors.New("plain")} {
		rec := &recorder{TB: t}
		func() {
			defer func() { _ = recover() }() // FailNow's Goexit is turned into a panic by recorder
			AppError(rec, err)
		}()
		assert.True(t, rec.failed, "AppError(%v) must fail the test", err)
	}
}

// recorder is a testing.TB whose FailNow records the failure instead of ending the test.
type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Helper()                        {}
func (r *recorder) Errorf(format string, a ...any) { r.failed = true }
func (r *recorder) FailNow()                       { r.failed = true; panic("FailNow") }

func TestBufferTakesWritesWhileRead(t *testing.T) {
	var b Buffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 100 {
			_, _ = b.Write([]byte("x"))
		}
	}()
	for range 100 {
		_ = b.String() // the race detector's concern, not the test's
	}
	<-done
	assert.Equal(t, 100, len(b.String()))
}

func TestJSONPayloadSendsTheBytesAsTheyAre(t *testing.T) {
	p := JSONPayload(`{"name": "x", "cmkid": 1}`).Payload()
	assert.Equal(t, `{"name": "x", "cmkid": 1}`, string(p.GetData()))
	assert.Equal(t, "json/plain", string(p.GetMetadata()["encoding"]))
}
