package temporalconn

import (
	"fmt"
	"io"
	"strings"
)

// Variable is one environment variable Load reads.
type Variable struct {
	Name    string
	Meaning string
}

// GRPCMetaPrefix starts the variables that add a gRPC header each: TEMPORAL_GRPC_META_X_ORG=acme
// sends "x-org: acme".
const GRPCMetaPrefix = "TEMPORAL_GRPC_META_"

// Variables are the variables Load reads, besides those starting with GRPCMetaPrefix. They are
// envconfig's, the Temporal CLI's; TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE are listed by the
// programs' own configuration, which reads them too.
var Variables = []Variable{
	{"TEMPORAL_CONFIG_FILE", "the Temporal CLI configuration file (TOML) to read profiles from; default: the CLI's, " +
		"e.g. ~/.config/temporalio/temporal.toml (a missing default file is fine)"},
	{"TEMPORAL_PROFILE", "the profile of that file to use; default: \"default\""},
	{"TEMPORAL_API_KEY", "an API key (Temporal Cloud); turns TLS on"},
	{"TEMPORAL_TLS", "true or false: use TLS; default: on when any TLS setting or an API key is given"},
	{"TEMPORAL_TLS_CLIENT_CERT_PATH", "the client certificate (PEM file) for mTLS"},
	{"TEMPORAL_TLS_CLIENT_KEY_PATH", "the client certificate's private key (PEM file)"},
	{"TEMPORAL_TLS_CLIENT_CERT_DATA", "the client certificate itself (PEM), instead of its path"},
	{"TEMPORAL_TLS_CLIENT_KEY_DATA", "the private key itself (PEM), instead of its path"},
	{"TEMPORAL_TLS_SERVER_CA_CERT_PATH", "the CA that signed the server's certificate (PEM file); default: the system's CAs"},
	{"TEMPORAL_TLS_SERVER_CA_CERT_DATA", "that CA itself (PEM), instead of its path"},
	{"TEMPORAL_TLS_SERVER_NAME", "the name to verify in the server's certificate, when it differs from the address's host"},
	{"TEMPORAL_TLS_DISABLE_HOST_VERIFICATION", "true to skip verifying the server's certificate (tests only)"},
	{"TEMPORAL_CLIENT_AUTHORITY", "the :authority header (virtual host) of every request, for proxies that route on it"},
	{GRPCMetaPrefix + "<NAME>", "a gRPC header sent with every request, e.g. " + GRPCMetaPrefix + "X_ORG=acme"},
}

// Reads reports whether Load reads the variable name.
func Reads(name string) bool {
	if strings.HasPrefix(name, GRPCMetaPrefix) && len(name) > len(GRPCMetaPrefix) {
		return true
	}
	for _, v := range Variables {
		if v.Name == name {
			return true
		}
	}
	return false
}

// Usage writes the variables in the programs' usage format.
func Usage(out io.Writer) error {
	for _, v := range Variables {
		if _, err := fmt.Fprintf(out, "  %s (default: unset)\n      %s\n", v.Name, v.Meaning); err != nil {
			return err
		}
	}
	return nil
}
