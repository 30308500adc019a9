package temporalconn

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/imscopy/imscopy/internal/testcerts"
)

const apiKey = "tmprl-api-key-0123456789-never-log-me"

// env is an environment with exactly these variables. TEMPORAL_CONFIG_FILE points at a file that
// does not exist unless the test sets it, so the machine's own CLI profile never leaks in.
type env map[string]string

func (e env) LookupEnv(k string) (string, bool) {
	if k == "TEMPORAL_CONFIG_FILE" {
		if _, ok := e[k]; !ok {
			return "/nonexistent/imscopy-test/temporal.toml", true
		}
	}
	v, ok := e[k]
	return v, ok
}

func (e env) Environ() []string {
	var out []string
	for k, v := range e {
		out = append(out, k+"="+v)
	}
	return out
}

func certs(t *testing.T) testcerts.Files {
	t.Helper()
	f, err := testcerts.Write(t.TempDir())
	require.NoError(t, err)
	return f
}

func profileFile(t *testing.T, toml string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "temporal.toml")
	require.NoError(t, os.WriteFile(path, []byte(toml), 0o600))
	return path
}

func TestNothingSetIsPlaintextWithNoAddress(t *testing.T) {
	c, err := Load(env{})
	require.NoError(t, err)
	assert.Empty(t, c.Address())
	assert.Empty(t, c.Namespace())
	assert.False(t, c.Secure())
	o := c.Options("127.0.0.1:7233", "default")
	assert.Equal(t, "127.0.0.1:7233", o.HostPort)
	assert.Equal(t, "default", o.Namespace)
	assert.Nil(t, o.ConnectionOptions.TLS)
	assert.Nil(t, o.Credentials)
	assert.Equal(t, "plaintext", c.String())
}

func TestAPIKeyTurnsTLSOnAndStaysSecret(t *testing.T) {
	c, err := Load(env{"TEMPORAL_ADDRESS": "ns.acct.tmprl.cloud:7233", "TEMPORAL_NAMESPACE": "ns.acct", "TEMPORAL_API_KEY": apiKey})
	require.NoError(t, err)
	assert.Equal(t, "ns.acct.tmprl.cloud:7233", c.Address())
	assert.Equal(t, "ns.acct", c.Namespace())
	assert.True(t, c.Secure())
	o := c.Options(c.Address(), c.Namespace())
	assert.NotNil(t, o.ConnectionOptions.TLS, "an API key implies TLS")
	assert.NotNil(t, o.Credentials)
	assert.Equal(t, []string{apiKey}, c.Secrets())

	js, err := json.Marshal(struct{ C Conn }{c})
	require.NoError(t, err)
	for _, shown := range []string{c.String(), fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), string(js)} {
		assert.NotContains(t, shown, apiKey)
		assert.Contains(t, shown, "API key")
	}
}

func TestMutualTLSFromFiles(t *testing.T) {
	f := certs(t)
	c, err := Load(env{
		"TEMPORAL_ADDRESS":                 "temporal.internal:7233",
		"TEMPORAL_TLS_CLIENT_CERT_PATH":    f.ClientCert,
		"TEMPORAL_TLS_CLIENT_KEY_PATH":     f.ClientKey,
		"TEMPORAL_TLS_SERVER_CA_CERT_PATH": f.CA,
		"TEMPORAL_TLS_SERVER_NAME":         "localhost",
	})
	require.NoError(t, err)
	o := c.Options(c.Address(), "default")
	require.NotNil(t, o.ConnectionOptions.TLS)
	assert.Len(t, o.ConnectionOptions.TLS.Certificates, 1)
	assert.NotNil(t, o.ConnectionOptions.TLS.RootCAs)
	assert.Equal(t, "localhost", o.ConnectionOptions.TLS.ServerName)
	assert.Equal(t, "TLS with a client certificate", c.String())
	assert.NotSame(t, o.ConnectionOptions.TLS, c.Options(c.Address(), "default").ConnectionOptions.TLS, "each client gets its own tls.Config")
}

func TestInlineClientKeyIsASecret(t *testing.T) {
	f := certs(t)
	cert, err := os.ReadFile(f.ClientCert)
	require.NoError(t, err)
	key, err := os.ReadFile(f.ClientKey)
	require.NoError(t, err)
	c, err := Load(env{"TEMPORAL_TLS_CLIENT_CERT_DATA": string(cert), "TEMPORAL_TLS_CLIENT_KEY_DATA": string(key)})
	require.NoError(t, err)
	assert.Equal(t, []string{string(key)}, c.Secrets())
}

// The same file and profiles as the Temporal CLI: the profile named by TEMPORAL_PROFILE is used,
// and the environment wins over it.
func TestProfileFileAndEnvironmentOverIt(t *testing.T) {
	f := certs(t)
	path := profileFile(t, fmt.Sprintf(`
[profile.default]
address = "localhost:7233"

[profile.prod]
address = "temporal.prod:7233"
namespace = "images"
[profile.prod.tls]
server_ca_cert_path = %q
[profile.prod.grpc_meta]
x-team = "release"
`, f.CA))

	c, err := Load(env{"TEMPORAL_CONFIG_FILE": path})
	require.NoError(t, err)
	assert.Equal(t, "localhost:7233", c.Address(), "the default profile")
	assert.False(t, c.Secure())

	c, err = Load(env{"TEMPORAL_CONFIG_FILE": path, "TEMPORAL_PROFILE": "prod"})
	require.NoError(t, err)
	assert.Equal(t, "temporal.prod:7233", c.Address())
	assert.Equal(t, "images", c.Namespace())
	assert.True(t, c.Secure())
	assert.Contains(t, c.String(), `profile "prod" of `+path)
	require.NotNil(t, c.Options("x:1", "y").HeadersProvider, "grpc_meta becomes headers")

	c, err = Load(env{"TEMPORAL_CONFIG_FILE": path, "TEMPORAL_PROFILE": "prod", "TEMPORAL_ADDRESS": "10.0.0.9:7233", "TEMPORAL_NAMESPACE": "other"})
	require.NoError(t, err)
	assert.Equal(t, "10.0.0.9:7233", c.Address())
	assert.Equal(t, "other", c.Namespace())
}

func TestMisconfigurationIsRefusedNamingTheVariable(t *testing.T) {
	f := certs(t)
	badTOML := profileFile(t, "[profile.default\naddress=")
	withProfiles := profileFile(t, "[profile.dev]\naddress = \"localhost:7233\"\n[profile.prod]\naddress = \"x:1\"\n")
	notPEM := profileFile(t, "just text")
	cases := []struct {
		name    string
		env     env
		varName string
		says    []string
	}{
		{"TLS not a boolean", env{"TEMPORAL_TLS": "yes please"}, "TEMPORAL_TLS", []string{`"yes please"`, "true or false"}},
		{"host verification not a boolean", env{"TEMPORAL_TLS_DISABLE_HOST_VERIFICATION": "sometimes"}, "TEMPORAL_TLS_DISABLE_HOST_VERIFICATION", []string{"not a boolean"}},
		{"API key without TLS", env{"TEMPORAL_API_KEY": apiKey, "TEMPORAL_TLS": "false"}, "TEMPORAL_API_KEY", []string{"in the clear", "TEMPORAL_TLS=true"}},
		{"TLS off with a certificate", env{"TEMPORAL_TLS": "false", "TEMPORAL_TLS_SERVER_CA_CERT_PATH": f.CA}, "TEMPORAL_TLS", []string{"TEMPORAL_TLS_SERVER_CA_CERT_PATH"}},
		{"certificate without key", env{"TEMPORAL_TLS_CLIENT_CERT_PATH": f.ClientCert}, "TEMPORAL_TLS_CLIENT_KEY_PATH", []string{"private key"}},
		{"key without certificate", env{"TEMPORAL_TLS_CLIENT_KEY_PATH": f.ClientKey}, "TEMPORAL_TLS_CLIENT_CERT_PATH", []string{"client certificate too"}},
		{"unreadable certificate", env{"TEMPORAL_TLS_CLIENT_CERT_PATH": "/nonexistent/client.pem", "TEMPORAL_TLS_CLIENT_KEY_PATH": f.ClientKey},
			"TEMPORAL_TLS_CLIENT_CERT_PATH", []string{"/nonexistent/client.pem", "cannot be read", "mount it"}},
		{"key of another certificate", env{"TEMPORAL_TLS_CLIENT_CERT_PATH": f.ClientCert, "TEMPORAL_TLS_CLIENT_KEY_PATH": f.ServerKey},
			"TEMPORAL_TLS_CLIENT_CERT_PATH", []string{"do not make a certificate and its key"}},
		{"CA not PEM", env{"TEMPORAL_TLS_SERVER_CA_CERT_PATH": notPEM}, "TEMPORAL_TLS_SERVER_CA_CERT_PATH", []string{"no PEM certificate"}},
		{"path and data", env{"TEMPORAL_TLS_SERVER_CA_CERT_PATH": f.CA, "TEMPORAL_TLS_SERVER_CA_CERT_DATA": "x"}, "TEMPORAL_TLS_SERVER_CA_CERT_PATH", []string{"only one"}},
		{"profile file broken", env{"TEMPORAL_CONFIG_FILE": badTOML}, "TEMPORAL_CONFIG_FILE", []string{badTOML, "cannot be used"}},
		{"profile missing", env{"TEMPORAL_CONFIG_FILE": withProfiles, "TEMPORAL_PROFILE": "staging"}, "TEMPORAL_PROFILE", []string{`"staging"`, "it defines: dev, prod"}},
		{"profile without file", env{"TEMPORAL_PROFILE": "prod"}, "TEMPORAL_PROFILE", []string{"it defines: none"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(tc.env)
			require.Error(t, err)
			var e *Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, tc.varName, e.Var)
			for _, s := range tc.says {
				assert.Contains(t, err.Error(), s)
			}
			assert.NotContains(t, err.Error(), apiKey)
		})
	}
}

func TestReadsKnowsEveryVariable(t *testing.T) {
	for _, v := range Variables {
		assert.True(t, Reads(v.Name), v.Name)
	}
	assert.True(t, Reads("TEMPORAL_GRPC_META_X_ORG"))
	assert.False(t, Reads("TEMPORAL_GRPC_META_"))
	assert.False(t, Reads("TEMPORAL_TLS_CERT"), "a misspelt variable is not read")
	var out strings.Builder
	require.NoError(t, Usage(&out))
	assert.Contains(t, out.String(), "TEMPORAL_TLS_CLIENT_CERT_PATH (default: unset)")
}

// What the programs add to a failed dial, judged from the error and the settings in use. The TLS
// handshake errors themselves come from real servers in integration/tls_test.go.
func TestHintNamesWhatToSet(t *testing.T) {
	plain, err := Load(env{})
	require.NoError(t, err)
	keyed, err := Load(env{"TEMPORAL_API_KEY": apiKey})
	require.NoError(t, err)
	forcedTLS, err := Load(env{"TEMPORAL_TLS": "true"})
	require.NoError(t, err)
	cases := []struct {
		conn Conn
		err  error
		says string
	}{
		{plain, errors.New(`connection error: desc = "error reading server preface: EOF"`), "TEMPORAL_TLS=true"},
		{keyed, errors.New("tls: failed to verify certificate: x509: certificate signed by unknown authority"), "TEMPORAL_TLS_SERVER_CA_CERT_PATH"},
		{keyed, errors.New("remote error: tls: certificate required"), "TEMPORAL_TLS_CLIENT_CERT_PATH"},
		// TEMPORAL_TLS=false with an API key is refused at start (check.go): never advise it.
		{keyed, errors.New("tls: first record does not look like a TLS handshake"), "unset TEMPORAL_API_KEY"},
		{forcedTLS, errors.New("tls: first record does not look like a TLS handshake"), "TEMPORAL_TLS=false"},
		{keyed, status.Error(codes.Unauthenticated, "bad token"), "check TEMPORAL_API_KEY"},
		{plain, status.Error(codes.PermissionDenied, "no"), "set TEMPORAL_API_KEY"},
		{plain, errors.New("dial tcp: lookup temporal: no such host"), ""},
	}
	for _, tc := range cases {
		hint := tc.conn.Hint(tc.err)
		if tc.conn.apiKey {
			assert.NotContains(t, hint, "TEMPORAL_TLS=false", "refused with an API key")
		}
		if tc.says == "" {
			assert.Empty(t, hint, tc.err.Error())
			continue
		}
		assert.Contains(t, hint, tc.says, tc.err.Error())
	}
}
