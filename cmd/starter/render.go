package main

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/imscopy/imscopy/workflows/copyimage"
)

const barWidth = 24

// barLine is the live line on a terminal: a bar, the percent, the phase and what is known so far.
func barLine(p snapshot, now time.Time) string {
	pct := clampPercent(p.Percent)
	if p.Phase == copyimage.PhaseSucceeded {
		pct = 1
	}
	filled := int(pct*barWidth + 0.5)
	return fmt.Sprintf("[%s%s] %3d%% %s", strings.Repeat("#", filled), strings.Repeat(".", barWidth-filled),
		int(pct*100+0.5), summary(p, now))
}

// plainLine is one line of progress for a log or a pipe.
func plainLine(p snapshot, now time.Time) string {
	pct := clampPercent(p.Percent)
	if p.Phase == copyimage.PhaseSucceeded {
		pct = 1
	}
	return fmt.Sprintf("%3d%% %s", int(pct*100+0.5), summary(p, now))
}

// summary: phase, job (with IMS's status of it), image, polls, when PollJob polls next, elapsed
// time, why PollJob is being retried, and the last error.
func summary(p snapshot, now time.Time) string {
	parts := []string{p.Phase}
	jobStatus := ""
	if p.Live != nil {
		jobStatus = p.Live.JobStatus
	}
	if p.JobID != "" {
		parts = append(parts, strings.TrimSpace("job "+p.JobID+" "+jobStatus))
		jobStatus = ""
	}
	if p.ImageID != "" {
		// An adopted image is waited for without a job: the status is the image's.
		parts = append(parts, strings.TrimSpace("image "+p.ImageID+" "+jobStatus))
	}
	switch {
	case p.Polls == 1:
		parts = append(parts, "1 poll")
	case p.Polls > 1:
		parts = append(parts, fmt.Sprintf("%d polls", p.Polls))
	}
	if p.Live != nil && p.Live.NextPollAt.After(now) {
		parts = append(parts, "next poll in "+max(p.Live.NextPollAt.Sub(now).Round(time.Second), time.Second).String())
	}
	// A finished copy's time is up to its end, which is when its last phase began.
	if (p.Phase == copyimage.PhaseSucceeded || p.Phase == copyimage.PhaseFailed) && !p.PhaseStartedAt.IsZero() {
		now = p.PhaseStartedAt
	}
	if !p.StartedAt.IsZero() && now.After(p.StartedAt) {
		parts = append(parts, now.Sub(p.StartedAt).Truncate(time.Second).String())
	}
	switch {
	case p.Retry != nil:
		parts = append(parts, retryText(*p.Retry, now))
	case p.Live != nil && p.Live.LastFailure != "":
		parts = append(parts, fmt.Sprintf("retrying PollJob (attempt %d): %s", p.Live.Attempt, firstLine(cleanReason(p.Live.LastFailure))))
	}
	if p.LastError != "" {
		parts = append(parts, "last error: "+firstLine(cleanReason(p.LastError)))
	}
	return strings.Join(parts, "  ")
}

// retryText is an activity being retried, in one line: which, the attempt, when the next one is
// due, and why the last one failed.
func retryText(r retrying, now time.Time) string {
	when := ""
	if r.NextAt.After(now) {
		when = ", next in " + max(r.NextAt.Sub(now).Round(time.Second), time.Second).String()
	}
	return fmt.Sprintf("retrying %s (attempt %d%s): %s", r.Activity, r.Attempt, when, firstLine(cleanReason(r.LastFailure)))
}

func clampPercent(f float64) float64 {
	return min(max(f, 0), 1)
}

// changeKey is what a plain line is printed for: a new phase, job status, job or image, a whole
// percent more, a retry of PollJob, or a different error. Poll counts and elapsed time alone are
// not news.
func changeKey(p snapshot) string {
	var live livePoll
	if p.Live != nil {
		live = *p.Live
	}
	var retry retrying
	if p.Retry != nil {
		retry = *p.Retry
	}
	return fmt.Sprintf("%s|%d|%s|%s|%s|%s|%d|%s|%s|%d|%s", p.Phase, int(clampPercent(p.Percent)*100+0.5), p.JobID, p.ImageID,
		p.LastError, live.JobStatus, live.Attempt, live.LastFailure, retry.Activity, retry.Attempt, retry.LastFailure)
}

// fit cuts s to width runes, so that a terminal line never wraps and the carriage return
// redraws it in place.
func fit(s string, width int) string {
	if width <= 1 || utf8.RuneCountInString(s) < width {
		return s
	}
	return string([]rune(s)[:width-1])
}

// firstLine keeps a message to its first line without control characters, so that an error
// cannot break a one-line progress display; --json keeps the whole message.
func firstLine(msg string) string {
	if i := strings.IndexAny(msg, "\r\n"); i >= 0 {
		msg = msg[:i]
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, msg)
}
