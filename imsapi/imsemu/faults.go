package imsemu

import (
	"encoding/json"
	"fmt"
	"maps"
	"time"

	"github.com/imscopy/imscopy/internal/strictjson"
)

// Route names, used as keys of Faults.Routes and in request counts.
const (
	RouteCopyInRegion           = "CopyImageInRegion"
	RouteCopyCrossRegion        = "CopyImageCrossRegion"
	RouteShowJob                = "ShowJob"
	RouteShowJobProgress        = "ShowJobProgress"
	RouteListImages             = "ListImages"
	RouteGlanceShowImage        = "GlanceShowImage"
	RouteGlanceDeleteImage      = "GlanceDeleteImage"
	RouteBatchAddMembers        = "BatchAddMembers"
	RouteBatchUpdateMembers     = "BatchUpdateMembers"
	RouteBatchDeleteMembers     = "BatchDeleteMembers"
	RouteGlanceListImageMembers = "GlanceListImageMembers"
	// RouteUnknown counts requests that match no IMS API (answered 404 APIGW.0101).
	RouteUnknown = "Unknown"
	// RouteAll as a key of Faults.Routes applies to every IMS route without its own entry.
	RouteAll = "*"
)

// RouteFault is what goes wrong on one route.
type RouteFault struct {
	ErrorRate        float64       // 0..1: answer ErrorStatus/ErrorCode instead of serving
	ErrorStatus      int           // default 500
	ErrorCode        string        // APIGW.* gets the gateway body, anything else {"error":{...}}; default by status
	Latency          time.Duration // added before serving; a cancelled request stops waiting
	LostResponseRate float64       // the request takes effect, then the connection closes unanswered
	// ThrottleRate answers a share of requests 429 APIGW.0308 as the gateway does, on top of
	// ErrorRate, so that a route can suffer 5xx and throttling at once (the chaos mix).
	ThrottleRate float64
}

// Faults are the emulator's knobs for making the cloud misbehave.
type Faults struct {
	Routes             map[string]RouteFault // by route name, or RouteAll
	JobFailureRate     float64               // share of copy jobs that end in FAIL (image killed)
	MemberFailureRate  float64               // share of member pairs reported "failed" in a SUCCESS job
	VisibilityDelay    time.Duration         // a new image shows in GET /v2/cloudimages only after this
	RetryAfter         time.Duration         // if > 0, 429 answers carry Retry-After (whole seconds, at least 1)
	DuplicateNameError bool                  // 400 IMG.0009 when a copy reuses a live image name
	ThrottlePerSecond  float64               // per route and project; 0 = 200/s, negative = no throttle
}

// routeFault returns the fault for a route: its own entry, else the "*" entry.
func (f Faults) routeFault(route string) (RouteFault, bool) {
	if rf, ok := f.Routes[route]; ok {
		return rf, true
	}
	rf, ok := f.Routes[RouteAll]
	return rf, ok
}

func (f Faults) clone() Faults {
	f.Routes = maps.Clone(f.Routes)
	return f
}

func (f Faults) throttleRate() float64 {
	if f.ThrottlePerSecond == 0 {
		return defaultThrottlePerSecond
	}
	return f.ThrottlePerSecond
}

var knownRoutes = map[string]bool{
	RouteCopyInRegion: true, RouteCopyCrossRegion: true, RouteShowJob: true, RouteShowJobProgress: true,
	RouteListImages: true, RouteGlanceShowImage: true, RouteGlanceDeleteImage: true,
	RouteBatchAddMembers: true, RouteBatchUpdateMembers: true, RouteBatchDeleteMembers: true,
	RouteGlanceListImageMembers: true, RouteAll: true,
}

// Validate checks the knobs: rates in 0..1, error statuses 400-599, known route names,
// no negative durations.
func (f Faults) Validate() error {
	rate := func(name string, v float64) error {
		if v < 0 || v > 1 {
			return fmt.Errorf("imsemu: fault %s = %v must be between 0 and 1", name, v)
		}
		return nil
	}
	for route, rf := range f.Routes {
		if !knownRoutes[route] {
			return fmt.Errorf("imsemu: fault for unknown route %q (use a route name such as %q, or %q)", route, RouteCopyInRegion, RouteAll)
		}
		if err := rate(route+".error_rate", rf.ErrorRate); err != nil {
			return err
		}
		if err := rate(route+".lost_response_rate", rf.LostResponseRate); err != nil {
			return err
		}
		if err := rate(route+".throttle_rate", rf.ThrottleRate); err != nil {
			return err
		}
		if rf.ErrorStatus != 0 && (rf.ErrorStatus < 400 || rf.ErrorStatus > 599) {
			return fmt.Errorf("imsemu: fault %s.error_status = %d must be an HTTP error status (400-599)", route, rf.ErrorStatus)
		}
		if rf.Latency < 0 {
			return fmt.Errorf("imsemu: fault %s.latency must not be negative", route)
		}
	}
	if err := rate("job_failure_rate", f.JobFailureRate); err != nil {
		return err
	}
	if err := rate("member_failure_rate", f.MemberFailureRate); err != nil {
		return err
	}
	if f.VisibilityDelay < 0 || f.RetryAfter < 0 {
		return fmt.Errorf("imsemu: visibility_delay and retry_after must not be negative")
	}
	return nil
}

// The JSON forms use lower snake case keys and Go duration strings ("1.5s") so that people can
// type them with curl.
type routeFaultJSON struct {
	ErrorRate        float64  `json:"error_rate,omitempty"`
	ErrorStatus      int      `json:"error_status,omitempty"`
	ErrorCode        string   `json:"error_code,omitempty"`
	Latency          duration `json:"latency,omitzero"`
	LostResponseRate float64  `json:"lost_response_rate,omitempty"`
	ThrottleRate     float64  `json:"throttle_rate,omitempty"`
}

type faultsJSON struct {
	Routes             map[string]RouteFault `json:"routes,omitempty"`
	JobFailureRate     float64               `json:"job_failure_rate,omitempty"`
	MemberFailureRate  float64               `json:"member_failure_rate,omitempty"`
	VisibilityDelay    duration              `json:"visibility_delay,omitzero"`
	RetryAfter         duration              `json:"retry_after,omitzero"`
	DuplicateNameError bool                  `json:"duplicate_name_error,omitempty"`
	ThrottlePerSecond  float64               `json:"throttle_per_second,omitempty"`
}

// MarshalJSON writes durations as Go duration strings.
func (rf RouteFault) MarshalJSON() ([]byte, error) {
	return json.Marshal(routeFaultJSON{rf.ErrorRate, rf.ErrorStatus, rf.ErrorCode, duration(rf.Latency), rf.LostResponseRate, rf.ThrottleRate})
}

// UnmarshalJSON reads durations as Go duration strings.
func (rf *RouteFault) UnmarshalJSON(b []byte) error {
	var j routeFaultJSON
	if err := strictjson.Decode(b, &j); err != nil {
		return err
	}
	*rf = RouteFault{j.ErrorRate, j.ErrorStatus, j.ErrorCode, time.Duration(j.Latency), j.LostResponseRate, j.ThrottleRate}
	return nil
}

// MarshalJSON writes durations as Go duration strings.
func (f Faults) MarshalJSON() ([]byte, error) {
	return json.Marshal(faultsJSON{f.Routes, f.JobFailureRate, f.MemberFailureRate, duration(f.VisibilityDelay),
		duration(f.RetryAfter), f.DuplicateNameError, f.ThrottlePerSecond})
}

// UnmarshalJSON reads durations as Go duration strings; unknown keys are refused so a typo
// does not silently leave a fault off.
func (f *Faults) UnmarshalJSON(b []byte) error {
	var j faultsJSON
	if err := strictjson.Decode(b, &j); err != nil {
		return err
	}
	*f = Faults{j.Routes, j.JobFailureRate, j.MemberFailureRate, time.Duration(j.VisibilityDelay),
		time.Duration(j.RetryAfter), j.DuplicateNameError, j.ThrottlePerSecond}
	return nil
}

// duration is a time.Duration that reads and writes JSON as "1.5s".
type duration time.Duration

func (d duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

func (d *duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a duration must be a string such as \"1.5s\" or \"200ms\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("a duration must be a string such as \"1.5s\" or \"200ms\": %w", err)
	}
	*d = duration(v)
	return nil
}
