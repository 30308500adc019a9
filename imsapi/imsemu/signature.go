package imsemu

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// The gateway's AK/SK scheme, SDK-HMAC-SHA256 (docs/ims-api.md section 9.2).
const (
	signAlgorithm    = "SDK-HMAC-SHA256"
	sdkDateHeader    = "X-Sdk-Date"
	sdkDateFormat    = "20060102T150405Z"
	contentSHAHeader = "X-Sdk-Content-Sha256"
)

// authorization is the parsed Authorization header:
// "SDK-HMAC-SHA256 Access=<AK>, SignedHeaders=<h1;h2>, Signature=<hex>".
type authorization struct {
	AccessKey     string
	SignedHeaders []string
	Signature     string
}

func parseAuthorization(v string) (authorization, bool) {
	var a authorization
	rest, ok := strings.CutPrefix(v, signAlgorithm+" ")
	if !ok {
		return a, false
	}
	for part := range strings.SplitSeq(rest, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return a, false
		}
		switch k {
		case "Access":
			a.AccessKey = val
		case "SignedHeaders":
			a.SignedHeaders = strings.Split(val, ";")
		case "Signature":
			a.Signature = val
		}
	}
	return a, a.AccessKey != "" && len(a.SignedHeaders) > 0 && a.Signature != ""
}

// canonicalRequest is the text the client signed:
// METHOD \n URI \n query \n headers \n signed-header-names \n body-hash.
func canonicalRequest(r *http.Request, body []byte, signedHeaders []string) string {
	bodyHash := r.Header.Get(contentSHAHeader)
	if bodyHash == "" {
		sum := sha256.Sum256(body)
		bodyHash = hex.EncodeToString(sum[:])
	}
	return strings.Join([]string{
		r.Method,
		canonicalURI(r.URL.Path),
		canonicalQuery(r.URL.Query()),
		canonicalHeaders(r, signedHeaders),
		strings.Join(signedHeaders, ";"),
		bodyHash,
	}, "\n")
}

// canonicalURI escapes each path segment and ends the path with "/".
func canonicalURI(path string) string {
	segments := strings.Split(path, "/")
	for i, s := range segments {
		segments[i] = signEscape(s)
	}
	uri := strings.Join(segments, "/")
	if !strings.HasSuffix(uri, "/") {
		uri += "/"
	}
	return uri
}

// canonicalQuery sorts the keys and each key's values, then escapes both.
func canonicalQuery(q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var pairs []string
	for _, k := range keys {
		values := append([]string(nil), q[k]...)
		sort.Strings(values)
		for _, v := range values {
			pairs = append(pairs, signEscape(k)+"="+signEscape(v))
		}
	}
	return strings.Join(pairs, "&")
}

// canonicalHeaders lists "name:value" for each signed header, "host" taken from the request.
// The trailing newline is part of the format (a blank line precedes the header names).
func canonicalHeaders(r *http.Request, signedHeaders []string) string {
	var b strings.Builder
	for _, name := range signedHeaders {
		values := r.Header.Values(name)
		if strings.EqualFold(name, "host") {
			values = []string{r.Host}
		}
		values = append([]string(nil), values...)
		sort.Strings(values)
		for _, v := range values {
			b.WriteString(name + ":" + strings.TrimSpace(v) + "\n")
		}
	}
	return b.String()
}

// signEscape percent-encodes everything but A-Z a-z 0-9 - _ . ~, with upper-case hex.
func signEscape(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

// signature is hex(HMAC-SHA256(sk, "SDK-HMAC-SHA256\n<date>\n<hex sha256 of canonical request>")).
func signature(sk, date, canonical string) string {
	sum := sha256.Sum256([]byte(canonical))
	mac := hmac.New(sha256.New, []byte(sk))
	mac.Write([]byte(signAlgorithm + "\n" + date + "\n" + hex.EncodeToString(sum[:])))
	return hex.EncodeToString(mac.Sum(nil))
}

// authFailure is why the gateway refuses a request: 401 unless status says otherwise.
type authFailure struct {
	status  int
	code    string
	message string
}

func (f *authFailure) httpStatus() int {
	if f.status == 0 {
		return http.StatusUnauthorized
	}
	return f.status
}

// verifySignature checks an SDK-HMAC-SHA256 request against one account's key pair, over
// the headers the client says it signed. The date check comes first, as the gateway's
// "signature expired" answer does not depend on the signature.
func verifySignature(r *http.Request, body []byte, ak, sk string, now time.Time) *authFailure {
	const refused = "Incorrect IAM authentication information: verify aksk signature fail"
	auth, ok := parseAuthorization(r.Header.Get("Authorization"))
	if !ok {
		return &authFailure{code: codeBadSignature, message: refused + " (the Authorization header is not \"SDK-HMAC-SHA256 Access=..., SignedHeaders=..., Signature=...\")"}
	}
	date := r.Header.Get(sdkDateHeader)
	t, err := time.Parse(sdkDateFormat, date)
	if err != nil {
		return &authFailure{code: codeBadSignature, message: refused + " (X-Sdk-Date is missing or not in the form 20060102T150405Z)"}
	}
	if skew := now.Sub(t); skew > maxClockSkew || skew < -maxClockSkew {
		return &authFailure{code: codeSignatureExpired, message: "Incorrect IAM authentication information: signature expired (X-Sdk-Date is more than 15 minutes from the server time; check the client's clock)"}
	}
	if !signsDate(auth.SignedHeaders) {
		return &authFailure{code: codeBadSignature, message: refused + " (SignedHeaders must include x-sdk-date)"}
	}
	if auth.AccessKey != ak {
		return &authFailure{code: codeBadSignature, message: refused + " (unknown access key)"}
	}
	want := signature(sk, date, canonicalRequest(r, body, auth.SignedHeaders))
	if !hmac.Equal([]byte(want), []byte(auth.Signature)) {
		return &authFailure{code: codeBadSignature, message: refused}
	}
	return nil
}

// signsDate reports whether the signed headers include x-sdk-date, the one header the gateway
// requires to be signed (otherwise a captured request could be replayed at any time).
func signsDate(names []string) bool {
	for _, n := range names {
		if strings.EqualFold(n, "x-sdk-date") {
			return true
		}
	}
	return false
}
