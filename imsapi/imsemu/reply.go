package imsemu

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// reply is a handler's answer before it is written (or, on purpose, lost).
type reply struct {
	status int
	body   any // JSON-encoded; nil writes no body
}

func okReply(v any) reply { return reply{status: http.StatusOK, body: v} }

type imsErrorBody struct {
	Error imsErrorDetail `json:"error"`
}

type imsErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

type gatewayErrorBody struct {
	ErrorCode string `json:"error_code"`
	ErrorMsg  string `json:"error_msg"`
	RequestID string `json:"request_id"`
}

// imsError is IMS's own error format: {"error":{"code":"IMG.xxxx","message":"..."}}.
func imsError(status int, code, format string, args ...any) reply {
	return reply{status: status, body: imsErrorBody{imsErrorDetail{Code: code, Message: fmt.Sprintf(format, args...)}}}
}

// gatewayError is the API gateway's format: {"error_code","error_msg","request_id"}.
func gatewayError(status int, code, msg, requestID string) reply {
	return reply{status: status, body: gatewayErrorBody{ErrorCode: code, ErrorMsg: msg, RequestID: requestID}}
}

func throttledReply(rate float64, requestID string) reply {
	msg := fmt.Sprintf("The throttling threshold has been reached: policy user over ratelimit,limit:%s,time:1 second",
		strconv.FormatFloat(rate, 'f', -1, 64))
	return gatewayError(http.StatusTooManyRequests, codeThrottled, msg, requestID)
}

// injectedError answers for a route fault: the gateway format for APIGW codes, IMS's otherwise.
func injectedError(rf RouteFault, route, requestID string) reply {
	status := rf.ErrorStatus
	if status == 0 {
		status = http.StatusInternalServerError
	}
	code := rf.ErrorCode
	if code == "" {
		code = defaultFaultCode(status)
	}
	msg := fmt.Sprintf("error injected by the emulator on route %s", route)
	if code == codeThrottled {
		msg = "The throttling threshold has been reached: " + msg
	}
	if strings.HasPrefix(code, "APIGW.") {
		return gatewayError(status, code, msg, requestID)
	}
	return imsError(status, code, "%s", msg)
}

func defaultFaultCode(status int) string {
	switch status {
	case http.StatusTooManyRequests:
		return codeThrottled
	case http.StatusUnauthorized:
		return codeBadSignature
	}
	return fmt.Sprintf("IMG.%04d", status)
}

// write sends the reply; 429s carry Retry-After when the knob asks for it.
func (rep reply) write(w http.ResponseWriter, retryAfter time.Duration) {
	if rep.status == http.StatusTooManyRequests && retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(max(1, math.Ceil(retryAfter.Seconds())))))
	}
	if rep.body == nil {
		w.WriteHeader(rep.status)
		return
	}
	b, err := json.Marshal(rep.body)
	if err != nil {
		rep = imsError(http.StatusInternalServerError, "IMG.0500", "emulator could not encode its answer: %v", err)
		b, _ = json.Marshal(rep.body)
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(rep.status)
	w.Write(b)
}
