package temporalconn

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strings"

	"go.temporal.io/sdk/contrib/envconfig"
)

// Error is a connection setting a program cannot start with. Its message names the variable, says
// what is wrong and what to set instead; a setting from the profile file has the same fix.
type Error struct {
	Var    string
	Reason string
	Fix    string
}

func (e *Error) Error() string { return fmt.Sprintf("%s %s: %s", e.Var, e.Reason, e.Fix) }

// checkBooleans refuses a TEMPORAL_TLS or TEMPORAL_TLS_DISABLE_HOST_VERIFICATION that is not a
// boolean: envconfig would ignore it without a word, and TLS would silently be what it was.
func checkBooleans(env envconfig.EnvLookup) error {
	for _, name := range []string{"TEMPORAL_TLS", "TEMPORAL_TLS_DISABLE_HOST_VERIFICATION"} {
		v := lookup(env, name)
		switch strings.ToLower(v) {
		case "", "1", "0", "true", "false":
		default:
			return &Error{Var: name, Reason: fmt.Sprintf("is %q, not a boolean", v), Fix: "set it to true or false"}
		}
	}
	return nil
}

// tlsVar names a TLS setting: its environment variable and its key in the profile file.
type tlsVar struct{ env, toml string }

var (
	certPath = tlsVar{"TEMPORAL_TLS_CLIENT_CERT_PATH", "tls.client_cert_path"}
	certData = tlsVar{"TEMPORAL_TLS_CLIENT_CERT_DATA", "tls.client_cert_data"}
	keyPath  = tlsVar{"TEMPORAL_TLS_CLIENT_KEY_PATH", "tls.client_key_path"}
	keyData  = tlsVar{"TEMPORAL_TLS_CLIENT_KEY_DATA", "tls.client_key_data"}
	caPath   = tlsVar{"TEMPORAL_TLS_SERVER_CA_CERT_PATH", "tls.server_ca_cert_path"}
	caData   = tlsVar{"TEMPORAL_TLS_SERVER_CA_CERT_DATA", "tls.server_ca_cert_data"}
)

// checkTLS refuses TLS settings that cannot work, with the variable to fix: contradictions,
// half a key pair, and files that are missing or hold no usable PEM.
func checkTLS(p envconfig.ClientConfigProfile, env envconfig.EnvLookup) error {
	t := p.TLS
	if t == nil {
		return nil
	}
	if t.Disabled {
		if p.APIKey != "" {
			return &Error{Var: "TEMPORAL_API_KEY", Reason: "is set while TLS is off (TEMPORAL_TLS=false), so the key would cross the network in the clear",
				Fix: "turn TLS on (set TEMPORAL_TLS=true or unset it), or unset the API key"}
		}
		for _, v := range []struct {
			tlsVar
			set bool
		}{
			{certPath, t.ClientCertPath != ""}, {certData, len(t.ClientCertData) > 0}, {keyPath, t.ClientKeyPath != ""},
			{keyData, len(t.ClientKeyData) > 0}, {caPath, t.ServerCACertPath != ""}, {caData, len(t.ServerCACertData) > 0},
		} {
			if v.set {
				return &Error{Var: "TEMPORAL_TLS", Reason: fmt.Sprintf("is false, yet %s (or %s in the profile) is set", v.env, v.toml),
					Fix: "set TEMPORAL_TLS=true to use TLS, or unset the TLS settings"}
			}
		}
		return nil
	}

	cert, err := pem(t.ClientCertPath, t.ClientCertData, certPath, certData)
	if err != nil {
		return err
	}
	key, err := pem(t.ClientKeyPath, t.ClientKeyData, keyPath, keyData)
	if err != nil {
		return err
	}
	switch {
	case cert != nil && key == nil:
		return &Error{Var: keyPath.env, Reason: "is not set, but a client certificate is", Fix: "give the certificate's private key too (or " + keyData.env + ")"}
	case key != nil && cert == nil:
		return &Error{Var: certPath.env, Reason: "is not set, but a client key is", Fix: "give the client certificate too (or " + certData.env + ")"}
	case cert != nil:
		if _, err := tls.X509KeyPair(cert, key); err != nil {
			return &Error{Var: certPath.env, Reason: fmt.Sprintf("and %s do not make a certificate and its key (%v)", keyPath.env, err),
				Fix: "give a PEM certificate and the PEM private key that belongs to it"}
		}
	}
	ca, err := pem(t.ServerCACertPath, t.ServerCACertData, caPath, caData)
	if err != nil {
		return err
	}
	if ca != nil && !x509.NewCertPool().AppendCertsFromPEM(ca) {
		return &Error{Var: caPath.env, Reason: "holds no PEM certificate", Fix: "give the PEM certificate of the CA that signed the server's certificate"}
	}
	return nil
}

// pem returns a setting's PEM bytes, from its file or inline; nil when it is not set.
func pem(path string, data []byte, pathVar, dataVar tlsVar) ([]byte, error) {
	switch {
	case path != "" && len(data) > 0:
		return nil, &Error{Var: pathVar.env, Reason: fmt.Sprintf("and %s are both set (here or as %s and %s in the profile)", dataVar.env, pathVar.toml, dataVar.toml),
			Fix: "set only one of them"}
	case len(data) > 0:
		return data, nil
	case path == "":
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{Var: pathVar.env, Reason: fmt.Sprintf("is %q, which cannot be read (%v)", path, err),
			Fix: "give the path of a readable PEM file (in a container, mount it first)"}
	}
	return b, nil
}
