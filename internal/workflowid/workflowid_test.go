package workflowid

import (
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAnIDThatFitsIsKept(t *testing.T) {
	for _, id := range []string{"", "copy/cn-north-4/465076de-dc36-4aec-80f5-ef9d8009428f/golden", strings.Repeat("a", MaxLen)} {
		assert.Equal(t, id, Fit(id))
	}
}

// The longest valid image name, in Chinese, percent-encodes to more than Temporal takes.
func TestALongIDIsCutAndHashed(t *testing.T) {
	name := url.PathEscape(strings.Repeat("镜", 128))
	for shift := range 3 {
		id := "promote/cn-north-4/465076de-dc36-4aec-80f5-ef9d8009428f/" + strings.Repeat("x", shift) + name
		got := Fit(id)
		assert.LessOrEqual(t, len(got), MaxLen)
		assert.Equal(t, got, Fit(id), "the same ID each time")
		head, _, ok := strings.Cut(got, "~")
		require.True(t, ok, got)
		_, err := url.PathUnescape(head[strings.LastIndexByte(head, '/')+1:])
		assert.NoError(t, err, "no %%XX escape is split: %s", head)
		other := Fit(id[:len(id)-1] + "A")
		assert.NotEqual(t, got, other, "IDs differing only in the cut-off tail stay apart")
	}
}
