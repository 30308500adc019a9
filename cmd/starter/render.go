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

// barLine is the live line in full: a bar, the percent, the phase and what is known so far. On a
// terminal it is drawn by fitLine, which fits it to the width.
func barLine(p snapshot, now time.Time) string {
	return fitLine(p, now, 0)
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
	return joinFields(summaryFields(p, now))
}

// field is one item of the live line, in the forms it may take from the fullest to the shortest;
// a last form "" drops it. A field with keep > 0 may also be cut at its end (marked "…") after
// its first keep runes, which are its label: only a free-text reason is, never an ID or a number.
type field struct {
	forms []string
	keep  int
	at    int // the form shown
}

// The fields of the live line, by index.
const (
	fPercent = iota // the bar and the percent
	fPhase
	fJob
	fImage
	fPolls
	fNextPoll
	fElapsed
	fRetry
	fLastError
	nFields
)

// shortID is an ID shortened to its first characters, marked so it is not taken for a whole one.
func shortID(id string) string {
	if utf8.RuneCountInString(id) <= 9 {
		return id
	}
	return string([]rune(id)[:8]) + "…"
}

// summaryFields is what the live line can show of p, every field in its forms (index: fPhase..).
func summaryFields(p snapshot, now time.Time) []field {
	fs := make([]field, nFields)
	fs[fPercent] = field{forms: []string{""}}
	fs[fPhase] = field{forms: []string{p.Phase}}
	jobStatus := ""
	if p.Live != nil {
		jobStatus = p.Live.JobStatus
	}
	if p.JobID != "" {
		fs[fJob].forms = []string{
			strings.TrimSpace("job " + p.JobID + " " + jobStatus),
			strings.TrimSpace("job " + shortID(p.JobID) + " " + jobStatus),
			strings.TrimSpace("job " + jobStatus),
			""}
		jobStatus = ""
	}
	if p.ImageID != "" {
		// An adopted image is waited for without a job: the status is the image's.
		fs[fImage].forms = []string{
			strings.TrimSpace("image " + p.ImageID + " " + jobStatus),
			strings.TrimSpace("image " + shortID(p.ImageID) + " " + jobStatus),
			""}
	}
	switch {
	case p.Polls == 1:
		fs[fPolls].forms = []string{"1 poll", ""}
	case p.Polls > 1:
		fs[fPolls].forms = []string{fmt.Sprintf("%d polls", p.Polls), ""}
	}
	if p.Live != nil && p.Live.NextPollAt.After(now) {
		in := max(p.Live.NextPollAt.Sub(now).Round(time.Second), time.Second).String()
		fs[fNextPoll].forms = []string{"next poll in " + in, "next " + in, ""}
	}
	// A finished copy's time is up to its end, which is when its last phase began.
	if (p.Phase == copyimage.PhaseSucceeded || p.Phase == copyimage.PhaseFailed) && !p.PhaseStartedAt.IsZero() {
		now = p.PhaseStartedAt
	}
	if !p.StartedAt.IsZero() && now.After(p.StartedAt) {
		fs[fElapsed].forms = []string{now.Sub(p.StartedAt).Truncate(time.Second).String(), ""}
	}
	switch {
	case p.Retry != nil:
		label := retryLabel(*p.Retry, now)
		fs[fRetry] = field{forms: []string{label + ": " + firstLine(cleanReason(p.Retry.LastFailure)),
			fmt.Sprintf("retrying %s (attempt %d)", p.Retry.Activity, p.Retry.Attempt), "retrying", ""},
			keep: utf8.RuneCountInString(label) + 2}
	case p.Live != nil && p.Live.LastFailure != "":
		label := fmt.Sprintf("retrying PollJob (attempt %d)", p.Live.Attempt)
		fs[fRetry] = field{forms: []string{label + ": " + firstLine(cleanReason(p.Live.LastFailure)), label, "retrying", ""},
			keep: utf8.RuneCountInString(label) + 2}
	}
	if p.LastError != "" {
		fs[fLastError] = field{forms: []string{"last error: " + firstLine(cleanReason(p.LastError)), "last error …", ""},
			keep: len("last error: ")}
	}
	for i := range fs {
		if fs[i].forms == nil {
			fs[i].forms = []string{""}
		}
	}
	return fs
}

// shrinkOrder is the order in which the live line gives up detail to fit a terminal, least
// needed first: the percent, the phase, the job's status, why it is retried and the elapsed time
// go last. A field named twice takes its next form each time; fReason steps cut a reason to fit.
var shrinkOrder = []int{
	fJob, fImage, fPercent, fNextPoll, fJob, fReason, fPercent, fImage, fNextPoll, fPolls, fReason,
	fRetry, fLastError, fRetry, fElapsed, fLastError, fJob, fRetry,
}

// fReason in shrinkOrder cuts the retry's reason, then the last error's, to the room left.
const fReason = -1

// fitLine is the live line for a terminal width columns wide: it keeps to width-1 columns (so the
// cursor never wraps), giving up whole fields or their longer forms in shrinkOrder; only a reason
// is cut at its end, and only when a useful part of it still shows. A terminal too narrow for
// the percent and the phase gets them cut.
func fitLine(p snapshot, now time.Time, width int) string {
	fs := summaryFields(p, now)
	pct := clampPercent(p.Percent)
	if p.Phase == copyimage.PhaseSucceeded {
		pct = 1
	}
	bar := func(n int) string {
		filled := int(pct*float64(n) + 0.5)
		return fmt.Sprintf("[%s%s] %3d%%", strings.Repeat("#", filled), strings.Repeat(".", n-filled), int(pct*100+0.5))
	}
	// The percent and the phase read as one item, a space apart.
	fs[fPercent].forms = []string{bar(barWidth) + " " + p.Phase, bar(barWidth/2) + " " + p.Phase,
		fmt.Sprintf("%d%% %s", int(pct*100+0.5), p.Phase)}
	fs[fPhase].forms = []string{""}
	if width <= 1 {
		return joinFields(fs)
	}
	limit := width - 1
	for _, step := range shrinkOrder {
		line := joinFields(fs)
		if columns(line) <= limit {
			return line
		}
		if step == fReason {
			for _, i := range []int{fRetry, fLastError} {
				if cutReason(fs, i, limit) {
					return joinFields(fs)
				}
			}
			continue
		}
		if fs[step].at < len(fs[step].forms)-1 {
			fs[step].at++
		}
	}
	return fit(joinFields(fs), width)
}

// reasonShown is the least of a reason worth showing cut; shorter, the field takes a shorter form.
const reasonShown = 16

// cutReason cuts field i's reason at its end so that the line fits limit columns, if at least
// reasonShown runes of it still show; it reports whether it did.
func cutReason(fs []field, i, limit int) bool {
	f := &fs[i]
	if f.keep == 0 || f.at != 0 {
		return false
	}
	full := f.forms[0]
	room := limit - (columns(joinFields(fs)) - columns(full)) - 1 // the "…"
	r := []rune(full)
	n := 0
	for n < len(r) && columns(string(r[:n+1])) <= room {
		n++
	}
	if n-f.keep < reasonShown {
		return false
	}
	f.forms[0] = strings.TrimRight(string(r[:n]), " ") + "…"
	return true
}

// joinFields is the fields in their current forms, two spaces apart.
func joinFields(fs []field) string {
	parts := make([]string, 0, len(fs))
	for _, f := range fs {
		if s := f.forms[f.at]; s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, "  ")
}

// columns is how many terminal columns s takes: East Asian wide characters (a Chinese image name
// or IMS reason) take two.
func columns(s string) int {
	n := 0
	for _, r := range s {
		n++
		if wide(r) {
			n++
		}
	}
	return n
}

// wide reports the East Asian wide and full-width runes, which a terminal draws two columns wide.
func wide(r rune) bool {
	return r >= 0x1100 && (r <= 0x115f || r == 0x2329 || r == 0x232a ||
		(r >= 0x2e80 && r <= 0xa4cf && r != 0x303f) || (r >= 0xac00 && r <= 0xd7a3) ||
		(r >= 0xf900 && r <= 0xfaff) || (r >= 0xfe30 && r <= 0xfe4f) || (r >= 0xff00 && r <= 0xff60) ||
		(r >= 0xffe0 && r <= 0xffe6) || (r >= 0x1f300 && r <= 0x1f64f) || (r >= 0x1f900 && r <= 0x1f9ff) ||
		(r >= 0x20000 && r <= 0x3fffd))
}

// retryLabel names an activity being retried: which, the attempt, and when the next one is due;
// the live line adds why the last one failed.
func retryLabel(r retrying, now time.Time) string {
	when := ""
	if r.NextAt.After(now) {
		when = ", next in " + max(r.NextAt.Sub(now).Round(time.Second), time.Second).String()
	}
	return fmt.Sprintf("retrying %s (attempt %d%s)", r.Activity, r.Attempt, when)
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
