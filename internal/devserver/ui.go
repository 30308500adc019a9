package devserver

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/temporalio/ui-server/v2/server/api"
	"github.com/temporalio/ui-server/v2/server/auth"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	"github.com/temporalio/ui-server/v2/server/cors"
	"github.com/temporalio/ui-server/v2/server/csrf"
	"github.com/temporalio/ui-server/v2/server/headers"
	"github.com/temporalio/ui-server/v2/server/route"
	"github.com/temporalio/ui-server/v2/ui"
)

// webUI is the Temporal Web UI (github.com/temporalio/ui-server) in front of the embedded
// frontend, as `temporal server start-dev` serves it: the UI's pages, and the UI's HTTP API under
// /api/v1, which it proxies to the frontend over gRPC.
//
// ui-server's own Server is not used: its Start binds the address itself and ends the process
// (echo's Logger.Fatal) when it cannot, and its errors cannot be returned. Here the listener is
// bound before the Temporal server starts, so a taken port fails Start with a message, and the
// handler is the one ui-server's NewServer builds, from its exported parts.
type webUI struct {
	srv    *http.Server
	url    string
	served chan error // Serve's result, once it has returned
}

// uiReadHeaderTimeout bounds a client's request headers; the UI is on loopback, so this only keeps
// a stuck client from holding a connection open for ever.
const uiReadHeaderTimeout = 10 * time.Second

// listenUI binds hostPort, which must be a loopback IP: the UI, like the server behind it, has no
// authentication, and anyone who reaches it can start, cancel and terminate workflows.
func listenUI(hostPort string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(hostPort)
	if err != nil {
		return nil, fmt.Errorf("the Web UI address %q: want host:port, e.g. 127.0.0.1:8233", hostPort)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("the Web UI address %q: the host is not a loopback IP such as 127.0.0.1; the UI has no authentication", hostPort)
	}
	l, err := net.Listen("tcp", hostPort)
	if err != nil {
		return nil, fmt.Errorf("the Web UI cannot listen on %s (%w): another dev-mode worker or `temporal server start-dev` "+
			"may be serving its UI there; choose another DEV_UI_ADDRESS, or set it empty to serve no UI", hostPort, err)
	}
	return l, nil
}

// serveUI serves the UI on l for the frontend at frontend, opening on namespace.
func serveUI(l net.Listener, frontend, namespace string) (*webUI, error) {
	h, err := uiHandler(frontend, namespace)
	if err != nil {
		return nil, err
	}
	u := &webUI{
		srv:    &http.Server{Handler: h, ReadHeaderTimeout: uiReadHeaderTimeout},
		url:    "http://" + l.Addr().String(),
		served: make(chan error, 1),
	}
	go func() { u.served <- u.srv.Serve(l) }()
	return u, nil
}

// uiHandler is what ui-server's server.NewServer builds (v2.54.1), configured as the Temporal
// CLI's dev server configures it: the bundled UI, plain HTTP, no login. Keep the middleware in
// NewServer's order when ui-server is upgraded: the CSRF check relies on the cookie set before it.
func uiHandler(frontend, namespace string) (http.Handler, error) {
	cfg := &uiconfig.Config{
		TemporalGRPCAddress: frontend,
		EnableUI:            true,
		DefaultNamespace:    namespace,
		// The UI is served over plain HTTP on loopback: a Secure cookie would never come back.
		CORS: uiconfig.CORS{CookieInsecure: true},
		// Echo's banner and request log would go to stdout around the worker's own log.
		HideLogs: true,
		// The dev UI calls nothing beyond this machine.
		DisableNewsFetch: true,
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("the Web UI's configuration: %w", err)
	}
	provider, err := uiconfig.NewConfigProviderWithRefresh(cfg)
	if err != nil {
		return nil, fmt.Errorf("the Web UI's configuration: %w", err)
	}
	apiMiddleware := []api.Middleware{
		headers.WithForwardHeaders([]string{auth.AuthorizationExtrasHeader, "Caller-Type"}),
	}

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Use(middleware.Recover())
	e.Use(middleware.Gzip())
	e.Use(cors.CORSMiddleware(cors.CORSConfig{
		AllowHeaders: []string{
			echo.HeaderOrigin, echo.HeaderContentType, echo.HeaderAccept,
			echo.HeaderXCSRFToken, echo.HeaderAuthorization, auth.AuthorizationExtrasHeader,
			"Caller-Type",
		},
		AllowCredentials: true,
		ConfigProvider:   provider,
	}))
	e.Use(middleware.Secure())
	cookieSecure := !cfg.CORS.CookieInsecure
	e.Use(csrf.EnsureTokenCookie(cookieSecure))
	e.Use(middleware.CSRFWithConfig(csrf.MiddlewareConfig(provider, cookieSecure)))

	e.Pre(route.PublicPath(cfg.PublicPath))
	route.SetHealthRoute(e)
	if err := route.SetAPIRoutes(e, provider, apiMiddleware); err != nil {
		return nil, fmt.Errorf("the Web UI: %w", err)
	}
	route.SetAuthRoutes(e, provider)
	assets, err := ui.Assets()
	if err != nil {
		return nil, fmt.Errorf("the Web UI's assets: %w", err)
	}
	// The bundle holds two builds; "local" is the one for a self-hosted server.
	if assets, err = fs.Sub(assets, "local"); err != nil {
		return nil, fmt.Errorf("the Web UI's assets: %w", err)
	}
	if err := route.SetUIRoutes(e, cfg.PublicPath, assets); err != nil {
		return nil, fmt.Errorf("the Web UI's pages: %w", err)
	}
	route.SetRenderRoute(e, cfg.PublicPath)
	return e, nil
}

// stop closes the UI's listener and connections; a browser's open page stops refreshing. Pages
// are short requests and long-polls are not used, so nothing is worth waiting for.
func (u *webUI) stop() error {
	err := u.srv.Close()
	if served := <-u.served; !errors.Is(served, http.ErrServerClosed) {
		err = errors.Join(err, served)
	}
	return err
}
