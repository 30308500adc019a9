package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imscopy/imscopy/activities/activityapi"
	"github.com/imscopy/imscopy/workflows/copyimage"
)

var (
	t0      = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	polling = snapshot{Progress: copyimage.Progress{
		Phase: copyimage.PhasePolling, Percent: 0.42, JobID: "ff8080814dbd65d7014dbe0d84db0013",
		ImageID: "a1b2c3d4-0000-4000-8000-000000000001", Polls: 7, StartedAt: t0,
	}}
)

// phase is a snapshot of a copy in that phase that knows nothing else yet.
func phase(name string, percent float64) snapshot {
	return snapshot{Progress: copyimage.Progress{Phase: name, Percent: percent}}
}

func TestBarLine(t *testing.T) {
	line := barLine(polling, t0.Add(65*time.Second))
	assert.Equal(t, "[##########..............]  42% polling  job ff8080814dbd65d7014dbe0d84db0013  "+
		"image a1b2c3d4-0000-4000-8000-000000000001  7 polls  1m5s", line)

	assert.True(t, strings.HasPrefix(barLine(phase(copyimage.PhaseSubmitting, 0), t0), "[........................]   0% submitting"))
	assert.True(t, strings.HasPrefix(barLine(phase(copyimage.PhaseSucceeded, 0.97), t0), "[########################] 100% succeeded"),
		"a finished copy is drawn full even if the last poll saw less")
	assert.True(t, strings.HasPrefix(barLine(phase(copyimage.PhasePolling, 1.7), t0), "[########################] 100%"),
		"an out-of-range percent is clamped")
}

func TestPlainLineShowsTheLastError(t *testing.T) {
	p := polling
	p.LastError = "IMS throttled the request (APIGW.0308)"
	assert.Equal(t, " 42% polling  job ff8080814dbd65d7014dbe0d84db0013  image a1b2c3d4-0000-4000-8000-000000000001  "+
		"7 polls  10s  last error: IMS throttled the request (APIGW.0308)", plainLine(p, t0.Add(10*time.Second)))
}

func TestFitKeepsTerminalLinesOnOneRow(t *testing.T) {
	assert.Equal(t, "abcd", fit("abcdefgh", 5))
	assert.Equal(t, "abc", fit("abc", 5))
	assert.Equal(t, "复制镜", fit("复制镜像名称", 4), "cuts runes, not bytes")
}

func TestPlainViewPrintsOnlyChanges(t *testing.T) {
	var out bytes.Buffer
	v := &progressView{out: &out, now: func() time.Time { return t0 }}

	v.show(phase(copyimage.PhaseSubmitting, 0))
	v.show(phase(copyimage.PhaseSubmitting, 0)) // same: no line
	p := polling
	v.show(p)
	p.Polls++ // a poll alone is not news
	v.show(p)
	p.Percent = 0.424 // nor is a change that rounds to the same percent
	v.show(p)
	p.Percent = 0.5
	v.show(p)

	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	assert.Len(t, lines, 3, out.String())
	assert.Contains(t, lines[0], "submitting")
	assert.Contains(t, lines[1], " 42% polling")
	assert.Contains(t, lines[2], " 50% polling")
	assert.NotContains(t, out.String(), "\r", "no terminal control off a terminal")
}

func TestTerminalViewRedrawsInPlace(t *testing.T) {
	var out bytes.Buffer
	v := &progressView{out: &out, terminal: true, width: func() int { return 40 }, now: func() time.Time { return t0 }}

	v.show(polling)
	v.show(polling)
	v.finishLine()

	assert.Equal(t, 2, strings.Count(out.String(), "\r"), "every answer redraws the line")
	assert.True(t, strings.HasSuffix(out.String(), "\x1b[K\n"), "the line is ended once at the finish")
	for _, drawn := range strings.Split(strings.Trim(out.String(), "\n"), "\r")[1:] {
		assert.LessOrEqual(t, len([]rune(strings.TrimSuffix(drawn, "\x1b[K"))), 39, "a line never wraps")
	}
}

func TestViewExplainsMissingProgressOnce(t *testing.T) {
	var out bytes.Buffer
	v := &progressView{out: &out, now: func() time.Time { return t0 }}
	noWorker := errors.New("context deadline exceeded")

	v.queryFailed(noWorker)
	v.queryFailed(noWorker)
	assert.Empty(t, out.String(), "one or two missed answers are normal (a worker restarting)")
	v.queryFailed(noWorker)
	v.queryFailed(noWorker)
	assert.Equal(t, 1, strings.Count(out.String(), "is a worker running?"))
}

// The live line fits the terminal by giving up fields or their longer forms, never by cutting one
// in the middle: the status, the polls and the elapsed time stay at 40 columns.
func TestLiveLineFitsTheTerminalWidth(t *testing.T) {
	p := polling
	p.Live = &livePoll{HasHeartbeat: true, JobStatus: "RUNNING", NextPollAt: t0.Add(74 * time.Second)}
	now := t0.Add(65 * time.Second)
	want := map[int]string{
		40: "42% polling  job RUNNING  7 polls  1m5s",
		80: "42% polling  job RUNNING  image a1b2c3d4…  7 polls  next 9s  1m5s",
		120: "[##########..............]  42% polling  job ff808081… RUNNING  image a1b2c3d4…  7 polls  " +
			"next poll in 9s  1m5s",
	}
	for width, line := range want {
		assert.Equal(t, line, fitLine(p, now, width), "width %d", width)
	}
	assert.Equal(t, barLine(p, now), fitLine(p, now, 200), "a wide terminal shows everything")

	r := phase(copyimage.PhaseSubmitting, 0)
	r.StartedAt = t0
	r.Retry = &retrying{Activity: activityapi.NameSubmitCopy, Attempt: 5, NextAt: t0.Add(30 * time.Second),
		LastFailure: `ListImages: no response from IMS: dial tcp 127.0.0.1:1: connect: connection refused`}
	now = t0.Add(25 * time.Second)
	assert.Equal(t, "0% submitting  25s  retrying", fitLine(r, now, 40))
	assert.Equal(t, "0% submitting  25s  retrying SubmitCopy (attempt 5)", fitLine(r, now, 80))
	assert.Equal(t, "[............]   0% submitting  25s  retrying SubmitCopy (attempt 5, next in 5s): "+
		"ListImages: no response from IMS: di…", fitLine(r, now, 120), "only a reason is cut, at its end")

	// At every width, every item shown is one of its field's forms, whole, and the line never
	// reaches the last column.
	for _, s := range []snapshot{p, r} {
		var forms []string
		for _, f := range summaryFields(s, now) {
			forms = append(forms, f.forms...)
		}
		for width := 16; width <= 240; width++ {
			line := fitLine(s, now, width)
			assert.LessOrEqual(t, columns(line), width-1, "width %d: %q", width, line)
			_, rest, found := strings.Cut(line, "% "+s.Phase) // after the bar, the percent and the phase
			require.True(t, found, "width %d: %q", width, line)
			for _, item := range strings.Split(rest, "  ")[1:] {
				if strings.HasSuffix(item, "…") && strings.HasPrefix(item, "retrying ") {
					continue // a reason cut at its end
				}
				assert.Contains(t, forms, item, "width %d: %q", width, line)
			}
		}
	}
}

func TestColumnsCountsWideRunesTwice(t *testing.T) {
	assert.Equal(t, 4, columns("ab…"+"c"))
	assert.Equal(t, 8, columns("复制镜像"))
}

// A cancelled or failing copy keeps the percent it reached; the workflow's query knows none once
// PollJob has ended.
func TestViewKeepsThePercentAfterACancel(t *testing.T) {
	var out bytes.Buffer
	v := &progressView{out: &out, now: func() time.Time { return t0 }}
	v.show(polling)
	v.show(phase(copyimage.PhaseCompensating, 0))
	v.show(phase(copyimage.PhaseFailed, 0))

	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	assert.Len(t, lines, 3, out.String())
	assert.True(t, strings.HasPrefix(lines[1], " 42% compensating"), lines[1])
	assert.True(t, strings.HasPrefix(lines[2], " 42% failed"), lines[2])

	out.Reset()
	v = &progressView{out: &out, terminal: true, width: func() int { return 80 }, now: func() time.Time { return t0 }}
	v.show(polling)
	v.show(phase(copyimage.PhaseCompensating, 0))
	assert.Contains(t, out.String(), "42% compensating")
}
