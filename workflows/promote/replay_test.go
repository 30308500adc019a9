package promote

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/log"

	"github.com/imscopy/imscopy/internal/replay"
)

// Promotions running when a new worker version is deployed continue on the new code by replaying
// their histories: every recorded history of a promotion and of its targets (a promotion done, one
// with a target IMS refused) must replay with the current code. They were recorded from real runs,
// each with its workflow ID beside it: go test ./integration -run TestRecordPromotionHistories -record
func TestRecordedPromotionHistoriesReplay(t *testing.T) {
	files, err := filepath.Glob("testdata/histories/*.json")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 8, "the recorded histories are missing")
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".json"), func(t *testing.T) {
			id, err := os.ReadFile(strings.TrimSuffix(file, ".json") + ".id")
			require.NoError(t, err)
			assert.NoError(t, replay.File(file, strings.TrimSpace(string(id)), Register, log.NewStructuredLogger(slog.New(slog.DiscardHandler))))
		})
	}
}
