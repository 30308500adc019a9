package temporalconn

import (
	"errors"
	"strings"

	"go.temporal.io/api/serviceerror"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Hint says what to check when dialling Temporal failed with err, judged from the error and
// from the settings in use; "" when the error says nothing about them.
func (c Conn) Hint(err error) string {
	var denied *serviceerror.PermissionDenied
	code := status.Code(err)
	msg := err.Error()
	has := func(parts ...string) bool {
		for _, p := range parts {
			if strings.Contains(msg, p) {
				return true
			}
		}
		return false
	}
	// Under TLS 1.3 a server that wants a client certificate says so after the client thinks the
	// handshake is over, so the client often sees only its next write fail.
	closed := has("certificate required", "bad certificate", "handshake failure", "broken pipe", "connection reset by peer", "EOF")
	switch {
	case has("certificate signed by unknown authority", "x509:"):
		return "the server's certificate is not trusted: set TEMPORAL_TLS_SERVER_CA_CERT_PATH to the CA that signed it " +
			"(and TEMPORAL_TLS_SERVER_NAME if the certificate names another host than TEMPORAL_ADDRESS)"
	case has("first record does not look like a TLS handshake") && c.apiKey:
		// TEMPORAL_TLS=false would be refused: an API key never crosses the network in the clear.
		return "the server at TEMPORAL_ADDRESS does not speak TLS, and an API key is only sent over TLS: point TEMPORAL_ADDRESS " +
			"at the server's TLS endpoint (Temporal Cloud: <namespace>.<account>.tmprl.cloud:7233), or, for a plaintext server " +
			"without authentication, unset TEMPORAL_API_KEY"
	case has("first record does not look like a TLS handshake"):
		return "the server at TEMPORAL_ADDRESS does not speak TLS: set TEMPORAL_TLS=false, or check the address"
	case c.tls && !c.clientTLS && closed:
		return "the server closed the TLS connection; it may ask for a client certificate (mTLS): set TEMPORAL_TLS_CLIENT_CERT_PATH " +
			"and TEMPORAL_TLS_CLIENT_KEY_PATH"
	case c.tls && has("certificate required", "bad certificate", "unknown certificate authority", "expired certificate"):
		return "the server refused the client certificate: give one signed by a CA the server trusts, and not expired " +
			"(TEMPORAL_TLS_CLIENT_CERT_PATH, TEMPORAL_TLS_CLIENT_KEY_PATH)"
	case !c.tls && (closed || has("error reading server preface")):
		return "the server may require TLS: set TEMPORAL_TLS=true (and TEMPORAL_TLS_SERVER_CA_CERT_PATH for a private CA)"
	case errors.As(err, &denied), code == codes.Unauthenticated, code == codes.PermissionDenied:
		if c.apiKey {
			return "the server refused the credentials: check TEMPORAL_API_KEY, and that it grants access to TEMPORAL_NAMESPACE"
		}
		return "the server wants credentials: set TEMPORAL_API_KEY, or a client certificate (TEMPORAL_TLS_CLIENT_CERT_PATH, TEMPORAL_TLS_CLIENT_KEY_PATH)"
	}
	return ""
}
