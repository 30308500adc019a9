package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.uber.org/zap/zapcore"

	"github.com/imscopy/imscopy/internal/config"
	"github.com/imscopy/imscopy/internal/logging"
)

// dialTimeout bounds the first contact with Temporal, so a wrong address fails in seconds.
const dialTimeout = 5 * time.Second

// workerHint is what to do when Temporal is not there. It names a command that leaves a server
// running: `make demo` stops its embedded server when its copy ends.
const workerHint = "is the worker running? Start a dev-mode worker, which hosts the Temporal server itself: " +
	"`HUAWEICLOUD_SDK_AK=... HUAWEICLOUD_SDK_SK=... HUAWEICLOUD_SDK_PROJECT_ID=... IMS_REGION=cn-north-4 bin/worker` " +
	"(`make build` first; against the emulator, add the IMS_ENDPOINTS and IMS_PROJECTS that `bin/imsemu` prints; " +
	"docs/operations.md, \"Dev mode\"), or set TEMPORAL_ADDRESS to your Temporal server"

func dial(ctx context.Context, cfg config.Starter) (client.Client, error) {
	ctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	opts := cfg.Temporal.Options(cfg.Address(), cfg.Namespace)
	// The SDK's own default logger writes info lines to stdout, which would mix with results.
	opts.Logger = logging.NewTemporalLogger(logging.New(logging.Options{Level: zapcore.WarnLevel, Output: os.Stderr, Console: true}))
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		hint := workerHint
		if h := cfg.Temporal.Hint(err); h != "" {
			hint = h
		}
		return nil, fmt.Errorf("cannot reach Temporal at %s (%s): %w; %s", cfg.Address(), cfg.Temporal, err, hint)
	}
	return c, nil
}

// explain adds what to do to the errors a user can fix.
func explain(err error, cfg config.Starter, workflowID string) error {
	var nsNotFound *serviceerror.NamespaceNotFound
	var notFound *serviceerror.NotFound
	var unavailable *serviceerror.Unavailable
	switch {
	case errors.As(err, &nsNotFound):
		return fmt.Errorf("%w; TEMPORAL_NAMESPACE is %q: use the worker's namespace", err, cfg.Namespace)
	case errors.As(err, &notFound):
		return fmt.Errorf("no workflow %q in namespace %s at %s (%w); `starter copy` prints the ID of each copy it starts",
			workflowID, cfg.Namespace, cfg.Address(), err)
	case errors.As(err, &unavailable), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("lost touch with Temporal at %s: %w; %s", cfg.Address(), err, workerHint)
	}
	return err
}
