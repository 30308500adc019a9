package imsclient

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/sdkerr"
	ims "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ims/v2"
	"github.com/imscopy/imscopy/imsapi"
)

// call runs one SDK operation with ctx bound to its HTTP requests and turns any failure into *Error.
func call[T any](ctx context.Context, r *RegionClient, op string, do func(*ims.ImsClient) (T, error)) (T, error) {
	out, _, err := callWithID(ctx, r, op, do)
	return out, err
}

// callWithID is call that also returns the X-Request-Id of the last response, for errors that imsclient
// raises about a successful answer.
//
// The SDK client is built per call because the only way to give the SDK a context is its
// RoundTripper, which is fixed at build time. The build is a few small allocations (no I/O: the
// project ID is set, so the SDK skips IAM; see BenchmarkSDKClientPerCall); the credentials and the
// connection pool are the region's and shared.
func callWithID[T any](ctx context.Context, r *RegionClient, op string, do func(*ims.ImsClient) (T, error)) (_ T, _ string, err error) {
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, "", cancelled(ctx, op, "")
	}
	rt := &callTransport{ctx: ctx, base: r.transport, region: r.name, logf: r.logf}
	defer rt.release()
	if r.observe != nil {
		start := time.Now()
		defer func() {
			var class imsapi.Class
			if err != nil {
				class = imsapi.ClassOf(err)
			}
			r.observe(op, class, time.Since(start))
		}()
	}

	client, err := r.sdkClient(rt)
	if err != nil {
		return zero, "", &imsapi.Error{Op: op, Class: imsapi.ClassUnknown, Message: "cannot build the SDK client: " + err.Error(), Err: err}
	}
	out, err := do(client)
	_, requestID, _ := rt.last()
	if err != nil {
		return zero, requestID, toError(ctx, op, rt, err)
	}
	return out, requestID, nil
}

// toError classifies a failed SDK call. An IMS answer (any status) wins over everything else; without
// one, a cancelled ctx explains the failure; otherwise the network failed (transient) or, if nothing
// was sent, the SDK refused to build the request (a bug here, not worth retrying).
func toError(ctx context.Context, op string, rt *callTransport, err error) *imsapi.Error {
	sent, requestID, retryAfter := rt.last()

	var sre *sdkerr.ServiceResponseError
	if errors.As(err, &sre) && sre.StatusCode != 0 {
		e := &imsapi.Error{
			Op:         op,
			Status:     sre.StatusCode,
			Code:       sre.ErrorCode,
			Message:    sre.ErrorMessage,
			RequestID:  sre.RequestId,
			RetryAfter: retryAfter,
			Class:      imsapi.Classify(sre.StatusCode, sre.ErrorCode),
		}
		if e.RequestID == "" {
			e.RequestID = requestID
		}
		if e.Status < 400 {
			// The SDK reports a success whose body does not decode as a ServiceResponseError too.
			e.Message = "cannot decode IMS's answer: " + e.Message
		}
		return e
	}
	if ctx.Err() != nil {
		return cancelled(ctx, op, requestID)
	}
	if !sent {
		return &imsapi.Error{Op: op, Class: imsapi.ClassUnknown, Message: "the SDK could not build the request: " + err.Error(), Err: err}
	}
	// Connection refused or reset, EOF before a full answer, the per-request timeout: the request may
	// or may not have taken effect, and trying again later is the only remedy.
	return &imsapi.Error{Op: op, Class: imsapi.ClassTransient, Message: err.Error(), RequestID: requestID, Err: err}
}

// sdkClient builds the SDK's client for one call, sending through rt.
func (r *RegionClient) sdkClient(rt http.RoundTripper) (*ims.ImsClient, error) {
	hc, err := ims.ImsClientBuilder().
		WithEndpoint(r.endpoint).
		WithCredential(r.cred).
		WithHttpConfig(r.httpConfig(rt)).
		SafeBuild()
	if err != nil {
		return nil, err
	}
	return ims.NewImsClient(hc), nil
}

// cancelled wraps ctx's error so that errors.Is(err, context.Canceled) (or DeadlineExceeded) holds.
func cancelled(ctx context.Context, op, requestID string) *imsapi.Error {
	return &imsapi.Error{
		Op:        op,
		Class:     imsapi.ClassTransient,
		Message:   "stopped waiting for IMS: " + ctx.Err().Error(),
		RequestID: requestID,
		Err:       ctx.Err(),
	}
}

// deref reads an optional SDK field.
func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}

// optional turns an empty string into an absent SDK field.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
