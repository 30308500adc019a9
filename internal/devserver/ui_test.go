package devserver

import (
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imscopy/imscopy/internal/testkit"
)

// A taken UI port fails Start before the server starts, and leaves the data folder free; the UI
// then serves beside the server and stops with it.
func TestUIPortInUseFailsStartAndTheUIStopsWithTheServer(t *testing.T) {
	dir := t.TempDir()
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer taken.Close()

	_, err = Start(Options{DataDir: dir, HostPort: testkit.FreeAddr(t), UIHostPort: taken.Addr().String(), Logger: testLogger()})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "cannot listen on "+taken.Addr().String())
	assert.Contains(t, err.Error(), "DEV_UI_ADDRESS")

	uiAddr := testkit.FreeAddr(t)
	srv, err := Start(Options{DataDir: dir, HostPort: testkit.FreeAddr(t), UIHostPort: uiAddr, Logger: testLogger()})
	require.NoError(t, err, "the failed start released the data folder")
	assert.Equal(t, "http://"+uiAddr, srv.UIURL())
	client := http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(srv.UIURL() + "/healthz")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)

	require.NoError(t, srv.Stop())
	_, err = client.Get(srv.UIURL() + "/healthz")
	assert.Error(t, err, "the UI stops with the server")
}

func TestNoUIUnlessAsked(t *testing.T) {
	srv, err := Start(Options{DataDir: t.TempDir(), HostPort: testkit.FreeAddr(t), Logger: testLogger()})
	require.NoError(t, err)
	defer func() { assert.NoError(t, srv.Stop()) }()
	assert.Empty(t, srv.UIURL())
}

func TestUIRefusesWhatItCannotServe(t *testing.T) {
	for name, opts := range map[string]Options{
		"not loopback": {UIHostPort: "0.0.0.0:8233"},
		"a name":       {UIHostPort: "localhost:8233"},
		"with TLS":     {UIHostPort: "127.0.0.1:8233", TLS: &TLS{CertFile: "c.pem", KeyFile: "k.pem", CAFile: "ca.pem"}},
	} {
		t.Run(name, func(t *testing.T) {
			opts.DataDir, opts.HostPort, opts.Logger = t.TempDir(), testkit.FreeAddr(t), testLogger()
			_, err := Start(opts)
			require.Error(t, err)
			if opts.TLS == nil {
				assert.Contains(t, err.Error(), "not a loopback IP")
			} else {
				assert.Contains(t, err.Error(), "plain text")
			}
		})
	}
}
