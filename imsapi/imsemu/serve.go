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
	account   *account // the caller's account
	project   string   // the caller's project: X-Project-Id, else its account's project in the region
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
	status, ak, lost := h.serve(w, r, rt, p, requestID)
	e.counts.add(countKey{h.region.Name, name, status, ak})
	e.cfg.Logf("imsemu %s %s %s %s -> %d request_id=%s in %s", h.region.Name, name, r.Method, r.URL.Path, status, requestID, time.Since(start).Round(time.Microsecond))
	if lost {
		dropConnection(w)
	}
}

// serve runs the gateway's checks, the faults and the route; it returns the status written and
// the access key whose signature was verified (if any), or lost=true when the response must not
// be sent at all.
func (h *regionHandler) serve(w http.ResponseWriter, r *http.Request, rt *route, p params, requestID string) (status int, ak string, lost bool) {
	e := h.e
	faults := e.currentFaults()
	send := func(rep reply) (int, string, bool) {
		rep.write(w, faults.RetryAfter)
		return rep.status, ak, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		return send(imsError(http.StatusBadRequest, codeBadFormat, "the request body could not be read or is larger than 12 MB: %v", err))
	}
	if rt == nil {
		return send(gatewayError(http.StatusNotFound, codeNoSuchAPI, "The API does not exist or has not been published in the environment", requestID))
	}
	now := e.now()
	who, project, fail := h.authenticate(r, body, now)
	if who != nil {
		ak = who.signedAK
	}
	if fail != nil {
		return send(gatewayError(fail.httpStatus(), fail.code, fail.message, requestID))
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
			return statusClientGone, ak, false
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
	rep := rt.handle(e, &call{region: h.region, account: who.account, project: project, route: rt.name, params: p,
		query: r.URL.Query(), body: body, now: now, requestID: requestID})
	if hasFault && e.faultRand.chance(rf.LostResponseRate) {
		if id, ok := rep.body.(jobIDResponse); ok {
			e.markAnswerLost(id.JobID)
		}
		return 0, ak, true
	}
	return send(rep)
}

// caller is who sent a request: the account and, for an AK/SK request, the access key whose
// signature was verified ("" for a token).
type caller struct {
	*account
	signedAK string
}

// authenticate accepts the configured X-Auth-Token (the first account's) or a valid
// SDK-HMAC-SHA256 signature by one of the accounts' keys, and an X-Project-Id naming a project
// of that account in this region. The caller is known (non-nil) once the credentials are
// verified, even when the project is then refused.
func (h *regionHandler) authenticate(r *http.Request, body []byte, now time.Time) (*caller, string, *authFailure) {
	e := h.e
	var who *caller
	if token := r.Header.Get("X-Auth-Token"); token != "" {
		if e.cfg.Token == "" || subtle.ConstantTimeCompare([]byte(token), []byte(e.cfg.Token)) != 1 {
			return nil, "", &authFailure{code: codeBadSignature, message: "Incorrect IAM authentication information: decrypt token fail"}
		}
		who = &caller{account: e.accounts[0]}
	} else if header := r.Header.Get("Authorization"); header != "" {
		// An unknown access key is checked against the first account's pair, which refuses it
		// after the date check, as for any other bad signature.
		acct := e.accounts[0]
		if auth, ok := parseAuthorization(header); ok && e.byAK[auth.AccessKey] != nil {
			acct = e.byAK[auth.AccessKey]
		}
		if fail := verifySignature(r, body, acct.ak, acct.sk, now); fail != nil {
			return nil, "", fail
		}
		who = &caller{account: acct, signedAK: acct.ak}
	} else {
		return nil, "", &authFailure{code: codeBadSignature, message: "Incorrect IAM authentication information: the request carries neither an X-Auth-Token nor an SDK-HMAC-SHA256 Authorization header"}
	}
	project := r.Header.Get("X-Project-Id")
	if project == "" {
		if project = who.home[h.region.Name]; project == "" {
			return who, "", &authFailure{code: codeBadSignature, message: "Incorrect IAM authentication information: the account has no project in region " + h.region.Name + "; send X-Project-Id"}
		}
	}
	switch owner := h.region.projects[project]; {
	case owner == nil:
		return who, "", &authFailure{code: codeBadSignature, message: "Incorrect IAM authentication information: X-Project-Id " + project + " is not a project of this tenant in region " + h.region.Name}
	case owner != who.account:
		return who, "", &authFailure{status: http.StatusForbidden, code: codeOtherAccount, message: "The IAM or ACL authentication failed: X-Project-Id " + project +
			" is a project of another account than the credentials' (the signature is valid; only the project's own account may act in it)"}
	}
	return who, project, nil
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
