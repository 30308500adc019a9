// Package devserver runs an embedded Temporal server (go.temporal.io/server) for dev mode: one
// process, loopback only, state in a SQLite file so that a restart, even after kill -9, keeps
// every namespace and workflow.
package devserver

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/config"
	serverlog "go.temporal.io/server/common/log"
	"go.temporal.io/server/temporal"
	"go.uber.org/zap"
	"google.golang.org/grpc"

	"github.com/imscopy/imscopy/internal/filelock"
)

// Defaults for the zero Options fields.
const (
	DefaultHostPort  = "127.0.0.1:7233"
	DefaultNamespace = "default"
)

// stopTimeout bounds Stop. The server gives each service five minutes to stop, which would hold a
// worker's exit long after its activities have stopped; everything it has committed is in the
// SQLite file by then, and the next start recovers whatever was in flight.
const stopTimeout = 20 * time.Second

// Options configure Start.
type Options struct {
	// DataDir holds the SQLite database and a lock file; it is created if missing. Required.
	DataDir string
	// HostPort is where the frontend listens; DefaultHostPort when empty. Use a loopback IP: the
	// server has no authentication.
	HostPort string
	// Namespace is registered if it does not exist yet; DefaultNamespace when empty.
	Namespace string
	// Logger receives the server's warnings and errors while it runs (see serverLog); zap.NewNop
	// when nil.
	Logger *zap.Logger
	// TLS, when set, makes the frontend accept TLS connections only. Dev mode never sets it (the
	// server listens on loopback); tests of the clients' TLS and mTLS settings do.
	TLS *TLS
	// FrontendInterceptors run on every request to the frontend, after the server's own; tests
	// use one to see the credentials clients send.
	FrontendInterceptors []grpc.UnaryServerInterceptor
	// UIHostPort, when set, is where the Temporal Web UI listens (see webUI), opening on
	// Namespace; empty serves no UI. It must be a loopback IP: the UI has no authentication.
	// The UI dials the frontend in plain text, so it cannot be combined with TLS.
	UIHostPort string
}

// TLS is the frontend's TLS. The server's own system workers dial the frontend too, presenting
// CertFile as their client certificate under mTLS: give it the client-auth usage as well.
type TLS struct {
	CertFile, KeyFile string // the server's certificate and key (PEM)
	CAFile            string // the CA that signed CertFile and, under mTLS, the clients' certificates
	RequireClientCert bool   // mTLS: refuse clients without a certificate signed by CAFile
}

// Server is a running embedded Temporal server.
type Server struct {
	srv      temporal.Server
	hostPort string
	ui       *webUI // nil without Options.UIHostPort
	lock     *filelock.Lock
	log      *serverLog
	stopOnce sync.Once
	stopErr  error
}

// Start starts a server and returns once its frontend accepts connections.
//
// Only one process may use a DataDir at a time (two servers on one database would fight over
// its shard); a second Start on the same DataDir fails with a message naming the holder's pid.
func Start(opts Options) (*Server, error) {
	if opts.DataDir == "" {
		return nil, errors.New("devserver: Options.DataDir is empty: give the folder that keeps the server's data")
	}
	if opts.HostPort == "" {
		opts.HostPort = DefaultHostPort
	}
	if opts.Namespace == "" {
		opts.Namespace = DefaultNamespace
	}
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	if opts.UIHostPort != "" && opts.TLS != nil {
		return nil, errors.New("devserver: Options.UIHostPort with Options.TLS: the Web UI dials the frontend in plain text")
	}
	logger := opts.Logger.Named("temporal-server")

	if err := os.MkdirAll(opts.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create the data folder: %w; set DATA_DIR to a folder this user can write", err)
	}
	lock, err := filelock.Acquire(filepath.Join(opts.DataDir, lockFile))
	if err != nil {
		if errors.Is(err, filelock.ErrLocked) {
			return nil, fmt.Errorf("the data folder %s is in use by another dev-mode worker (%w): stop it, or give this one "+
				"another DATA_DIR", opts.DataDir, err)
		}
		return nil, fmt.Errorf("lock the data folder %s: %w", opts.DataDir, err)
	}

	// The UI's port is taken before the server starts, so a port in use fails at once rather
	// than after the server's start-up.
	var uiListener net.Listener
	if opts.UIHostPort != "" {
		if uiListener, err = listenUI(opts.UIHostPort); err != nil {
			_ = lock.Release()
			return nil, err
		}
	}
	failed := func(err error) (*Server, error) {
		if uiListener != nil {
			_ = uiListener.Close()
		}
		_ = lock.Release()
		return nil, err
	}

	serverLogs := newServerLog(logger)
	srv, err := newServer(opts, logger, serverLogs)
	if err != nil {
		return failed(err)
	}
	if err := srv.Start(); err != nil {
		return failed(fmt.Errorf("start the embedded Temporal server on %s (data in %s): %w", opts.HostPort, opts.DataDir, err))
	}
	serverLogs.open()
	s := &Server{srv: srv, hostPort: opts.HostPort, lock: lock, log: serverLogs}
	if uiListener != nil {
		if s.ui, err = serveUI(uiListener, opts.HostPort, opts.Namespace); err != nil {
			_ = uiListener.Close()
			return nil, errors.Join(err, s.Stop())
		}
	}
	return s, nil
}

func newServer(opts Options, logger *zap.Logger, serverLogs *serverLog) (temporal.Server, error) {
	p, err := pickPorts(opts.HostPort)
	if err != nil {
		return nil, err
	}
	store, err := prepareStore(opts.DataDir, opts.Namespace, logger)
	if err != nil {
		return nil, fmt.Errorf("prepare the embedded Temporal server's database in %s: %w", opts.DataDir, err)
	}
	cfg := serverConfig(p, store)
	if opts.TLS != nil {
		cfg.Global.TLS = frontendTLS(*opts.TLS)
	}

	serverLogger := serverlog.NewZapLogger(serverLogs.logger)
	authorizer, err := authorization.GetAuthorizerFromConfig(&cfg.Global.Authorization)
	if err != nil {
		return nil, err
	}
	claimMapper, err := authorization.GetClaimMapperFromConfig(&cfg.Global.Authorization, serverLogger)
	if err != nil {
		return nil, err
	}
	return temporal.NewServer(
		temporal.WithConfig(cfg),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithStaticHosts(staticHosts(p)),
		temporal.WithLogger(serverLogger),
		temporal.WithAuthorizer(authorizer),
		temporal.WithClaimMapper(func(*config.Config) authorization.ClaimMapper { return claimMapper }),
		temporal.WithChainedFrontendGrpcInterceptors(opts.FrontendInterceptors...),
	)
}

// HostPort is the frontend's address, for clients.
func (s *Server) HostPort() string { return s.hostPort }

// UIURL is the Web UI's address, such as http://127.0.0.1:8233, or empty when it serves none.
func (s *Server) UIURL() string {
	if s.ui == nil {
		return ""
	}
	return s.ui.url
}

// Stop stops the server and releases the data folder. It returns within stopTimeout; a server that
// takes longer is left to the process's exit, which releases the folder. Calling Stop again
// returns the first result.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		var uiErr error
		if s.ui != nil {
			// First: the UI's requests would only fail against a stopping server.
			uiErr = s.ui.stop()
		}
		s.log.quiet()
		done := make(chan error, 1)
		go func() { done <- s.srv.Stop() }()
		select {
		case err := <-done:
			s.stopErr = errors.Join(uiErr, err, s.lock.Release())
		case <-time.After(stopTimeout):
			// The lock stays held (the process's exit drops it): the server may still write.
			s.stopErr = errors.Join(uiErr, fmt.Errorf("the embedded Temporal server did not stop within %s; its data is safe and the "+
				"next start recovers it", stopTimeout))
		}
	})
	return s.stopErr
}
