package imsclient

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// newRegionTransport is the one connection pool of a region, shared by every call to it.
//
// imsclient itself never retries, but net/http re-sends a request once when a reused keep-alive
// connection turns out to be dead: any request it could not write at all, and a GET also when the
// connection closed before an answer. Neither can apply an effect twice: the first never left, the
// second has no effect.
func newRegionTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	// Many workflows poll the same region at once; the default of 2 idle connections per host would
	// make most polls open a new TLS connection.
	t.MaxIdleConnsPerHost = 64
	return t
}

// callTransport is the RoundTripper of one imsclient call. The SDK builds its requests with
// context.Background(), so this is where the caller's ctx reaches the wire: every request the SDK
// sends is cancelled when either the caller's ctx or the SDK's own timeout ends. It also records what
// the SDK does not expose on errors (Retry-After) and logs each exchange.
type callTransport struct {
	ctx    context.Context
	base   http.RoundTripper
	region string
	logf   func(format string, args ...any)

	mu         sync.Mutex
	sent       bool // a request went to the transport, so a failure is the network's, not ours
	requestID  string
	retryAfter time.Duration
	releases   []func()
}

func (t *callTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancelCause(t.ctx)
	// The SDK's timeout lives in req's context; carry it over to the merged context.
	stop := context.AfterFunc(req.Context(), func() { cancel(context.Cause(req.Context())) })
	t.mu.Lock()
	t.sent = true
	// The body is read after RoundTrip returns, so the merged context must outlive it; the call
	// releases it once the SDK has returned.
	t.releases = append(t.releases, func() { stop(); cancel(nil) })
	t.mu.Unlock()

	start := time.Now()
	resp, err := t.base.RoundTrip(req.WithContext(ctx))
	elapsed := time.Since(start).Round(time.Millisecond)
	if err != nil {
		t.log("ims %s %s %s: no response after %s: %v", t.region, req.Method, req.URL.Path, elapsed, err)
		return nil, err
	}

	requestID := resp.Header.Get("X-Request-Id")
	t.mu.Lock()
	t.requestID = requestID
	t.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	t.mu.Unlock()
	t.log("ims %s %s %s: %d request=%s in %s", t.region, req.Method, req.URL.Path, resp.StatusCode, requestID, elapsed)
	return resp, nil
}

func (t *callTransport) log(format string, args ...any) {
	if t.logf != nil {
		t.logf(format, args...)
	}
}

// release frees the per-request contexts; called when the SDK call has returned.
func (t *callTransport) release() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, r := range t.releases {
		r()
	}
	t.releases = nil
}

// last returns what the most recent response said, for building errors.
func (t *callTransport) last() (sent bool, requestID string, retryAfter time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.sent, t.requestID, t.retryAfter
}

const maxRetryAfter = time.Hour

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date (RFC 9110 section
// 10.2.3). Anything else, or a date in the past, gives 0 (no advice).
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		// Capped so that a garbled header cannot overflow or park a retry for days.
		return time.Duration(min(secs, int64(maxRetryAfter/time.Second))) * time.Second
	}
	if at, err := http.ParseTime(v); err == nil && at.After(now) {
		return min(at.Sub(now), maxRetryAfter)
	}
	return 0
}
