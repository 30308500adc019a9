package imsapi

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Class is what a caller should do about an error: docs/ims-api.md section 8.2.
type Class string

const (
	ClassInvalid   Class = "invalid"   // the request is wrong: fix it, do not retry
	ClassNotFound  Class = "not_found" // the image or job does not exist
	ClassForbidden Class = "forbidden" // the caller may not do this (403, KMS access)
	ClassAuth      Class = "auth"      // credentials are wrong or expired (401)
	ClassQuota     Class = "quota"     // a person must free quota or raise it
	ClassThrottled Class = "throttled" // retry later, honouring RetryAfter
	ClassBusy      Class = "busy"      // the resource is mid-operation (IMG.0090): retry later
	ClassTransient Class = "transient" // 5xx, connection reset, timeout: retry with backoff
	ClassUnknown   Class = "unknown"   // an unexpected answer; treated as non-retryable
)

// Retryable reports whether retrying the same call can succeed without a person acting.
func (c Class) Retryable() bool {
	return c == ClassThrottled || c == ClassBusy || c == ClassTransient
}

// Error is every failure imsclient returns from a call that reached (or tried to reach) IMS.
type Error struct {
	Op         string        // the imsclient operation, e.g. "CopyInRegion"
	Status     int           // HTTP status; 0 when no response arrived
	Code       string        // IMS (IMG.xxxx) or gateway (APIGW.xxxx) code
	Message    string        // IMS's message, or the transport error's text
	RequestID  string        // X-Request-Id of the response
	Class      Class         // what to do about it
	RetryAfter time.Duration // from Retry-After when IMS sent one
	Err        error         // the underlying transport error, if any
}

func (e *Error) Error() string {
	var parts []string
	switch {
	case e.Status == 0:
		parts = append(parts, "no response from IMS")
	case e.Status < 400:
		// IMS answered with success and imsclient found the answer wanting: the message says how,
		// and "IMS answered 200" would read as if IMS had reported the problem.
	case e.Code != "":
		parts = append(parts, fmt.Sprintf("IMS answered %d %s", e.Status, e.Code))
	default:
		parts = append(parts, fmt.Sprintf("IMS answered %d", e.Status))
	}
	if e.Message != "" {
		parts = append(parts, e.Message)
	}
	s := e.Op + ": " + strings.Join(parts, ": ")
	if e.RequestID != "" {
		s += " (request " + e.RequestID + ")"
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// ClassOf returns the class of err, ClassInvalid for a *ValidationError and ClassUnknown for
// anything that is not an imsapi error.
func ClassOf(err error) Class {
	var e *Error
	if errors.As(err, &e) {
		return e.Class
	}
	var v *ValidationError
	if errors.As(err, &v) {
		return ClassInvalid
	}
	return ClassUnknown
}

// throttleCodes are IMS's and the gateway's flow-control answers; quotaCodes need a person;
// busyCodes say the resource is still being worked on.
var (
	throttleCodes = map[string]bool{"APIGW.0308": true, "IMG.0060": true, "IMG.0149": true}
	quotaCodes    = map[string]bool{"IMG.0015": true, "IMG.0088": true}
	busyCodes     = map[string]bool{"IMG.0090": true}
	notFoundCodes = map[string]bool{"IMG.0027": true, "IMG.0086": true, "IMG.0144": true, "IMG.0023": true}
	forbidCodes   = map[string]bool{"IMG.0099": true, "IMG.0092": true, "IMG.0106": true, "IMG.0151": true}
	authCodes     = map[string]bool{"APIGW.0301": true, "APIGW.0303": true, "APIGW.0307": true}
)

// Classify decides the class from the HTTP status and the code together: docs/ims-api.md section 8.1 warns
// that the status alone is not enough (IMS answers 400 for both bad input and flow control).
func Classify(status int, code string) Class {
	switch {
	case throttleCodes[code] || status == 429:
		return ClassThrottled
	case quotaCodes[code]:
		return ClassQuota
	case busyCodes[code]:
		return ClassBusy
	case authCodes[code] || status == 401:
		return ClassAuth
	case notFoundCodes[code] || status == 404:
		return ClassNotFound
	case forbidCodes[code] || status == 403:
		return ClassForbidden
	case status >= 500 || status == 408:
		return ClassTransient
	case status >= 400:
		return ClassInvalid
	}
	return ClassUnknown
}

// ErrNotListed is the cause (Error.Err) of GetImage's ClassNotFound when IMS's image list does not
// hold the image. The list is eventually consistent, so for an image that was just created this
// means "not listed yet" rather than "does not exist".
var ErrNotListed = errors.New("the image is not in the image list")

// ValidationError is a request imscopy refuses before any call to IMS: it names the field
// and the rule, so the user knows what to change.
//
// It is the detail of an InvalidInput failure, which other languages' clients read
// (docs/api.md), so its JSON keys are snake_case; encoding/json matches keys regardless of case,
// so the Go names it wrote before ("Field", ...) still read.
type ValidationError struct {
	Field string `json:"field"` // the request field, as the user spells it (e.g. "name")
	Rule  string `json:"rule"`  // the rule it breaks, in words
	Value string `json:"value"` // the offending value, shortened for display
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("invalid %s %q: %s", e.Field, e.Value, e.Rule)
}

// Invalid is the ValidationError for value of field breaking rule (a format with args); a long
// value is shortened to 40 characters for display.
func Invalid(field, value, rule string, args ...any) error {
	if utf8.RuneCountInString(value) > 40 {
		value = string([]rune(value)[:37]) + "..."
	}
	return &ValidationError{Field: field, Rule: fmt.Sprintf(rule, args...), Value: value}
}
