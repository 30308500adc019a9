package pollschedule

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
)

var beatAt = time.Date(2026, 11, 26, 6, 0, 0, 0, time.UTC)

func fullHeartbeat() Heartbeat {
	return Heartbeat{Status: "RUNNING", Percent: 0.42, ImageID: "img", Polls: 7, NextPollAt: beatAt.Add(9 * time.Second),
		FirstAt: beatAt, FirstPercent: 0, LastAt: beatAt.Add(time.Minute), PrevAt: beatAt.Add(50 * time.Second),
		PrevPercent: 0.4, WaitingSince: beatAt, Wait: 1500 * time.Millisecond, Failures: 1, Refused: 2}
}

// PollJob's heartbeat is how clients see a copy's live percent: its keys are documented in
// docs/api.md, the wait in seconds.
func TestPollHeartbeatJSONIsTheDocumentedOne(t *testing.T) {
	data, err := json.Marshal(fullHeartbeat())
	require.NoError(t, err)
	assert.JSONEq(t, `{"status":"RUNNING","percent":0.42,"image_id":"img","polls":7,"next_poll_at":"2026-11-26T06:00:09Z",
		"first_at":"2026-11-26T06:00:00Z","first_percent":0,"last_at":"2026-11-26T06:01:00Z","prev_at":"2026-11-26T06:00:50Z",
		"prev_percent":0.4,"waiting_since":"2026-11-26T06:00:00Z","wait_seconds":1.5,"failures":1,"refused":2}`, string(data))
	var back Heartbeat
	require.NoError(t, json.Unmarshal(data, &back))
	assert.Equal(t, fullHeartbeat(), back)
}

// A PollJob attempt that a worker of the version before the JSON keys heartbeated is resumed by
// the new worker from where it stopped: the legacy Go names, the wait in nanoseconds.
func TestPollHeartbeatOfAnOlderWorkerIsRead(t *testing.T) {
	legacy := `{"Status":"RUNNING","Percent":0.42,"ImageID":"img","Polls":7,"NextPollAt":"2026-11-26T06:00:09Z",
		"FirstAt":"2026-11-26T06:00:00Z","FirstPercent":0,"LastAt":"2026-11-26T06:01:00Z","PrevAt":"2026-11-26T06:00:50Z",
		"PrevPercent":0.4,"WaitingSince":"2026-11-26T06:00:00Z","Wait":1500000000,"Failures":1,"Refused":2}`
	var s Heartbeat
	require.NoError(t, converter.GetDefaultDataConverter().FromPayload(jsonPayloadOf(t, legacy), &s))
	assert.Equal(t, fullHeartbeat(), s)
}

func jsonPayloadOf(t *testing.T, js string) *commonpb.Payload {
	t.Helper()
	p, err := converter.GetDefaultDataConverter().ToPayload(json.RawMessage(js))
	require.NoError(t, err)
	return p
}
