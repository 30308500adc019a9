package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	failurepb "go.temporal.io/api/failure/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/imscopy/imscopy/activities/activityapi"
	"github.com/imscopy/imscopy/workflows/copyimage"
)

// describing builds the server's answer for a workflow whose PollJob is pending with heartbeat
// details hb (nil: no heartbeat yet), encoded as the worker's SDK encodes them.
func describing(t *testing.T, attempt int32, lastFailure string, hb *activityapi.PollHeartbeat) *workflowservice.DescribeWorkflowExecutionResponse {
	t.Helper()
	poll := &workflowpb.PendingActivityInfo{ActivityType: &commonpb.ActivityType{Name: activityapi.NamePollJob}, Attempt: attempt}
	if lastFailure != "" {
		poll.LastFailure = &failurepb.Failure{Message: lastFailure, StackTrace: "goroutine 1 [running]"}
	}
	if hb != nil {
		details, err := converter.GetDefaultDataConverter().ToPayloads(*hb)
		require.NoError(t, err)
		poll.HeartbeatDetails = details
		poll.LastHeartbeatTime = timestamppb.New(t0.Add(60 * time.Second))
	}
	return &workflowservice.DescribeWorkflowExecutionResponse{PendingActivities: []*workflowpb.PendingActivityInfo{
		{ActivityType: &commonpb.ActivityType{Name: "CleanupCopy"}, Attempt: 4},
		poll,
	}}
}

var heartbeat = activityapi.PollHeartbeat{
	Status: "RUNNING", Percent: 0.42, ImageID: "a1b2c3d4-0000-4000-8000-000000000001", Polls: 7,
	NextPollAt: t0.Add(74 * time.Second), FirstAt: t0.Add(20 * time.Second), Wait: 9 * time.Second,
}

// queried is what the workflow answers while PollJob waits: it has heard nothing from it yet.
var queried = copyimage.Progress{Phase: copyimage.PhasePolling, JobID: "ff8080814dbd65d7014dbe0d84db0013", StartedAt: t0, PhaseStartedAt: t0.Add(time.Second)}

func TestLivePollReadsTheHeartbeat(t *testing.T) {
	live := livePollOf(describing(t, 1, "", &heartbeat))
	require.NotNil(t, live)
	assert.Equal(t, livePoll{HasHeartbeat: true, JobStatus: "RUNNING", Percent: 0.42, ImageID: heartbeat.ImageID, Polls: 7,
		NextPollAt: heartbeat.NextPollAt, HeartbeatAt: t0.Add(60 * time.Second), Attempt: 1}, *live)

	s := combine(queried, live)
	assert.InDelta(t, 0.42, s.Percent, 1e-9, "the percent comes from the heartbeat")
	assert.Equal(t, 7, s.Polls)
	assert.Equal(t, heartbeat.ImageID, s.ImageID)
	assert.Equal(t, queried.JobID, s.JobID, "the rest comes from the query")
	assert.Equal(t, " 42% polling  job ff8080814dbd65d7014dbe0d84db0013 RUNNING  image a1b2c3d4-0000-4000-8000-000000000001  "+
		"7 polls  next poll in 9s  1m5s", plainLine(s, t0.Add(65*time.Second)))
}

func TestLivePollShowsARetry(t *testing.T) {
	live := livePollOf(describing(t, 2, "activity Heartbeat timeout", &heartbeat))
	require.NotNil(t, live)
	assert.Equal(t, "activity Heartbeat timeout", live.LastFailure, "the message only, never the stack")

	line := plainLine(combine(queried, live), t0.Add(80*time.Second))
	assert.Equal(t, " 42% polling  job ff8080814dbd65d7014dbe0d84db0013 RUNNING  image a1b2c3d4-0000-4000-8000-000000000001  "+
		"7 polls  1m20s  retrying PollJob (attempt 2): activity Heartbeat timeout", line, "a past NextPollAt is not shown")
	assert.NotEqual(t, changeKey(combine(queried, livePollOf(describing(t, 1, "", &heartbeat)))), changeKey(combine(queried, live)),
		"a retry is news worth a line")
}

// While IMS is unreachable, SubmitCopy is retried and the copy's phase stands still: the line says
// it is retrying, which attempt, when the next is due and why the last failed, in one clean line.
func TestARetriedActivityIsShownInOneLine(t *testing.T) {
	desc := &workflowservice.DescribeWorkflowExecutionResponse{PendingActivities: []*workflowpb.PendingActivityInfo{{
		ActivityType: &commonpb.ActivityType{Name: activityapi.NameSubmitCopy}, Attempt: 5,
		NextAttemptScheduleTime: timestamppb.New(t0.Add(30 * time.Second)),
		LastFailure: &failurepb.Failure{Message: "ListImages: no response from IMS: Get \"http://127.0.0.1:19780/v2/cloudimages\": " +
			"dial tcp 127.0.0.1:19780: connect: connection refused\nmore", StackTrace: "goroutine 1"},
	}}}
	s := snapshot{Progress: copyimage.Progress{Phase: copyimage.PhaseSubmitting, StartedAt: t0}, Retry: retryingOf(desc)}
	require.NotNil(t, s.Retry)
	assert.Equal(t, "  0% submitting  18s  retrying SubmitCopy (attempt 5, next in 12s): ListImages: no response from IMS: "+
		"Get \"http://127.0.0.1:19780/v2/cloudimages\": dial tcp 127.0.0.1:19780: connect: connection refused",
		plainLine(s, t0.Add(18*time.Second)))
	assert.NotEqual(t, changeKey(snapshot{Progress: s.Progress}), changeKey(s), "a retry is news worth a line")

	got := snapshotJSON("wf", "Running", s, nil)
	require.NotNil(t, got.Retry)
	assert.Equal(t, retryJSON{Activity: activityapi.NameSubmitCopy, Attempt: 5, LastFailure: desc.PendingActivities[0].LastFailure.Message,
		NextAttemptAt: t0.Add(30 * time.Second)}, *got.Retry)

	// SubmitCopy retrying inside its first attempt says so in its heartbeat's second value.
	details, err := converter.GetDefaultDataConverter().ToPayloads(activityapi.SubmitHeartbeat{Attempt: 1},
		activityapi.SubmitRetry{Tries: 2, LastFailure: "ListImages: no response from IMS", NextAt: t0.Add(30 * time.Second)})
	require.NoError(t, err)
	inside := &workflowservice.DescribeWorkflowExecutionResponse{PendingActivities: []*workflowpb.PendingActivityInfo{{
		ActivityType: &commonpb.ActivityType{Name: activityapi.NameSubmitCopy}, Attempt: 1, HeartbeatDetails: details}}}
	assert.Equal(t, &retrying{Activity: activityapi.NameSubmitCopy, Attempt: 3, LastFailure: "ListImages: no response from IMS",
		NextAt: t0.Add(30 * time.Second)}, retryingOf(inside))

	// A first attempt is no retry.
	desc.PendingActivities[0].Attempt, desc.PendingActivities[0].LastFailure = 1, nil
	assert.Nil(t, retryingOf(desc))
}

func TestLivePollBeforeTheFirstHeartbeat(t *testing.T) {
	live := livePollOf(describing(t, 1, "", nil))
	require.NotNil(t, live)
	assert.False(t, live.HasHeartbeat)
	s := combine(queried, live)
	assert.Zero(t, s.Percent)
	assert.Equal(t, "  0% polling  job ff8080814dbd65d7014dbe0d84db0013  5s", plainLine(s, t0.Add(5*time.Second)))
}

func TestCombineKeepsTheQueryOutsidePolling(t *testing.T) {
	assert.Nil(t, livePollOf(&workflowservice.DescribeWorkflowExecutionResponse{}), "no pending PollJob")

	live := livePollOf(describing(t, 1, "", &heartbeat))
	verifying := copyimage.Progress{Phase: copyimage.PhaseVerifying, Percent: 1, Polls: 9, ImageID: heartbeat.ImageID}
	assert.Equal(t, snapshot{Progress: verifying}, combine(verifying, live), "PollJob ended between the describe and the query")

	noWorker := combine(copyimage.Progress{}, live)
	assert.Equal(t, copyimage.PhasePolling, noWorker.Phase, "a pending PollJob says where a copy is when no worker answers")
	assert.InDelta(t, 0.42, noWorker.Percent, 1e-9)
}

func TestStatusJSONCarriesThePoll(t *testing.T) {
	live := livePollOf(describing(t, 2, "the worker is stopping; another attempt resumes from the last heartbeat", &heartbeat))
	var out bytes.Buffer
	require.Equal(t, exitOK, printJSON(&out, snapshotJSON("wf", "Running", combine(queried, live), nil)))

	var got map[string]any
	require.NoError(t, json.Unmarshal(out.Bytes(), &got))
	assert.Equal(t, map[string]any{
		"workflowId": "wf", "status": "Running", "phase": "polling", "percent": 0.42, "polls": 7.0,
		"jobId": queried.JobID, "imageId": heartbeat.ImageID,
		"startedAt": "2026-03-01T12:00:00Z", "phaseStartedAt": "2026-03-01T12:00:01Z",
		"poll": map[string]any{
			"jobStatus": "RUNNING", "nextPollAt": "2026-03-01T12:01:14Z", "heartbeatAt": "2026-03-01T12:01:00Z",
			"attempt": 2.0, "lastFailure": "the worker is stopping; another attempt resumes from the last heartbeat",
		},
	}, got)

	out.Reset()
	require.Equal(t, exitOK, printJSON(&out, snapshotJSON("wf", "Completed", snapshot{Progress: copyimage.Progress{Phase: copyimage.PhaseSucceeded, Percent: 1}},
		errors.New("no worker"))))
	assert.NotContains(t, out.String(), `"poll"`, "no PollJob, no poll object")
	assert.Contains(t, out.String(), `"progressError": "no worker"`)
}
