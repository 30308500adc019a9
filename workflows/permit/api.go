// Package permit is the tenant-wide limit on cross-region copies: IMS runs at most 5 of them per
// tenant at once and refuses a sixth (IMG.0149). One long-lived workflow per task queue hands out
// N permits; a cross-region CopyImage holds one from before its POST until its job has ended.
// Temporal is the only shared state, so every promotion, copy and worker of the tenant shares the
// same N. This file is its contract.
package permit

import "time"

// WorkflowName is the semaphore workflow's registered name.
const WorkflowName = "CrossRegionPermits"

// Signal and query names.
const (
	AcquireSignal = "acquire"        // a Request, to the semaphore
	ReleaseSignal = "release"        // a Request, to the semaphore
	GrantedSignal = "permit-granted" // the Request's RequestID, to the holder
	StateQuery    = "state"
)

// DefaultLimit is IMS's own limit of concurrent cross-region copies per tenant (docs/ims-api.md section 3).
const DefaultLimit = 5

// WorkflowID is the semaphore of a task queue: every worker of the tenant polls the same queue.
func WorkflowID(taskQueue string) string { return "imscopy-permits/cross-region-copies/" + taskQueue }

// Request is a workflow asking for, or giving back, a permit.
type Request struct {
	// Key says which kind of copy asks (source and target region, KeyOf): the semaphore learns how
	// long each kind holds a permit and grants the longest first (Semaphore).
	Key    string `json:"key,omitempty"`
	Holder string `json:"holder"` // the workflow ID
	RunID  string `json:"run_id"`
	// RequestID tells one request from another: a copy holds one permit, so it is the first run ID
	// of its workflow's chain, which a reset keeps.
	RequestID string `json:"request_id"`
	// Limit is the limit the requesting worker is configured with (CROSS_REGION_COPIES); the
	// semaphore follows the latest one it was told.
	Limit int `json:"limit,omitempty"`
	// At is when the semaphore took the request in (waiting) or granted it (holders); it sets it.
	At time.Time `json:"at,omitzero"`
}

// KeyOf is the Key of a cross-region copy from one region to another.
func KeyOf(sourceRegion, targetRegion string) string { return sourceRegion + ">" + targetRegion }

// State is the semaphore's state, carried across continue-as-new and returned by its query.
type State struct {
	Limit   int       `json:"limit"`
	Holders []Request `json:"holders"`
	Waiting []Request `json:"waiting"`
	// Took is how long, in seconds, a permit of each Key was held until given back, learned from
	// the holders that gave theirs back (each return moves it a third of the way).
	Took map[string]float64 `json:"took_seconds,omitempty"`
}

// Activity names, registered by package activities (RequestPermit, ClosedHolders), which talk to
// Temporal for the workflows.
const (
	RequestActivity       = "RequestPermit"
	ClosedHoldersActivity = "ClosedHolders"
)
