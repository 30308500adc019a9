package imsemu

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// Jobs that touch (one ends as the next begins) do not overlap; a job still running counts.
func TestPeakConcurrent(t *testing.T) {
	at := func(s int) time.Time { return time.Unix(int64(s), 0) }
	assert.Equal(t, 0, PeakConcurrent(nil))
	assert.Equal(t, 1, PeakConcurrent([]AdminJob{{Begin: at(0), End: at(10)}, {Begin: at(10), End: at(20)}}))
	assert.Equal(t, 2, PeakConcurrent([]AdminJob{{Begin: at(0), End: at(10)}, {Begin: at(5), End: at(20)}}))
	assert.Equal(t, 3, PeakConcurrent([]AdminJob{{Begin: at(0)}, {Begin: at(1), End: at(2)}, {Begin: at(30)}, {Begin: at(40), End: at(50)}}))
}
