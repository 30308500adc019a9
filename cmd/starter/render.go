package main

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/imscopy/imscopy/workflows"
)

const barWidth = 24

// barLine is the live line on a terminal: a bar, the percent, the phase and what is known so far.
func barLine(p workflows.Progress, now time.Time) string {
	pct := clampPercent(p.Percent)
	if p.Phase == workflows.PhaseSucceeded {
		pct = 1
	}
	filled := int(pct*barWidth + 0.5)
	return fmt.Sprintf("[%s%s] %3d%% %s", strings.Repeat("#", filled), strings.Repeat(".", barWidth-filled),
		int(pct*100+0.5), summary(p, now))
}

// plainLine is one line of progress for a log or a pipe.
func plainLine(p workflows.Progress, now time.Time) string {
	pct := clampPercent(p.Percent)
	if p.Phase == workflows.PhaseSucceeded {
		pct = 1
	}
	return fmt.Sprintf("%3d%% %s", int(pct*100+0.5), summary(p, now))
}

// summary: phase, job, image, polls, elapsed time, and the last error while it is being retried.
func summary(p workflows.Progress, now time.Time) string {
	parts := []string{p.Phase}
	if p.JobID != "" {
		parts = append(parts, "job "+p.JobID)
	}
	if p.ImageID != "" {
		parts = append(parts, "image "+p.ImageID)
	}
	switch {
	case p.Polls == 1:
		parts = append(parts, "1 poll")
	case p.Polls > 1:
		parts = append(parts, fmt.Sprintf("%d polls", p.Polls))
	}
	// A finished copy's time is up to its end, which is when its last phase began.
	if (p.Phase == workflows.PhaseSucceeded || p.Phase == workflows.PhaseFailed) && !p.PhaseStartedAt.IsZero() {
		now = p.PhaseStartedAt
	}
	if !p.StartedAt.IsZero() && now.After(p.StartedAt) {
		parts = append(parts, now.Sub(p.StartedAt).Truncate(time.Second).String())
	}
	if p.LastError != "" {
		parts = append(parts, "last error: "+p.LastError)
	}
	return strings.Join(parts, "  ")
}

func clampPercent(f float64) float64 {
	return min(max(f, 0), 1)
}

// changeKey is what a plain line is printed for: a new phase, job or image, a whole percent more,
// or a different error. Poll counts and elapsed time alone are not news.
func changeKey(p workflows.Progress) string {
	return fmt.Sprintf("%s|%d|%s|%s|%s", p.Phase, int(clampPercent(p.Percent)*100+0.5), p.JobID, p.ImageID, p.LastError)
}

// fit cuts s to width runes, so that a terminal line never wraps and the carriage return
// redraws it in place.
func fit(s string, width int) string {
	if width <= 1 || utf8.RuneCountInString(s) < width {
		return s
	}
	return string([]rune(s)[:width-1])
}
