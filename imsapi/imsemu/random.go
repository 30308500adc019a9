package imsemu

import (
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// stream is one seeded random sequence, safe for concurrent use. The emulator keeps one stream
// per purpose, so that, say, the number of injected errors drawn does not shift which jobs fail.
type stream struct {
	mu sync.Mutex
	r  *rand.Rand
}

// Purposes of the streams; part of each stream's seed.
const (
	purposeIDs uint64 = iota + 1
	purposeRequestIDs
	purposeFaults
	purposeJobs
)

// newStream seeds a stream from the configured seed, the purpose and the state generation (how
// many times the state file was loaded), so a restarted emulator does not replay the IDs it
// already handed out.
func newStream(seed int64, generation int64, purpose uint64) *stream {
	return &stream{r: rand.New(rand.NewPCG(uint64(seed), purpose<<40^uint64(generation)))}
}

func (s *stream) float64() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.r.Float64()
}

// chance reports true with probability p; it draws nothing when p is 0 or 1, so an unset knob
// leaves the sequence untouched.
func (s *stream) chance(p float64) bool {
	switch {
	case p <= 0:
		return false
	case p >= 1:
		return true
	}
	return s.float64() < p
}

// between draws uniformly in [lo, hi].
func (s *stream) between(lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return lo + time.Duration(s.r.Int64N(int64(hi-lo)+1))
}

func (s *stream) bytes16() [16]byte {
	var b [16]byte
	s.mu.Lock()
	hi, lo := s.r.Uint64(), s.r.Uint64()
	s.mu.Unlock()
	for i := range 8 {
		b[i] = byte(hi >> (8 * i))
		b[8+i] = byte(lo >> (8 * i))
	}
	return b
}

// hex32 is an ID in the shape of IMS job and request IDs: 32 lower-case hex characters.
func (s *stream) hex32() string {
	b := s.bytes16()
	return hex.EncodeToString(b[:])
}

// uuid is a version-4 UUID, the shape of IMS image IDs.
func (s *stream) uuid() string {
	b := s.bytes16()
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
