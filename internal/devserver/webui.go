package devserver

// WebUI is the Temporal Web UI in front of a frontend this package does not run, such as a
// standalone server's: what Compose's temporal-ui service serves, for `make cluster`.
type WebUI struct {
	ui *webUI
}

// ServeWebUI serves the UI on hostPort, a loopback IP's (the UI has no authentication), for the
// frontend at frontend, opening on namespace.
func ServeWebUI(hostPort, frontend, namespace string) (*WebUI, error) {
	l, err := listenUI(hostPort)
	if err != nil {
		return nil, err
	}
	u, err := serveUI(l, frontend, namespace)
	if err != nil {
		l.Close()
		return nil, err
	}
	return &WebUI{ui: u}, nil
}

// URL is where the UI is, e.g. http://127.0.0.1:8233.
func (w *WebUI) URL() string { return w.ui.url }

// Stop closes the UI.
func (w *WebUI) Stop() error { return w.ui.stop() }
