// Package temporalconn builds the Temporal client's connection the way the Temporal CLI does: a
// profile of the CLI's configuration file (TEMPORAL_CONFIG_FILE, TEMPORAL_PROFILE) with the
// TEMPORAL_* environment variables over it, read by go.temporal.io/sdk/contrib/envconfig. So the
// settings that reach a cluster or Temporal Cloud with `temporal` reach it with the worker and the
// starter too: TLS, mTLS (client certificate and key), a private CA, an API key, gRPC headers.
//
// What it adds is refusal: a setting that envconfig would ignore or that could not work (a
// certificate without its key, an unreadable file, an API key sent without TLS) stops the program
// at start with a message that names the variable and says what to set.
package temporalconn

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"
)

// Conn is how to reach Temporal, resolved from the profile and the environment. It never prints
// its secrets (the API key, a client key): String describes it instead.
type Conn struct {
	address   string
	namespace string
	options   client.Options // TLS, credentials, headers, authority; HostPort and Namespace unset
	tls       bool
	clientTLS bool // a client certificate is presented (mTLS)
	apiKey    bool
	profile   string // where the profile came from, for messages; "" when no file defines one
	secrets   []string
}

// Load reads the connection from env (envconfig.EnvLookupOS for the process's environment).
func Load(env envconfig.EnvLookup) (Conn, error) {
	if env == nil {
		env = envconfig.EnvLookupOS
	}
	if err := checkBooleans(env); err != nil {
		return Conn{}, err
	}
	prof, source, err := loadProfile(env)
	if err != nil {
		return Conn{}, err
	}
	if err := prof.ApplyEnvVars(env); err != nil {
		return Conn{}, &Error{Var: "TEMPORAL_*", Reason: "could not be applied (" + err.Error() + ")", Fix: "check the TEMPORAL_ variables"}
	}
	if err := checkTLS(prof, env); err != nil {
		return Conn{}, err
	}
	opts, err := prof.ToClientOptions(envconfig.ToClientOptionsRequest{})
	if err != nil {
		// checkTLS has read every file already; what remains is envconfig's own judgement.
		return Conn{}, &Error{Var: "TEMPORAL_TLS_*", Reason: "do not make a usable TLS configuration (" + err.Error() + ")",
			Fix: "check the certificate, key and CA variables (or the profile's tls section)"}
	}
	c := Conn{
		address:   prof.Address,
		namespace: prof.Namespace,
		options:   opts,
		tls:       opts.ConnectionOptions.TLS != nil,
		apiKey:    prof.APIKey != "",
		profile:   source,
	}
	if c.tls {
		c.clientTLS = len(opts.ConnectionOptions.TLS.Certificates) > 0
	}
	if prof.APIKey != "" {
		c.secrets = append(c.secrets, prof.APIKey)
	}
	if prof.TLS != nil && len(prof.TLS.ClientKeyData) > 0 {
		c.secrets = append(c.secrets, string(prof.TLS.ClientKeyData))
	}
	return c, nil
}

// Address is the frontend's host:port from TEMPORAL_ADDRESS or the profile; "" when neither sets it.
func (c Conn) Address() string { return c.address }

// Namespace is the namespace from TEMPORAL_NAMESPACE or the profile; "" when neither sets it.
func (c Conn) Namespace() string { return c.namespace }

// Secure says whether the connection uses TLS or an API key.
func (c Conn) Secure() bool { return c.tls || c.apiKey }

// Options are the client options to dial hostPort in namespace with.
func (c Conn) Options(hostPort, namespace string) client.Options {
	o := c.options
	o.HostPort, o.Namespace = hostPort, namespace
	if o.ConnectionOptions.TLS != nil {
		// The client may keep state in it (session tickets); each client gets its own.
		o.ConnectionOptions.TLS = o.ConnectionOptions.TLS.Clone()
	}
	return o
}

// Secrets are the values no log line may show: the API key and an inline client key.
func (c Conn) Secrets() []string { return slices.Clone(c.secrets) }

// String describes the connection's security for logs, e.g. "TLS with a client certificate, API key".
func (c Conn) String() string {
	var parts []string
	switch {
	case c.tls && c.clientTLS:
		parts = append(parts, "TLS with a client certificate")
	case c.tls:
		parts = append(parts, "TLS")
	default:
		parts = append(parts, "plaintext")
	}
	if c.apiKey {
		parts = append(parts, "API key")
	}
	if c.profile != "" {
		parts = append(parts, c.profile)
	}
	return strings.Join(parts, ", ")
}

// GoString keeps %#v from printing the options, which hold the client key.
func (c Conn) GoString() string { return strconv.Quote(c.String()) }

// MarshalText keeps JSON, YAML and zap.Any from printing the options.
func (c Conn) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// loadProfile reads the profile file, if there is one, and picks the profile. A profile named
// by TEMPORAL_PROFILE must exist; the default one may be missing, as it is without a file.
func loadProfile(env envconfig.EnvLookup) (envconfig.ClientConfigProfile, string, error) {
	path := lookup(env, "TEMPORAL_CONFIG_FILE")
	shown := path
	if shown == "" {
		shown = envconfig.DefaultConfigFilePath()
	}
	file, err := envconfig.LoadClientConfig(envconfig.LoadClientConfigOptions{EnvLookup: env})
	if err != nil {
		return envconfig.ClientConfigProfile{}, "", &Error{Var: "TEMPORAL_CONFIG_FILE",
			Reason: fmt.Sprintf("names %s, which cannot be used (%v)", shown, err),
			Fix:    "point it at a Temporal CLI configuration file (TOML), fix that file, or unset it"}
	}
	name := lookup(env, "TEMPORAL_PROFILE")
	if name == "" {
		name = envconfig.DefaultConfigFileProfile
		if p := file.Profiles[name]; p != nil {
			return *p, fmt.Sprintf("profile %q of %s", name, shown), nil
		}
		return envconfig.ClientConfigProfile{}, "", nil
	}
	p := file.Profiles[name]
	if p == nil {
		defined := make([]string, 0, len(file.Profiles))
		for n := range file.Profiles {
			defined = append(defined, n)
		}
		slices.Sort(defined)
		return envconfig.ClientConfigProfile{}, "", &Error{Var: "TEMPORAL_PROFILE",
			Reason: fmt.Sprintf("is %q, which %s does not define (it defines: %s)", name, shown, listOrNone(defined)),
			Fix:    "name one of its profiles, set TEMPORAL_CONFIG_FILE to the file that has it, or unset TEMPORAL_PROFILE"}
	}
	return *p, fmt.Sprintf("profile %q of %s", name, shown), nil
}

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// lookup is a variable's value; unset and empty are the same.
func lookup(env envconfig.EnvLookup, name string) string {
	v, _ := env.LookupEnv(name)
	return v
}
