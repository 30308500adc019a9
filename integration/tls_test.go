package integration

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/imscopy/imscopy/imsapi/imsemu"
	"github.com/imscopy/imscopy/internal/devserver"
	"github.com/imscopy/imscopy/internal/testcerts"
	"github.com/imscopy/imscopy/internal/testkit"
)

const testAPIKey = "itest-temporal-api-key-7f3e-never-log-me"

// headerLog keeps the authorization headers the frontend received.
type headerLog struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (h *headerLog) intercept(ctx context.Context, req any, _ *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		h.mu.Lock()
		for _, v := range md.Get("authorization") {
			h.seen[v] = true
		}
		h.mu.Unlock()
	}
	return next(ctx, req)
}

func (h *headerLog) saw(v string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.seen[v]
}

// An embedded Temporal server that accepts mTLS only: the worker and the starter reach it with
// the Temporal CLI's variables (client certificate, key, CA) plus an API key, which the server
// receives as a bearer token; each misconfiguration stops the worker at start saying what to fix.
func TestWorkerAndStarterOverMutualTLS(t *testing.T) {
	t.Parallel()
	certs, err := testcerts.Write(t.TempDir())
	require.NoError(t, err)
	headers := &headerLog{seen: map[string]bool{}}
	srv, err := devserver.Start(devserver.Options{
		DataDir: t.TempDir(), HostPort: testkit.FreeAddr(t), Logger: zap.NewNop(),
		TLS:                  &devserver.TLS{CertFile: certs.ServerCert, KeyFile: certs.ServerKey, CAFile: certs.CA, RequireClientCert: true},
		FrontendInterceptors: []grpc.UnaryServerInterceptor{headers.intercept},
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Stop() })

	r := newRig(t, srv.HostPort(), 2*time.Second, imsemu.Faults{})
	mtls := []string{
		"TEMPORAL_TLS_CLIENT_CERT_PATH=" + certs.ClientCert,
		"TEMPORAL_TLS_CLIENT_KEY_PATH=" + certs.ClientKey,
		"TEMPORAL_TLS_SERVER_CA_CERT_PATH=" + certs.CA,
		"TEMPORAL_API_KEY=" + testAPIKey,
	}
	worker := r.startWorker(mtls...)
	assert.Contains(t, worker.Output(), "TLS with a client certificate, API key", "the worker logs how it connects")

	starter := exec.Command(binaries(t)+"/starter", "copy", "--image", imsemu.SeedImageID, "--name", "itest-over-mtls",
		"--cmk-id", imsemu.SeedKMSKeyID, "--wait", "--json")
	starter.Env = append(os.Environ(), append([]string{"TEMPORAL_ADDRESS=" + srv.HostPort(), "TEMPORAL_TASK_QUEUE=" + r.taskQueue}, mtls...)...)
	out, err := starter.Output()
	require.NoError(t, err, "starter: %s", out)
	var res struct {
		Succeeded bool   `json:"succeeded"`
		ImageID   string `json:"imageId"`
	}
	require.NoError(t, json.Unmarshal(out, &res), "starter output: %s", out)
	assert.True(t, res.Succeeded)
	assert.Equal(t, res.ImageID, r.liveImages("itest-over-mtls")[0].ID)
	assert.True(t, headers.saw("Bearer "+testAPIKey), "the API key reaches the server as a bearer token")
	assert.NotContains(t, worker.Output(), testAPIKey, "the API key never shows in the worker's log")

	cases := []struct {
		name string
		env  []string
		says string
	}{
		{"no client certificate", []string{"TEMPORAL_TLS_SERVER_CA_CERT_PATH=" + certs.CA}, "may ask for a client certificate (mTLS)"},
		{"wrong CA", []string{"TEMPORAL_TLS_CLIENT_CERT_PATH=" + certs.ClientCert, "TEMPORAL_TLS_CLIENT_KEY_PATH=" + certs.ClientKey,
			"TEMPORAL_TLS_SERVER_CA_CERT_PATH=" + certs.OtherCA}, "not trusted: set TEMPORAL_TLS_SERVER_CA_CERT_PATH"},
		{"no TLS at all", nil, "may require TLS: set TEMPORAL_TLS=true"},
	}
	for _, tc := range cases {
		p := startProc(t, "worker", append(append([]string{}, r.workerEnv...), tc.env...))
		code := p.exitCode()
		assert.Equal(t, 1, code, "%s: the worker must stop; output:\n%s", tc.name, p.Output())
		assert.Contains(t, p.Output(), tc.says, tc.name)
		assert.NotContains(t, p.Output(), "worker ready", tc.name)
	}
	p := startProc(t, "worker", append(append([]string{}, r.workerEnv...), "TEMPORAL_TLS_CLIENT_CERT_PATH="+certs.ClientCert))
	assert.Equal(t, 2, p.exitCode(), "a half key pair is a configuration error; output:\n%s", p.Output())
	assert.Contains(t, p.Output(), "TEMPORAL_TLS_CLIENT_KEY_PATH is not set")
	assert.False(t, strings.Contains(p.Output(), "cannot reach"), "refused before dialling")
}
