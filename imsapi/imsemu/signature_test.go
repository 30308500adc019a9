package imsemu

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The official SDK's published signer vectors (core/auth/signer/signer_test.go; docs/ims-api.md section 9.2).
func TestSignerVectors(t *testing.T) {
	signedAt := time.Date(2006, 1, 2, 15, 4, 5, 0, time.UTC)
	cases := []struct {
		name, method, target, body, contentType, signature string
	}{
		{"GET without body", "GET", "https://example.huaweicloud.com/path?limit=1", "", "",
			"5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624"},
		{"POST with JSON body ending in newline", "POST", "https://example.huaweicloud.com/path?key=value",
			"{\"Name\":\"test\",\"Id\":1}\n", "application/json",
			"cecc2af119b18ab70b4d094c0750f3b42c02f254903179a0fc2cc72fc9db4f59"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.target, strings.NewReader(tc.body))
			req.Header.Set("X-Sdk-Date", "20060102T150405Z")
			req.Header["TEST_UNDERSCORE"] = []string{"TEST_VALUE"} // present but, with "_", never signed
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			req.Header.Set("Authorization", "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=x-sdk-date, Signature="+tc.signature)
			assert.Nil(t, verifySignature(req, []byte(tc.body), "AccessKey", "SecretKey", signedAt))
			assert.Equal(t, tc.signature, signature("SecretKey", "20060102T150405Z", canonicalRequest(req, []byte(tc.body), []string{"x-sdk-date"})))
			if tc.body != "" {
				// The SDK's JSON ends in "\n" and the hash covers it: without it the signature breaks.
				trimmed := strings.TrimSuffix(tc.body, "\n")
				assert.NotNil(t, verifySignature(req, []byte(trimmed), "AccessKey", "SecretKey", signedAt))
			}
		})
	}
	t.Run("canonical query", func(t *testing.T) {
		q := url.Values{"limit": {"1"}, "enable": {"true"}, "test": {"一 (&=?!#%.*)"}, "path": {"/tmp/123"}, "multi": {"3", "1", "2"}}
		assert.Equal(t, "enable=true&limit=1&multi=1&multi=2&multi=3&path=%2Ftmp%2F123&test=%E4%B8%80%20%28%26%3D%3F%21%23%25.%2A%29", canonicalQuery(q))
	})
	t.Run("canonical URI ends with a slash", func(t *testing.T) {
		assert.Equal(t, "/v1/cloudimages/x/copy/", canonicalURI("/v1/cloudimages/x/copy"))
	})
}

func TestSignatureRefusals(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Token = "emulator-token" })
	c := f.client(home)
	path := "/v1/cloudimages/" + SeedImageID + "/copy"
	send := func(req *http.Request) response {
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		raw := make([]byte, 4096)
		n, _ := resp.Body.Read(raw)
		return response{status: resp.StatusCode, header: resp.Header, raw: raw[:n]}
	}
	cases := []struct {
		name   string
		req    func() *http.Request
		status int
		code   string
	}{
		{"changed body", func() *http.Request {
			req := c.request("POST", path, copyBody("signed-name"))
			return withBody(req, sdkBody(t, copyBody("other-name")))
		}, 401, "APIGW.0301"},
		{"wrong secret", func() *http.Request {
			wrong := *c
			wrong.sk = "not-the-secret"
			return wrong.request("POST", path, copyBody("x"))
		}, 401, "APIGW.0301"},
		{"date 16 minutes old", func() *http.Request {
			old := *c
			old.now = func() time.Time { return f.clock.Now().Add(-16 * time.Minute) }
			return old.request("POST", path, copyBody("x"))
		}, 401, "APIGW.0303"},
		{"date 16 minutes ahead", func() *http.Request {
			ahead := *c
			ahead.now = func() time.Time { return f.clock.Now().Add(16 * time.Minute) }
			return ahead.request("POST", path, copyBody("x"))
		}, 401, "APIGW.0303"},
		{"unknown access key", func() *http.Request {
			other := *c
			other.ak = "SOMEOTHERAK"
			return other.request("POST", path, copyBody("x"))
		}, 401, "APIGW.0301"},
		{"no credentials", func() *http.Request {
			req, _ := http.NewRequest("POST", c.base+path, strings.NewReader("{}"))
			return req
		}, 401, "APIGW.0301"},
		{"wrong token", func() *http.Request {
			req, _ := http.NewRequest("GET", c.base+"/v2/cloudimages", nil)
			req.Header.Set("X-Auth-Token", "stolen")
			return req
		}, 401, "APIGW.0301"},
		{"project of another tenant", func() *http.Request {
			other := *c
			other.project = "ffffffffffffffffffffffffffffffff"
			return other.request("GET", "/v2/cloudimages", nil)
		}, 401, "APIGW.0301"},
		{"date 14 minutes old is still accepted", func() *http.Request {
			old := *c
			old.now = func() time.Time { return f.clock.Now().Add(-14 * time.Minute) }
			return old.request("GET", "/v2/cloudimages", nil)
		}, 200, ""},
		{"configured token", func() *http.Request {
			req, _ := http.NewRequest("GET", c.base+"/v2/cloudimages", nil)
			req.Header.Set("X-Auth-Token", "emulator-token")
			return req
		}, 200, ""},
		{"golangsdk style: host and content-type signed too", func() *http.Request {
			b := sdkBody(t, copyBody("terraform-style"))
			req, _ := http.NewRequest("POST", c.base+path, strings.NewReader(string(b)))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json")
			date := f.clock.Now().UTC().Format(sdkDateFormat)
			req.Header.Set("X-Sdk-Date", date)
			signed := []string{"accept", "content-type", "host", "x-sdk-date"}
			sig := signature(DefaultSK, date, canonicalRequest(req, b, signed))
			req.Header.Set("Authorization", "SDK-HMAC-SHA256 Access="+DefaultAK+", SignedHeaders="+strings.Join(signed, ";")+", Signature="+sig)
			return req
		}, 200, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := send(tc.req())
			require.Equal(t, tc.status, r.status, "body: %s", r.raw)
			if tc.code != "" {
				body := r.json(t)
				assert.Equal(t, tc.code, body["error_code"])
				assert.NotEmpty(t, body["error_msg"])
				assert.Equal(t, r.header.Get("X-Request-Id"), body["request_id"])
			}
		})
	}
	// Refused requests never reached IMS: no copy was made by them.
	copies := 0
	for _, img := range f.srv.Images() {
		if img.OriginalImageName == SeedImageID {
			copies++
		}
	}
	assert.Equal(t, 1, copies, "only the golangsdk-style request may have copied")
	assert.Equal(t, 6, countOf(f.srv.Counts(), home.Name, RouteCopyInRegion, 401))
}

// withBody swaps a signed request's body, as a tampering proxy would.
func withBody(req *http.Request, b []byte) *http.Request {
	r2, _ := http.NewRequest(req.Method, req.URL.String(), strings.NewReader(string(b)))
	r2.Header = req.Header.Clone()
	return r2
}
