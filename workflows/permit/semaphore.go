package permit

import (
	"math"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// checkEvery is how often the semaphore asks whether its holders still run: a holder that closed
// without giving its permit back (terminated, reset, timed out) loses it at the next check.
const checkEvery = time.Minute

// maxSignals bounds the semaphore's history: after that many signals it continues as new with
// its state.
const maxSignals = 500

var checkOptions = workflow.ActivityOptions{
	StartToCloseTimeout: time.Minute,
	RetryPolicy:         &temporal.RetryPolicy{MaximumInterval: 30 * time.Second, MaximumAttempts: 3},
}

// Semaphore hands out st.Limit permits. Invariants: a request is held or waiting at most once (by
// RequestID); no more than Limit are ever granted at once (after the limit is lowered, none is
// granted until the holders are below it); every waiting request is granted in the end.
//
// Which request goes next: the one whose kind of copy is expected to hold its permit longest,
// counting the time it has waited on top (see next). Of a batch asked together (a promotion's
// targets) the longest copies start first and the short ones fill the gaps, so the last copies to
// end are not long ones started late; a request that waits long enough goes before any longer kind. It runs for as long as the
// task queue is used; RequestPermit starts it when it is not running. A cancel request is ignored:
// the permits of running copies must not be lost with it (terminate it to stop it).
func Semaphore(ctx workflow.Context, st State) error {
	ctx, _ = workflow.NewDisconnectedContext(ctx)
	if st.Limit <= 0 {
		st.Limit = DefaultLimit
	}
	if err := workflow.SetQueryHandler(ctx, StateQuery, func() (State, error) { return st, nil }); err != nil {
		return err
	}
	// Semaphores from before the longest-first order replay first come, first served.
	longestFirst := workflow.GetVersion(ctx, grantLongestFirst, workflow.DefaultVersion, 1) == 1
	acquire := workflow.GetSignalChannel(ctx, AcquireSignal)
	release := workflow.GetSignalChannel(ctx, ReleaseSignal)
	// nextCheck is when the holders are next checked: a deadline kept across signals, so that a
	// steady flow of signals cannot put the check off.
	var nextCheck time.Time
	for signals := 0; signals < maxSignals && !workflow.GetInfo(ctx).GetContinueAsNewSuggested(); {
		st.grant(ctx, longestFirst)
		now := workflow.Now(ctx)
		switch {
		case len(st.Holders) == 0:
			nextCheck = time.Time{}
		case nextCheck.IsZero():
			nextCheck = now.Add(checkEvery)
		case !now.Before(nextCheck):
			st.reclaim(ctx)
			nextCheck = now.Add(checkEvery)
			continue
		}
		sel := workflow.NewSelector(ctx)
		sel.AddReceive(acquire, func(c workflow.ReceiveChannel, _ bool) {
			var r Request
			c.Receive(ctx, &r)
			signals++
			st.add(r, workflow.Now(ctx))
		})
		sel.AddReceive(release, func(c workflow.ReceiveChannel, _ bool) {
			var r Request
			c.Receive(ctx, &r)
			signals++
			st.giveBack(r.RequestID, workflow.Now(ctx))
		})
		timerCtx, stopTimer := workflow.WithCancel(ctx)
		if !nextCheck.IsZero() {
			sel.AddFuture(workflow.NewTimer(timerCtx, nextCheck.Sub(now)), func(workflow.Future) {})
		}
		sel.Select(ctx)
		stopTimer()
	}
	// Take what arrived meanwhile into the state, so that no signal is lost with this run.
	for {
		var r Request
		switch {
		case acquire.ReceiveAsync(&r):
			st.add(r, workflow.Now(ctx))
		case release.ReceiveAsync(&r):
			st.giveBack(r.RequestID, workflow.Now(ctx))
		default:
			return workflow.NewContinueAsNewError(ctx, WorkflowName, st)
		}
	}
}

// grantLongestFirst is the version of Semaphore that grants by next rather than in order.
const grantLongestFirst = "grant-longest-first"

// grant gives waiting requests permits while the holders are below the limit, and tells each. A
// holder that cannot be told is gone: it gets nothing.
func (st *State) grant(ctx workflow.Context, longestFirst bool) {
	for len(st.Waiting) > 0 && len(st.Holders) < st.Limit {
		i := 0
		if longestFirst {
			i = st.next(workflow.Now(ctx))
		}
		r := st.Waiting[i]
		st.Waiting = slices.Delete(st.Waiting, i, i+1)
		r.At = workflow.Now(ctx)
		// To the holder's current run: a reset run is the same request (RequestID is its chain's
		// first run ID) and takes the grant.
		err := workflow.SignalExternalWorkflow(ctx, r.Holder, "", GrantedSignal, r.RequestID).Get(ctx, nil)
		if err != nil {
			workflow.GetLogger(ctx).Warn("A permit's requester is gone; not granting it", "Holder", r.Holder, "Error", err)
			continue
		}
		st.Holders = append(st.Holders, r)
	}
}

// reclaim takes back the permits of holders that closed without giving them back.
func (st *State) reclaim(ctx workflow.Context) {
	var closed []string
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, checkOptions), ClosedHoldersActivity, st.Holders).Get(ctx, &closed)
	if err != nil {
		workflow.GetLogger(ctx).Warn("Could not check the permits' holders; checking again later", "Error", err)
	}
	for _, id := range closed {
		workflow.GetLogger(ctx).Warn("Reclaiming the permit of a holder that closed without giving it back", "RequestID", id)
		st.remove(id)
	}
}

// next is the index of the waiting request to grant next: the highest sum of the time its kind
// took to give a permit back and the time it has waited. A kind never given back yet (or a request
// without a kind) comes first, so that every kind is learned early; ties keep the order of asking.
func (st *State) next(now time.Time) int {
	best, bestScore := 0, math.Inf(-1)
	for i, r := range st.Waiting {
		score := math.Inf(1)
		if took, ok := st.Took[r.Key]; ok && r.Key != "" {
			score = took + now.Sub(r.At).Seconds()
		}
		if score > bestScore {
			best, bestScore = i, score
		}
	}
	return best
}

// giveBack ends a holder's permit (or withdraws a request) and learns how long its kind held it.
func (st *State) giveBack(requestID string, now time.Time) {
	if i := slices.IndexFunc(st.Holders, func(h Request) bool { return h.RequestID == requestID }); i >= 0 {
		if h := st.Holders[i]; h.Key != "" && !h.At.IsZero() {
			held := now.Sub(h.At).Seconds()
			if st.Took == nil {
				st.Took = map[string]float64{}
			}
			if took, ok := st.Took[h.Key]; ok {
				held = took + (held-took)/3
			}
			st.Took[h.Key] = held
		}
	}
	st.remove(requestID)
}

func (st *State) add(r Request, now time.Time) {
	r.At = now
	if r.Limit > 0 && r.Limit != st.Limit {
		// Workers of one tenant should all say the same; the latest request wins, and is logged by
		// RequestPermit's worker.
		st.Limit = r.Limit
	}
	same := func(h Request) bool { return h.RequestID == r.RequestID }
	// Asked again (the requester's activity was retried): it holds or waits already.
	if slices.ContainsFunc(st.Holders, same) || slices.ContainsFunc(st.Waiting, same) {
		return
	}
	st.Waiting = append(st.Waiting, r)
}

func (st *State) remove(requestID string) {
	match := func(h Request) bool { return h.RequestID == requestID }
	st.Holders = slices.DeleteFunc(st.Holders, match)
	st.Waiting = slices.DeleteFunc(st.Waiting, match)
}
