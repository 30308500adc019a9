package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/imscopy/imscopy/activities"
	"github.com/imscopy/imscopy/imsapi/imsemu"
)

// Evidence of what a copy really did, read from the emulator's state and Temporal's history rather
// than from how long anything took.

// historyEvents is the run's whole history.
func historyEvents(t *testing.T, c client.Client, run client.WorkflowRun) []*historypb.HistoryEvent {
	t.Helper()
	iter := c.GetWorkflowHistory(context.Background(), run.GetID(), run.GetRunID(), false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var events []*historypb.HistoryEvent
	for iter.HasNext() {
		ev, err := iter.Next()
		require.NoError(t, err)
		events = append(events, ev)
	}
	require.NotEmpty(t, events)
	return events
}

// activityRun is what a history says about the last scheduled activity of one type. Temporal
// writes one started event per activity, for the attempt that ended it, so attempt > 1 means that
// earlier attempts failed or were lost with their worker.
type activityRun struct {
	attempt   int32  // the attempt that ended it; 0 if none started
	identity  string // the worker that ran that attempt
	completed bool
	result    *historypb.ActivityTaskCompletedEventAttributes
}

// activityRuns maps each activity type in the history to its last scheduled run.
func activityRuns(events []*historypb.HistoryEvent) map[string]*activityRun {
	bySchedule := map[int64]*activityRun{}
	out := map[string]*activityRun{}
	for _, ev := range events {
		if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil {
			run := &activityRun{}
			bySchedule[ev.GetEventId()] = run
			out[a.GetActivityType().GetName()] = run
		}
		if a := ev.GetActivityTaskStartedEventAttributes(); a != nil && bySchedule[a.GetScheduledEventId()] != nil {
			bySchedule[a.GetScheduledEventId()].attempt = a.GetAttempt()
			bySchedule[a.GetScheduledEventId()].identity = a.GetIdentity()
		}
		if a := ev.GetActivityTaskCompletedEventAttributes(); a != nil && bySchedule[a.GetScheduledEventId()] != nil {
			bySchedule[a.GetScheduledEventId()].completed = true
			bySchedule[a.GetScheduledEventId()].result = a
		}
	}
	return out
}

// pollJobResult is what the history's completed PollJob returned.
func pollJobResult(t *testing.T, events []*historypb.HistoryEvent) activities.PollJobResult {
	t.Helper()
	run := activityRuns(events)[activities.NamePollJob]
	require.NotNil(t, run, "the history has no PollJob")
	require.True(t, run.completed, "PollJob did not complete")
	var res activities.PollJobResult
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(run.result.GetResult(), &res))
	return res
}

// pendingActivity is the workflow's pending activity of that type, or nil.
func pendingActivity(t *testing.T, c client.Client, workflowID, activityType string) *workflowpb.PendingActivityInfo {
	t.Helper()
	desc, err := c.DescribeWorkflowExecution(context.Background(), workflowID, "")
	require.NoError(t, err)
	for _, a := range desc.GetPendingActivities() {
		if a.GetActivityType().GetName() == activityType {
			return a
		}
	}
	return nil
}

// answered counts the requests to a route of one region that IMS answered with a 2xx: calls that
// took effect and whose answer was sent.
func (r *rig) answered(region, route string) int {
	n := 0
	for _, c := range r.emu.Counts() {
		if c.Region == region && c.Route == route && c.Status >= 200 && c.Status < 300 {
			n += c.Count
		}
	}
	return n
}

// jobsNamed returns the copy jobs that create an image of that name.
func (r *rig) jobsNamed(name string) []imsemu.AdminJob {
	var out []imsemu.AdminJob
	for _, j := range r.emu.Jobs() {
		if j.ImageName == name {
			out = append(out, j)
		}
	}
	return out
}

// copyFront serves the home region of the rig's emulator through a listener of the test's own,
// so that the test sees each copy POST arrive (the emulator counts a request only once it is
// answered) and can hold one back: before the emulator sees it, or after IMS acted on it, keeping
// its answer from the client as a network does to a worker that dies after IMS acted on its
// request. Other requests pass straight through.
type copyFront struct {
	url string
	// arrived receives the name of every copy POST, when the whole request has been read and
	// before the emulator handles it.
	arrived chan string
	// held receives the status of an answer held back: that copy took effect.
	held chan int

	mu    sync.Mutex
	holds map[string]*frontHold // by copy name, for its next POST
}

type frontHold struct {
	answer  bool          // hold the answer, after the emulator handled the request
	release chan struct{} // else: hold the request until this is closed
	once    sync.Once
}

func newCopyFront(t *testing.T, r *rig) *copyFront {
	t.Helper()
	f := &copyFront{arrived: make(chan string, 16), held: make(chan int, 16), holds: map[string]*frontHold{}}
	emu := r.emu.Handler(imsemu.DefaultRegions[0].Name)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodPost || !strings.HasSuffix(req.URL.Path, "/copy") {
			emu.ServeHTTP(w, req)
			return
		}
		// Read it all first: a request cut short would be the emulator's 400, not a POST in flight.
		body, err := io.ReadAll(req.Body)
		if err != nil {
			return
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		var copyReq struct {
			Name string `json:"name"`
		}
		_ = json.Unmarshal(body, &copyReq)
		f.mu.Lock()
		hold := f.holds[copyReq.Name]
		delete(f.holds, copyReq.Name)
		f.mu.Unlock()
		f.arrived <- copyReq.Name
		switch {
		case hold == nil:
			emu.ServeHTTP(w, req)
		case hold.answer:
			answer := httptest.NewRecorder()
			emu.ServeHTTP(answer, req)
			f.held <- answer.Code
			<-req.Context().Done()
		default:
			<-hold.release
			emu.ServeHTTP(w, req)
		}
	}))
	t.Cleanup(func() {
		f.mu.Lock()
		for _, h := range f.holds {
			h.open()
		}
		f.mu.Unlock()
		srv.Close()
	})
	f.url = srv.URL
	return f
}

func (h *frontHold) open() {
	if h.release != nil {
		h.once.Do(func() { close(h.release) })
	}
}

// holdAnswer makes the front pass the next copy POST of that name to the emulator and keep the
// answer from the client until the client goes away.
func (f *copyFront) holdAnswer(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.holds[name] = &frontHold{answer: true}
}

// holdRequest makes the front keep the next copy POST of that name from the emulator until release
// is called. Released after its client has gone, it reaches the emulator as a request whose client
// left.
func (f *copyFront) holdRequest(t *testing.T, name string) (release func()) {
	h := &frontHold{release: make(chan struct{})}
	t.Cleanup(h.open)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.holds[name] = h
	return h.open
}

// workerEnv is the worker environment that sends the home region's IMS calls through the front.
func (f *copyFront) workerEnv(r *rig) string {
	home := imsemu.DefaultRegions[0].Name
	var endpoints []string
	for region, url := range r.emu.Endpoints() {
		if region == home {
			url = f.url
		}
		endpoints = append(endpoints, region+"="+url)
	}
	return "IMS_ENDPOINTS=" + strings.Join(endpoints, ",")
}
