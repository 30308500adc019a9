package imsemu

import (
	"sync"
	"time"
)

type countKey struct {
	region, route string
	status        int
	ak            string // the access key whose signature was verified; "" for none or a token
}

// counter counts requests per region, route, status and access key.
type counter struct {
	mu sync.Mutex
	m  map[countKey]int
}

func (c *counter) add(k countKey) {
	c.mu.Lock()
	c.m[k]++
	c.mu.Unlock()
}

type bucketKey struct{ region, project, route string }

type bucket struct {
	tokens float64
	last   time.Time
}

// throttler is the gateway's per-API, per-project rate limit: a token bucket holding one
// second's worth of calls.
type throttler struct {
	mu      sync.Mutex
	buckets map[bucketKey]*bucket
}

// allow takes a token if one is left; a negative rate disables the throttle.
func (t *throttler) allow(k bucketKey, rate float64, now time.Time) bool {
	if rate < 0 {
		return true
	}
	capacity := max(rate, 1)
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.buckets[k]
	if b == nil {
		b = &bucket{tokens: capacity, last: now}
		t.buckets[k] = b
	}
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.tokens = min(capacity, b.tokens+elapsed*rate)
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
