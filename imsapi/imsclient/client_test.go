package imsclient_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imscopy/imscopy/imsapi"
	"github.com/imscopy/imscopy/imsapi/imsclient"
	"github.com/imscopy/imscopy/imsapi/imsemu"
)

var jobIDShape = regexp.MustCompile(`^[0-9a-f]{32}$`)

// The IMS documentation's own example (docs/ims-api.md section 2, kept in testdata/), end to end
// through the client: the SDK's request carries the fixture's body, the job reaches SUCCESS, and the
// new image is active with the key and the source's lineage and attributes.
func TestSeedExample(t *testing.T) {
	var fixture struct {
		Name        string `json:"name"`
		Description string `json:"description"`
		CMKID       string `json:"cmk_id"`
	}
	fixtureBody, err := os.ReadFile("../../testdata/seed_copy_request.json")
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(fixtureBody, &fixture))
	documented, err := os.ReadFile("../../testdata/seed_copy_response.json")
	require.NoError(t, err)

	env := startEmu(t, imsemu.Config{})
	wire := recordThrough(t, env)
	ctx := context.Background()
	source, err := env.home.GetImage(ctx, seedImageID)
	require.NoError(t, err)

	jobID, err := wire.client.Home().CopyInRegion(ctx, imsapi.CopyRequest{
		SourceImageID: seedImageID,
		Name:          fixture.Name,
		Description:   fixture.Description,
		CMKID:         fixture.CMKID,
	})
	require.NoError(t, err)
	assert.Regexp(t, jobIDShape, jobID)

	sent := wire.last()
	assert.Equal(t, "POST", sent.method)
	assert.Equal(t, "/v1/cloudimages/"+seedImageID+"/copy", sent.path)
	assert.Equal(t, "application/json;charset=UTF-8", sent.contentType)
	assert.JSONEq(t, string(fixtureBody), string(sent.body), "the documented body (the SDK orders fields its own way)")
	assert.True(t, strings.HasSuffix(string(sent.body), "}\n"), "the SDK's json.Encoder newline, covered by the signature")
	var got, want map[string]any
	require.NoError(t, json.Unmarshal(sent.response, &got))
	require.NoError(t, json.Unmarshal(documented, &want))
	assert.Len(t, got, len(want), "the documented response's fields")
	assert.Equal(t, jobID, got["job_id"])

	job := waitJob(t, env.home, jobID)
	assert.Equal(t, imsapi.JobSuccess, job.Status)
	assert.Equal(t, jobID, job.ID)
	assert.Equal(t, "imsCopyImageInRegionJob", job.Type)
	assert.Equal(t, 1.0, job.Percent)
	assert.NotEmpty(t, job.BeginTime)
	assert.NotEmpty(t, job.EndTime)
	assert.Empty(t, job.ErrorCode)
	require.NotEmpty(t, job.ImageID)

	img, err := env.home.GetImage(ctx, job.ImageID)
	require.NoError(t, err)
	assert.Equal(t, job.ImageID, img.ID)
	assert.Equal(t, "ims_encrypted_copy3", img.Name)
	assert.Equal(t, "active", img.Status)
	assert.Equal(t, "test copy", img.Description)
	assert.Equal(t, seedKeyID, img.CMKID)
	assert.Equal(t, seedImageID, img.OriginalImageName, "lineage: the source image ID")
	assert.Equal(t, "image,"+homeRegion.Name+","+seedImageID, img.DataOrigin, "lineage: docs/ims-api.md section 12")
	assert.Equal(t, homeRegion.ProjectID, img.Owner)
	assert.Equal(t, "private", img.ImageType)
	assert.Equal(t, "private", img.Visibility)
	assert.Equal(t, source.MinDisk, img.MinDisk)
	assert.Equal(t, source.OSType, img.OSType)
	assert.Equal(t, source.OSVersion, img.OSVersion)
	assert.Equal(t, source.Platform, img.Platform)
	assert.Equal(t, source.Architecture, img.Architecture)

	assert.Equal(t, 1, env.requests(imsemu.RouteCopyInRegion), "one POST")
	copies := 0
	for _, i := range env.srv.Images() {
		if i.Name == "ims_encrypted_copy3" {
			copies++
		}
	}
	assert.Equal(t, 1, copies, "exactly one image made")
}

// wireRecorder is a reverse proxy in front of the emulator's home region that keeps what the
// client sent and what came back, to compare the SDK's wire format with the documentation.
type wireRecorder struct {
	client *imsclient.Client
	mu     sync.Mutex
	seen   []exchange
}

type exchange struct {
	method, path, contentType string
	body, response            []byte
}

func recordThrough(t *testing.T, env *emuEnv) *wireRecorder {
	t.Helper()
	target, err := url.Parse(env.srv.Endpoints()[homeRegion.Name])
	require.NoError(t, err)
	w := &wireRecorder{}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(resp *http.Response) error {
		respBody, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		resp.Body = io.NopCloser(bytes.NewReader(respBody))
		w.mu.Lock()
		w.seen[len(w.seen)-1].response = respBody
		w.mu.Unlock()
		return nil
	}
	front := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(rw, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		w.mu.Lock()
		w.seen = append(w.seen, exchange{method: r.Method, path: r.URL.Path, contentType: r.Header.Get("Content-Type"), body: body})
		w.mu.Unlock()
		proxy.ServeHTTP(rw, r)
	}))
	t.Cleanup(front.Close)

	imsclient.ClearSDKEnv(t)
	w.client, err = imsclient.New(imsclient.Config{Region: homeRegion.Name, ProjectID: homeRegion.ProjectID,
		AK: imsemu.DefaultAK, SK: imsemu.DefaultSK, Endpoints: map[string]string{homeRegion.Name: front.URL}})
	require.NoError(t, err)
	return w
}

func (w *wireRecorder) last() exchange {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.seen[len(w.seen)-1]
}
