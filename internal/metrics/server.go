package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// Server serves /metrics and /healthz on one listener (METRICS_ADDR).
type Server struct {
	srv   *http.Server
	addr  string
	ready atomic.Bool
	done  chan struct{}
}

// Listen starts serving m on addr (host:port; port 0 picks a free one). /healthz answers 200 once
// SetReady(true) is called and 503 before and after, so that a container's health check and a
// load balancer see a worker that polls, not just a process that runs.
func (m *Metrics) Listen(addr string) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: listen on %s: %w; choose a free METRICS_ADDR, or leave it empty to serve no metrics", addr, err)
	}
	s := &Server{addr: ln.Addr().String(), done: make(chan struct{})}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		if !s.ready.Load() {
			http.Error(w, "not ready: the worker is not polling", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(ln)
	}()
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.addr }

// SetReady says whether the worker polls its task queue.
func (s *Server) SetReady(ready bool) { s.ready.Store(ready) }

// Close stops serving; a scrape in progress gets until ctx ends to finish.
func (s *Server) Close(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	<-s.done
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}
