// Package loopback finds free TCP addresses on 127.0.0.1, for programs and tests that must name
// an address before they listen on it (the embedded Temporal server, the Web UI, a worker's
// metrics) and must not collide with anything already running on a default port.
package loopback

import "net"

// FreeAddr is a "127.0.0.1:port" address nobody listened on when it was asked. The port is
// released before FreeAddr returns, so another process may take it first; callers that listen
// themselves should listen on ":0" instead.
func FreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}
