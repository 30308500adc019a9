package imsemu

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Many clients copying and polling at once (run with -race): every copy is made exactly once,
// with its own job and image.
func TestConcurrentCopiesAndPolls(t *testing.T) {
	f := newFixture(t, func(c *Config) {
		c.Limits = Limits{PrivateImagesPerProject: -1, RunningJobsPerProject: -1}
		c.Faults.ThrottlePerSecond = -1
		c.Logf = nil
	})
	c := f.client(home)
	const n = 200
	jobIDs := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			jobIDs[i] = c.startCopy(fmt.Sprintf("parallel-%d", i))
			c.job(jobIDs[i])
		})
	}
	wg.Wait()
	f.clock.Advance(testJobDuration)

	distinct := map[string]bool{}
	for _, id := range jobIDs {
		distinct[id] = true
	}
	assert.Len(t, distinct, n)
	images := map[string]int{}
	for _, img := range f.srv.Images() {
		images[img.Name]++
		if img.ID != SeedImageID {
			assert.Equal(t, "active", img.Status)
		}
	}
	for i := range n {
		require.Equal(t, 1, images[fmt.Sprintf("parallel-%d", i)])
	}
}
