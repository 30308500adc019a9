package imsemu

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Server is an Emulator with one listener per region.
type Server struct {
	*Emulator
	servers   []*http.Server
	endpoints map[string]string
}

// Start builds an emulator and listens for each region: addrs[i] for Regions[i], where a
// missing or empty address means "127.0.0.1:0" (any free port).
func Start(cfg Config, addrs ...string) (*Server, error) {
	e, err := New(cfg)
	if err != nil {
		return nil, err
	}
	s := &Server{Emulator: e, endpoints: map[string]string{}}
	for i, r := range e.cfg.Regions {
		addr := "127.0.0.1:0"
		if i < len(addrs) && addrs[i] != "" {
			addr = addrs[i]
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("imsemu: listening for region %s on %s: %w (choose a free address)", r.Name, addr, err)
		}
		srv := &http.Server{Handler: e.Handler(r.Name), ReadHeaderTimeout: 10 * time.Second}
		s.servers = append(s.servers, srv)
		s.endpoints[r.Name] = "http://" + ln.Addr().String()
		go srv.Serve(ln)
	}
	return s, nil
}

// Endpoints maps each region to its base URL, e.g. "http://127.0.0.1:9780".
func (s *Server) Endpoints() map[string]string {
	out := make(map[string]string, len(s.endpoints))
	for k, v := range s.endpoints {
		out[k] = v
	}
	return out
}

// Close stops the listeners (letting requests in flight finish for up to 2 s) and then the
// emulator, flushing its state file.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var errs []error
	for _, srv := range s.servers {
		if err := srv.Shutdown(ctx); err != nil {
			errs = append(errs, srv.Close())
		}
	}
	errs = append(errs, s.Emulator.Close())
	return errors.Join(errs...)
}
