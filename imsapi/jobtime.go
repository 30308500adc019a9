package imsapi

import (
	"strings"
	"time"
)

// ParseJobTime reads a job time: RFC 3339 as IMS's current answers give it, or the older
// "04-Jun-2015 18:11:06:586" of its documentation (docs/ims-api.md section 4.1), both UTC.
func ParseJobTime(s string) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, true
	}
	// Go reads fractional seconds only after a dot or a comma, not after IMS's colon.
	if i := strings.LastIndexByte(s, ':'); i > 0 {
		if t, err := time.ParseInLocation("02-Jan-2006 15:04:05.000", s[:i]+"."+s[i+1:], time.UTC); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
