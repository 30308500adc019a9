package imsemu

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// AdminClient reads and steers an emulator that runs in another process, through the admin
// API of any of its region listeners.
type AdminClient struct {
	BaseURL string       // e.g. "http://127.0.0.1:9780"
	HTTP    *http.Client // nil means http.DefaultClient
}

// Images returns every image of every region and project, deleted ones included.
func (a AdminClient) Images(ctx context.Context) ([]AdminImage, error) {
	var out []AdminImage
	return out, a.do(ctx, http.MethodGet, "images", nil, &out)
}

// Jobs returns every job.
func (a AdminClient) Jobs(ctx context.Context) ([]AdminJob, error) {
	var out []AdminJob
	return out, a.do(ctx, http.MethodGet, "jobs", nil, &out)
}

// Counts returns the request counts per region, route and status.
func (a AdminClient) Counts(ctx context.Context) ([]RouteCount, error) {
	var out []RouteCount
	return out, a.do(ctx, http.MethodGet, "counts", nil, &out)
}

// Faults returns the fault knobs in force.
func (a AdminClient) Faults(ctx context.Context) (Faults, error) {
	var out Faults
	return out, a.do(ctx, http.MethodGet, "faults", nil, &out)
}

// SetFaults replaces the fault knobs.
func (a AdminClient) SetFaults(ctx context.Context, f Faults) error {
	body, err := json.Marshal(f)
	if err != nil {
		return err
	}
	return a.do(ctx, http.MethodPut, "faults", body, nil)
}

func (a AdminClient) do(ctx context.Context, method, what string, body []byte, out any) error {
	url := strings.TrimSuffix(a.BaseURL, "/") + adminPrefix + what
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("imsemu admin: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	client := a.HTTP
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("imsemu admin %s %s: %w (is the emulator running at %s?)", method, what, err, a.BaseURL)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("imsemu admin %s %s: reading the answer: %w", method, what, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("imsemu admin %s %s: %s: %s", method, what, resp.Status, bytes.TrimSpace(b))
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("imsemu admin %s %s: decoding the answer: %w", method, what, err)
	}
	return nil
}
