package imsemu

import (
	"crypto/subtle"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// regionHandler serves one region's IMS API and the admin API.
type regionHandler struct {
	e      *Emulator
	region *regionInfo
}

// call is one authenticated request as a route handler sees it.
type call struct {
	region    *regionInfo
	project   string // the caller's project: X-Project-Id, else the region's project
	route     string
	params    params
	query     url.Values
	body      []byte
	now       time.Time
	requestID string
}

const adminPrefix = "/_emulator/"

// statusClientGone counts requests whose client went away during injected latency.
const statusClientGone = 499

func (h *regionHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e := h.e
	requestID := e.requestIDs.hex32()
	w.Header().Set("X-Request-Id", requestID)
	w.Header().Set("Content-Type", "application/json")
	if strings.HasPrefix(r.URL.Path, adminPrefix) {
		e.serveAdmin(w, r)
		return
	}
	start := time.Now()
	rt, p := matchRoute(r.Method, r.URL.Path)
	name := RouteUnknown
	if rt != nil {
		name = rt.name
	}
	status, lost := h.serve(w, r, rt, p, requestID)
	e.counts.add(countKey{h.region.Name, name, status})
	e.cfg.Logf("imsemu %s %s %s %s -> %d request_id=%s in %s", h.region.Name, name, r.Method, r.URL.Path, status, requestID, time.Since(start).Round(time.Microsecond))
	if lost {
		dropConnection(w)
	}
}

// serve runs the gateway's checks, the faults and the route; it returns the status written,
// or lost=true when the response must not be sent at all.
func (h *regionHandler) serve(w http.ResponseWriter, r *http.Request, rt *route, p params, requestID string) (status int, lost bool) {
	e := h.e
	faults := e.currentFaults()
	send := func(rep reply) (int, bool) {
		rep.write(w, faults.RetryAfter)
		return rep.status, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		return send(imsError(http.StatusBadRequest, codeBadFormat, "the request body could not be read or is larger than 12 MB: %v", err))
	}
	if rt == nil {
		return send(gatewayError(http.StatusNotFound, codeNoSuchAPI, "The API does not exist or has not been published in the environment", requestID))
	}
	now := e.now()
	project, fail := h.authenticate(r, body, now)
	if fail != nil {
		return send(gatewayError(http.StatusUnauthorized, fail.code, fail.message, requestID))
	}
	rate := faults.throttleRate()
	if !e.throttle.allow(bucketKey{h.region.Name, project, rt.name}, rate, now) {
		return send(throttledReply(rate, requestID))
	}
	rf, hasFault := faults.routeFault(rt.name)
	if hasFault && rf.Latency > 0 {
		t := time.NewTimer(rf.Latency)
		select {
		case <-r.Context().Done():
			t.Stop()
			return statusClientGone, false
		case <-t.C:
		}
		now = e.now()
	}
	if hasFault && e.faultRand.chance(rf.ErrorRate) {
		return send(injectedError(rf, rt.name, requestID))
	}
	if hasFault && e.faultRand.chance(rf.ThrottleRate) {
		return send(throttledReply(rate, requestID))
	}
	rep := rt.handle(e, &call{region: h.region, project: project, route: rt.name, params: p,
		query: r.URL.Query(), body: body, now: now, requestID: requestID})
	if hasFault && e.faultRand.chance(rf.LostResponseRate) {
		if id, ok := rep.body.(jobIDResponse); ok {
			e.markAnswerLost(id.JobID)
		}
		return 0, true
	}
	return send(rep)
}

// authenticate accepts the configured X-Auth-Token or a valid SDK-HMAC-SHA256 signature, and
// an X-Project-Id naming a project of this region.
func (h *regionHandler) authenticate(r *http.Request, body []byte, now time.Time) (string, *authFailure) {
	cfg := h.e.cfg
	if token := r.Header.Get("X-Auth-Token"); token != "" {
		if cfg.Token == "" || subtle.ConstantTimeCompare([]byte(token), []byte(cfg.Token)) != 1 {
			return "", &authFailure{codeBadSignature, "Incorrect IAM authentication information: decrypt token fail"}
		}
	} else if r.Header.Get("Authorization") != "" {
		if fail := verifySignature(r, body, cfg.AK, cfg.SK, now); fail != nil {
			return "", fail
		}
	} else {
		return "", &authFailure{codeBadSignature, "Incorrect IAM authentication information: the request carries neither an X-Auth-Token nor an SDK-HMAC-SHA256 Authorization header"}
	}
	project := h.region.ProjectID
	if p := r.Header.Get("X-Project-Id"); p != "" {
		if !h.region.projects[p] {
			return "", &authFailure{codeBadSignature, "Incorrect IAM authentication information: X-Project-Id " + p + " is not a project of this tenant in region " + h.region.Name}
		}
		project = p
	}
	return project, nil
}

// currentFaults returns the knobs without copying: SetFaults stores a fresh copy and nothing
// mutates a stored Faults, so the map may be read after the lock is released.
func (e *Emulator) currentFaults() Faults {
	e.faultsMu.RLock()
	defer e.faultsMu.RUnlock()
	return e.faults
}

// dropConnection closes the connection without a response: the "lost response" fault.
func dropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	// Not hijackable (HTTP/2, a recorder): abort the handler, which also discards the response.
	panic(http.ErrAbortHandler)
}
