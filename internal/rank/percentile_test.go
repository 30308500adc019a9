package rank

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestPercentile(t *testing.T) {
	xs := make([]int, 200)
	for i := range xs {
		xs[i] = i + 1 // 1..200
	}
	assert.Equal(t, 198, Percentile(xs, 99), "of 200, the p99 is the third largest")
	assert.Equal(t, 190, Percentile(xs, 95))
	assert.Equal(t, 100, Percentile(xs, 50))
	assert.Equal(t, 200, Percentile(xs, 100))
	assert.Equal(t, 1, Percentile(xs, 0.1))
	assert.Equal(t, 7, Percentile([]int{7}, 99))
	assert.Equal(t, 0.0, Percentile([]float64(nil), 99))
	// Ten values: the p95 rank is 9.5, rounded up to the largest.
	assert.Equal(t, 10, Percentile([]int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 95))
}
