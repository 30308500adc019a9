package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/imscopy/imscopy/workflows/copyimage"
)

// queryEvery is how often --wait asks the workflow for progress (and, while PollJob waits, the
// server for its last heartbeat). A query is answered by a worker from the workflow's state and a
// describe by the server, not by IMS, so this costs IMS nothing.
const queryEvery = time.Second

// queryTimeout bounds one progress query. A query waits for a worker; when none is running it
// would wait until the deadline, and the next tick asks again.
const queryTimeout = 3 * time.Second

// progressView draws progress: redrawn in place on a terminal, one line per change otherwise.
type progressView struct {
	out      io.Writer
	terminal bool
	width    func() int // the terminal's width now; it can change while we draw
	now      func() time.Time

	lastKey     string
	lastPercent float64 // the job's percent last seen, kept once the copy fails or is cancelled
	drawn       bool    // a terminal line is on screen without its newline
	noWorker    bool    // the "no answer" notice has been shown
	failCount   int
}

// show draws p, unless (off a terminal) nothing worth a line has changed.
func (v *progressView) show(p snapshot) {
	v.failCount = 0
	// Once PollJob has ended, the workflow knows no percent short of success; a copy being
	// cancelled or failing stays at the percent it reached rather than dropping to 0.
	if p.Phase == copyimage.PhaseCompensating || p.Phase == copyimage.PhaseFailed {
		p.Percent = max(p.Percent, v.lastPercent)
	}
	v.lastPercent = p.Percent
	if v.terminal {
		fmt.Fprintf(v.out, "\r%s\x1b[K", fitLine(p, v.now(), v.width()))
		v.drawn = true
		return
	}
	if key := changeKey(p); key != v.lastKey {
		v.lastKey = key
		fmt.Fprintln(v.out, plainLine(p, v.now()))
	}
}

// queryFailed notes a progress query that got no answer; after a few in a row it says why that may
// be, once.
func (v *progressView) queryFailed(err error) {
	v.failCount++
	if v.failCount < 3 || v.noWorker {
		return
	}
	v.noWorker = true
	v.finishLine()
	fmt.Fprintf(v.out, "no progress from the workflow (%v): is a worker running? waiting on...\n", err)
}

// finishLine ends a line drawn in place, so what follows starts on its own line.
func (v *progressView) finishLine() {
	if v.drawn {
		fmt.Fprintln(v.out)
		v.drawn = false
	}
}

// queryProgress asks a workflow for its progress once.
func queryProgress(ctx context.Context, c client.Client, workflowID string) (copyimage.Progress, error) {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	var p copyimage.Progress
	v, err := c.QueryWorkflow(ctx, workflowID, "", copyimage.ProgressQuery)
	if err != nil {
		return p, err
	}
	return p, v.Get(&p)
}

// progressSnapshot asks the workflow for its progress and, while it polls, the server for
// PollJob's last heartbeat, which holds the job's percent.
func progressSnapshot(ctx context.Context, c client.Client, workflowID string) (snapshot, error) {
	p, err := queryProgress(ctx, c, workflowID)
	if err != nil {
		return snapshot{Progress: p}, err
	}
	// A failed describe costs only this second's percent and retry; the next tick asks again.
	live, retry, _ := describeLive(ctx, c, workflowID)
	s := combine(p, live)
	s.Retry = retry
	return s, nil
}

// watch waits for run's result while it shows progress every queryEvery. It returns when the
// workflow ends or ctx is done (the copy goes on either way).
func watch(ctx context.Context, c client.Client, run client.WorkflowRun, view *progressView) (copyimage.Result, error) {
	var result copyimage.Result
	done := make(chan error, 1)
	go func() { done <- run.Get(ctx, &result) }()

	type answer struct {
		p   snapshot
		err error
	}
	answers := make(chan answer)
	queryCtx, stopQueries := context.WithCancel(ctx)
	defer stopQueries()
	go func() {
		tick := time.NewTicker(queryEvery)
		defer tick.Stop()
		for {
			p, err := progressSnapshot(queryCtx, c, run.GetID())
			select {
			case answers <- answer{p, err}:
			case <-queryCtx.Done():
				return
			}
			select {
			case <-tick.C:
			case <-queryCtx.Done():
				return
			}
		}
	}()

	var last snapshot
	for {
		select {
		case err := <-done:
			stopQueries()
			if err == nil && view.terminal {
				// The last answer may predate the end; draw the end itself.
				end := last
				end.Phase, end.Percent, end.JobID, end.ImageID = copyimage.PhaseSucceeded, 1, result.JobID, result.ImageID
				end.PhaseStartedAt, end.Live = view.now(), nil
				view.show(end)
			}
			view.finishLine()
			return result, err
		case a := <-answers:
			if a.err != nil {
				view.queryFailed(a.err)
				continue
			}
			last = a.p
			view.show(a.p)
		}
	}
}
