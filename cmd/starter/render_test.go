package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

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
