// Package rank holds the one percentile definition, nearest rank, that make bench reports and
// that the poll schedule's virtual-time tests use: when each had its own, they differed by one
// rank and the tests counted one late copy more than the bench.
package rank

// Percentile returns the p-th percentile (0 < p <= 100) of sorted, which must be in ascending
// order: the smallest value with at least p % of the values at or below it. Of 200 values the
// 99th percentile is the third largest. An empty slice gives T's zero value.
func Percentile[T any](sorted []T, p float64) T {
	if len(sorted) == 0 {
		var zero T
		return zero
	}
	// The rank, rounded up; the allowance keeps a product such as 200*99/100 that floating point
	// puts a hair above an integer from taking the next rank.
	k := int(float64(len(sorted))*p/100+0.999999) - 1
	return sorted[min(max(k, 0), len(sorted)-1)]
}
