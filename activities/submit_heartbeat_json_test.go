package activities

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSubmitHeartbeatOfAnOlderWorkerIsRead(t *testing.T) {
	want := SubmitHeartbeat{Attempt: 2, PostAt: submitAt.Add(time.Second), Ended: true, Since: submitAt}
	for _, js := range []string{
		`{"Attempt":2,"PostAt":"2026-11-26T06:00:01Z","Ended":true,"Since":"2026-11-26T06:00:00Z"}`,
		`{"attempt":2,"post_at":"2026-11-26T06:00:01Z","ended":true,"since":"2026-11-26T06:00:00Z"}`,
	} {
		var h SubmitHeartbeat
		require.NoError(t, json.Unmarshal([]byte(js), &h))
		assert.Equal(t, want, h)
	}
	data, err := json.Marshal(want)
	require.NoError(t, err)
	assert.JSONEq(t, `{"attempt":2,"post_at":"2026-11-26T06:00:01Z","ended":true,"since":"2026-11-26T06:00:00Z"}`, string(data))
}

var submitAt = time.Date(2026, 11, 26, 6, 0, 0, 0, time.UTC)
