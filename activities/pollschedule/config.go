package pollschedule

import "time"

// Config is the schedule's knobs: how soon PollJob first asks about a job, how short and how
// long a wait may be, how late after the job's end it aims to notice it, and the jitter that
// keeps copies started together apart.
type Config struct {
	// Initial is the first wait, and the start of the doubling back-off used while a job's rate
	// of progress is still unknown, which stops at six times Initial. Default 10 s, Terraform's
	// first wait too: no IMS copy ends sooner, and one that IMS refuses (KMS key disabled, quota)
	// is refused by the POST itself, which SubmitCopy reports at once.
	Initial time.Duration
	// Min is the shortest wait, and the start of the back-off after a failed read. Default 1 s,
	// far below the 200 calls/s the API gateway allows per API.
	Min time.Duration
	// Max is the longest wait. Default 5 min: a long copy is asked about every few minutes while
	// its end is far. PollJob also never plans further ahead than the time it has watched
	// the job progress (planHorizon), and waits at most a minute while nothing foretells the end
	// (a job queued in INIT before the calibration has learned queues, an adopted image) or after
	// a failed read (blindWaitMax).
	Max time.Duration
	// Lag is how soon after the job's end PollJob aims to notice it: each wait of a running job is
	// Lag plus a share of the predicted remaining time (fixed, or learned by the Calibration), so
	// near the end PollJob calls every Lag. Default 8 s: a copy that took minutes is not made
	// slower by a few seconds, and calling every second near an end that IMS's coarse, slowing
	// percent cannot place precisely would cost more calls than it saves seconds. Terraform's
	// provider notices within 10 s.
	Lag time.Duration
	// Jitter spreads each wait that rests on no progress (the first, those while queued, after
	// failed reads) by up to this fraction either way, so that copies started together do not
	// poll IMS in lockstep. A wait predicted from a running job's progress is not jittered: it
	// already differs from copy to copy, and jitter would only move it off its aim. Default 0.1.
	Jitter float64
}

// DefaultConfig returns the defaults explained on each Config field.
func DefaultConfig() Config {
	return Config{
		Initial: 10 * time.Second,
		Min:     time.Second,
		Max:     5 * time.Minute,
		Lag:     8 * time.Second,
		Jitter:  0.1,
	}
}
