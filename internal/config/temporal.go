package config

import (
	"errors"
	"fmt"

	"github.com/imscopy/imscopy/internal/temporalconn"
)

// loadTemporal reads the Temporal connection the way the Temporal CLI does (package temporalconn)
// and merges its address and namespace into the program's: the environment's TEMPORAL_ADDRESS and
// TEMPORAL_NAMESPACE win, then the profile's, then the programs' own defaults.
func loadTemporal(address *HostPort, namespace *string) (temporalconn.Conn, error) {
	conn, err := temporalconn.Load(nil)
	if err != nil {
		var e *temporalconn.Error
		if errors.As(err, &e) {
			return temporalconn.Conn{}, &Error{Var: e.Var, Reason: e.Reason, Fix: e.Fix}
		}
		return temporalconn.Conn{}, err
	}
	if conn.Address() != "" {
		if err := address.Decode(conn.Address()); err != nil {
			return temporalconn.Conn{}, &Error{Var: "TEMPORAL_ADDRESS", Reason: fmt.Sprintf("(here or in the profile: %s) is %q, which is not valid (%v)",
				conn, conn.Address(), err), Fix: "set it to the host:port of the Temporal frontend, e.g. temporal.internal:7233"}
		}
	}
	if conn.Namespace() != "" {
		*namespace = conn.Namespace()
	}
	return conn, nil
}
