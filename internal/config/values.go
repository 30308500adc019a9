package config

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"go.uber.org/zap/zapcore"

	"github.com/imscopy/imscopy/imsapi"
)

// Secret is a credential read from the environment. It prints as "[redacted]" however it is
// formatted or marshalled, so logging the whole configuration cannot leak it; Reveal is the one
// way to read it.
type Secret string

// Reveal returns the secret itself, for the one place that signs requests with it.
func (s Secret) Reveal() string { return string(s) }

func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// GoString keeps %#v from printing the secret.
func (s Secret) GoString() string { return strconv.Quote(s.String()) }

// MarshalText keeps JSON, YAML and zap.Any from printing the secret.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// HostPort is a host:port address with a numeric port.
type HostPort string

// Decode is envconfig's hook for HostPort. An empty value is accepted here and judged by the
// caller, since for TEMPORAL_ADDRESS it has a meaning (dev mode).
func (a *HostPort) Decode(value string) error {
	if value == "" {
		*a = ""
		return nil
	}
	host, port, err := net.SplitHostPort(value)
	if err != nil {
		return fmt.Errorf("want host:port, e.g. 127.0.0.1:7233")
	}
	if host == "" {
		return fmt.Errorf("the host is missing, e.g. 127.0.0.1:7233")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("port %q is not a number from 1 to 65535", port)
	}
	*a = HostPort(value)
	return nil
}

// IsLoopback reports whether the host is a loopback IP such as 127.0.0.1 or ::1.
func (a HostPort) IsLoopback() bool {
	host, _, err := net.SplitHostPort(string(a))
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Endpoints maps a region to the IMS base URL that replaces the SDK's (IMS_ENDPOINTS).
type Endpoints map[string]string

// Decode is envconfig's hook for Endpoints.
func (e *Endpoints) Decode(value string) error {
	m, err := imsapi.ParseEndpoints(value)
	if err != nil {
		return err
	}
	*e = m
	return nil
}

// Projects maps a region other than the home region to the project ID to use there (IMS_PROJECTS).
type Projects map[string]string

// Decode is envconfig's hook for Projects: "region=projectID,region=projectID".
func (p *Projects) Decode(value string) error {
	m, err := imsapi.ParsePairs(value, "pair", "region=projectID", func(v string) (string, error) {
		return v, imsapi.ValidateProjectID("project ID", v)
	})
	if err != nil {
		return err
	}
	*p = m
	return nil
}

// LogLevel is one of debug, info, warn, error.
type LogLevel zapcore.Level

// Decode is envconfig's hook for LogLevel.
func (l *LogLevel) Decode(value string) error {
	switch strings.ToLower(strings.TrimSpace(value)) {
	case "debug":
		*l = LogLevel(zapcore.DebugLevel)
	case "info":
		*l = LogLevel(zapcore.InfoLevel)
	case "warn", "warning":
		*l = LogLevel(zapcore.WarnLevel)
	case "error":
		*l = LogLevel(zapcore.ErrorLevel)
	default:
		return fmt.Errorf("unknown level")
	}
	return nil
}

// Zap returns the level as zap's.
func (l LogLevel) Zap() zapcore.Level { return zapcore.Level(l) }
