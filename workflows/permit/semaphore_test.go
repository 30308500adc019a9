package permit

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
)

func request(i int) Request {
	return Request{Holder: fmt.Sprintf("copy-%d", i), RunID: fmt.Sprintf("run-%d", i), RequestID: fmt.Sprintf("run-%d", i)}
}

// semaphoreEnv runs the semaphore with grants recorded and closed holders answered by closed.
func semaphoreEnv(t *testing.T, closed func([]Request) []string) (*testsuite.TestWorkflowEnvironment, func() []string) {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	Register(env)
	env.RegisterActivityWithOptions(func(_ context.Context, holders []Request) ([]string, error) { return closed(holders), nil },
		activity.RegisterOptions{Name: ClosedHoldersActivity})
	var mu sync.Mutex
	var granted []string
	env.OnSignalExternalWorkflow(mock.Anything, mock.Anything, mock.Anything, GrantedSignal, mock.Anything).Return(
		func(_, holder, _, _ string, _ any) error {
			mu.Lock()
			defer mu.Unlock()
			granted = append(granted, holder)
			return nil
		})
	return env, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), granted...)
	}
}

func state(t *testing.T, env *testsuite.TestWorkflowEnvironment) State {
	v, err := env.QueryWorkflow(StateQuery)
	require.NoError(t, err)
	var st State
	require.NoError(t, v.Get(&st))
	return st
}

// At most Limit permits are out; the rest wait in order; a release grants the next; a request
// asked twice is one request.
func TestSemaphoreGrantsAtMostTheLimitInOrder(t *testing.T) {
	env, granted := semaphoreEnv(t, func([]Request) []string { return nil })
	for i := range 4 {
		env.RegisterDelayedCallback(func() { env.SignalWorkflow(AcquireSignal, request(i)) }, time.Duration(i+1)*time.Second)
	}
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(AcquireSignal, request(0)) }, 5*time.Second)
	env.RegisterDelayedCallback(func() {
		assert.Equal(t, []string{"copy-0", "copy-1"}, granted())
		st := state(t, env)
		assert.Len(t, st.Holders, 2)
		assert.Equal(t, []string{"run-2", "run-3"}, requestIDs(st.Waiting), "a request asked twice waits once")
		env.SignalWorkflow(ReleaseSignal, request(1))
	}, 10*time.Second)
	env.RegisterDelayedCallback(func() {
		assert.Equal(t, []string{"copy-0", "copy-1", "copy-2"}, granted())
		env.SignalWorkflow(ReleaseSignal, request(3)) // withdrawn before its grant
		env.SignalWorkflow(ReleaseSignal, request(0))
	}, 20*time.Second)
	env.RegisterDelayedCallback(func() {
		assert.Equal(t, []string{"copy-0", "copy-1", "copy-2"}, granted(), "a withdrawn request is never granted")
		assert.Equal(t, []string{"run-2"}, requestIDs(state(t, env).Holders))
		// A cancel must not lose the permits of running copies: it is ignored.
		env.CancelWorkflow()
		env.SignalWorkflow(AcquireSignal, request(4))
	}, 30*time.Second)
	env.RegisterDelayedCallback(func() {
		assert.Equal(t, []string{"copy-0", "copy-1", "copy-2", "copy-4"}, granted(), "still serving after a cancel")
	}, 35*time.Second)

	ranUntilItsTimeout(t, env, State{Limit: 2})
}

func requestIDs(rs []Request) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, r.RequestID)
	}
	return out
}

// Copies of a kind that held its permit longer go first; a kind not learned yet goes before any
// learned one; a request that waited long enough goes before a longer kind. With one permit: a far
// copy held it 100 s and a near one 10 s; then near, far and unknown copies ask together.
func TestSemaphoreGrantsTheLongestKindFirst(t *testing.T) {
	env, granted := semaphoreEnv(t, func([]Request) []string { return nil })
	kind := func(i int, key string) Request { r := request(i); r.Key = key; return r }
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(AcquireSignal, kind(0, "far")) }, time.Second)
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(ReleaseSignal, kind(0, "far"))
		env.SignalWorkflow(AcquireSignal, kind(1, "near"))
	}, 101*time.Second)
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(AcquireSignal, kind(2, "near"))
		env.SignalWorkflow(AcquireSignal, kind(3, "far"))
		env.SignalWorkflow(AcquireSignal, kind(4, "unknown"))
		env.SignalWorkflow(ReleaseSignal, kind(1, "near"))
	}, 111*time.Second)
	env.RegisterDelayedCallback(func() {
		st := state(t, env)
		assert.InDelta(t, 100, st.Took["far"], 0.001)
		assert.InDelta(t, 10, st.Took["near"], 0.001)
		assert.Equal(t, []string{"copy-0", "copy-1", "copy-4"}, granted(), "the kind not learned yet first")
		env.SignalWorkflow(ReleaseSignal, kind(4, "unknown"))
	}, 112*time.Second)
	env.RegisterDelayedCallback(func() {
		assert.Equal(t, []string{"copy-0", "copy-1", "copy-4", "copy-3"}, granted(), "then the far copy, asked after the near one")
	}, 113*time.Second)
	// The near copy has waited since 111 s, the far one since 390 s; at 400 s the near one's 10 s
	// plus its 289 s of waiting beat the far kind's learned 163 s plus 10 s.
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(AcquireSignal, kind(5, "far")) }, 390*time.Second)
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(ReleaseSignal, kind(3, "far")) }, 400*time.Second)
	env.RegisterDelayedCallback(func() {
		assert.Equal(t, []string{"copy-0", "copy-1", "copy-4", "copy-3", "copy-2"}, granted(), "a long wait goes first")
	}, 401*time.Second)

	ranUntilItsTimeout(t, env, State{Limit: 1})
}

// ranUntilItsTimeout runs the semaphore, which never ends by itself, until a run timeout, and
// requires that it was that timeout which ended it, not a failure or a deadlock.
func ranUntilItsTimeout(t *testing.T, env *testsuite.TestWorkflowEnvironment, st State) {
	t.Helper()
	env.SetWorkflowRunTimeout(10 * time.Minute)
	env.ExecuteWorkflow(WorkflowName, st)
	require.True(t, env.IsWorkflowCompleted())
	var timeout *temporal.TimeoutError
	require.ErrorAs(t, env.GetWorkflowError(), &timeout)
}

// A holder that closed without giving its permit back loses it at the next check.
func TestSemaphoreReclaimsTheClosedHoldersPermits(t *testing.T) {
	var gone sync.Map
	env, granted := semaphoreEnv(t, func(holders []Request) []string {
		var out []string
		for _, h := range holders {
			if _, ok := gone.Load(h.RequestID); ok {
				out = append(out, h.RequestID)
			}
		}
		return out
	})
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(AcquireSignal, request(0)) }, time.Second)
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(AcquireSignal, request(1)) }, 2*time.Second)
	env.RegisterDelayedCallback(func() {
		assert.Equal(t, []string{"copy-0"}, granted())
		gone.Store("run-0", true) // terminated, never released
	}, 3*time.Second)
	env.RegisterDelayedCallback(func() {
		assert.Equal(t, []string{"copy-0", "copy-1"}, granted(), "the dead holder's permit went to the next")
	}, 3*time.Second+2*checkEvery)

	ranUntilItsTimeout(t, env, State{Limit: 1})
}

// A steady flow of signals, one more often than the check, does not put the check off.
func TestSemaphoreChecksItsHoldersWhileSignalsKeepComing(t *testing.T) {
	var gone sync.Map
	gone.Store("run-0", true) // granted, then terminated without releasing
	env, granted := semaphoreEnv(t, func(holders []Request) []string {
		var out []string
		for _, h := range holders {
			if _, ok := gone.Load(h.RequestID); ok {
				out = append(out, h.RequestID)
			}
		}
		return out
	})
	for i := range 10 {
		env.RegisterDelayedCallback(func() { env.SignalWorkflow(AcquireSignal, request(i)) }, time.Duration(i)*checkEvery/2+time.Second)
	}
	env.RegisterDelayedCallback(func() {
		got := granted()
		require.GreaterOrEqual(t, len(got), 2, "granted: %v", got)
		assert.Equal(t, []string{"copy-0", "copy-1"}, got[:2], "copy-0's permit was reclaimed while signals kept coming")
	}, 3*checkEvery)

	ranUntilItsTimeout(t, env, State{Limit: 1})
}

// After maxSignals the semaphore continues as new, its holders and waiters carried over.
func TestSemaphoreContinuesAsNewWithItsState(t *testing.T) {
	env, _ := semaphoreEnv(t, func([]Request) []string { return nil })
	env.RegisterDelayedCallback(func() {
		for i := range maxSignals {
			env.SignalWorkflow(AcquireSignal, request(i))
		}
	}, time.Second)
	env.ExecuteWorkflow(WorkflowName, State{Limit: 3})
	require.True(t, env.IsWorkflowCompleted())
	err := env.GetWorkflowError()
	var can *workflow.ContinueAsNewError
	require.ErrorAs(t, err, &can)
	var next State
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
	assert.Equal(t, 3, next.Limit)
	assert.Len(t, next.Holders, 3)
	assert.Len(t, next.Waiting, maxSignals-3)
}
