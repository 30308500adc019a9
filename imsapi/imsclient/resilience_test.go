package imsclient_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imscopy/imscopy/imsapi"
	"github.com/imscopy/imscopy/imsapi/imsclient"
	"github.com/imscopy/imscopy/imsapi/imsemu"
)

// IMS accepts the copy, then the answer is lost: the client must report a transient failure (the
// caller then looks for the image before copying again) and must not have sent the POST twice.
func TestLostCopyResponse(t *testing.T) {
	env := startEmu(t, imsemu.Config{Faults: imsemu.Faults{Routes: map[string]imsemu.RouteFault{
		imsemu.RouteCopyInRegion: {LostResponseRate: 1},
	}}})
	ctx := context.Background()

	_, err := env.home.CopyInRegion(ctx, imsapi.CopyRequest{SourceImageID: seedImageID, Name: "lost-and-found"})
	var e *imsapi.Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, imsapi.ClassTransient, e.Class)
	assert.Equal(t, 0, e.Status)
	assert.True(t, e.Class.Retryable())

	assert.Equal(t, 1, env.requests(imsemu.RouteCopyInRegion), "imsclient does not retry, nor does Go's transport retry a POST")
	made := 0
	for _, img := range env.srv.Images() {
		if img.Name == "lost-and-found" {
			made++
		}
	}
	assert.Equal(t, 1, made, "the copy took effect exactly once")
	found, err := env.home.ListImages(ctx, imsapi.ListFilter{Name: "lost-and-found"})
	require.NoError(t, err)
	assert.Len(t, found, 1, "and the client can find it")
}

// A request IMS never answers must end as soon as the caller's ctx does: Temporal cancels
// activities through it. The per-request timeout is set longer than the hang, so a client that
// ignored ctx would get IMS's late answer and fail the test instead of returning an error. The ctx
// ends while IMS holds the request, not after a guessed delay: a delay could pass before a slow
// machine has even sent it.
func TestContextEndsHungRequest(t *testing.T) {
	const hang = 30 * time.Second
	env := startEmu(t, imsemu.Config{Faults: imsemu.Faults{Routes: map[string]imsemu.RouteFault{
		"*": {Latency: hang},
	}}})

	ops := []struct {
		name  string
		route string
		call  func(context.Context, *imsclient.RegionClient) error
	}{
		{"CopyInRegion", imsemu.RouteCopyInRegion, func(ctx context.Context, r *imsclient.RegionClient) error {
			_, err := r.CopyInRegion(ctx, imsapi.CopyRequest{SourceImageID: seedImageID, Name: "hung"})
			return err
		}},
		{"GetJob", imsemu.RouteShowJobProgress, func(ctx context.Context, r *imsclient.RegionClient) error {
			_, err := r.GetJob(ctx, jobIDSample)
			return err
		}},
		{"GetImage", imsemu.RouteListImages, func(ctx context.Context, r *imsclient.RegionClient) error {
			_, err := r.GetImage(ctx, seedImageID)
			return err
		}},
		{"DeleteImage", imsemu.RouteGlanceDeleteImage, func(ctx context.Context, r *imsclient.RegionClient) error {
			return r.DeleteImage(ctx, seedImageID)
		}},
	}
	for _, op := range ops {
		t.Run(op.name+"/cancel", func(t *testing.T) {
			front := startFront(t, env, 2*hang)
			abandoned := env.abandoned(op.route)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			result := make(chan error, 1)
			go func() { result <- op.call(ctx, front.region) }()
			select {
			case <-front.arrived:
			case err := <-result:
				t.Fatalf("the call returned before IMS had its request: %v", err)
			}
			cancel()
			err := <-result
			require.ErrorIs(t, err, context.Canceled)
			var e *imsapi.Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, op.name, e.Op)
			assert.Equal(t, 0, e.Status)
			front.close()
			// The emulator records 499 when the client hangs up during the injected latency.
			assert.Equal(t, abandoned+1, env.abandoned(op.route), "IMS saw the client hang up")
		})
		t.Run(op.name+"/deadline", func(t *testing.T) {
			// A deadline cannot be set off once IMS has the request, so each try gives the request
			// twice the time, until one reached IMS before its deadline passed.
			for timeout := 100 * time.Millisecond; timeout < hang/2; timeout *= 2 {
				front := startFront(t, env, 2*hang)
				abandoned := env.abandoned(op.route)
				ctx, cancel := context.WithTimeout(context.Background(), timeout)
				err := op.call(ctx, front.region)
				cancel()
				require.ErrorIs(t, err, context.DeadlineExceeded)
				front.close()
				if front.reached() {
					assert.Equal(t, abandoned+1, env.abandoned(op.route), "IMS saw the client hang up")
					return
				}
			}
			t.Fatal("no request reached IMS before its deadline")
		})
	}
}

// front serves the emulator's home region through a server of the test's own, which tells when a
// request reaches IMS, and a client that calls it.
type front struct {
	server  *httptest.Server
	arrived chan struct{} // receives once, when the first request reaches IMS
	region  *imsclient.RegionClient
}

func startFront(t *testing.T, env *emuEnv, requestTimeout time.Duration) *front {
	t.Helper()
	f := &front{arrived: make(chan struct{}, 1)}
	ims := env.srv.Handler(homeRegion.Name)
	f.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case f.arrived <- struct{}{}:
		default:
		}
		ims.ServeHTTP(w, r)
	}))
	t.Cleanup(f.server.Close)
	imsclient.ClearSDKEnv(t)
	c, err := imsclient.New(imsclient.Config{Region: homeRegion.Name, ProjectID: homeRegion.ProjectID, AK: imsemu.DefaultAK,
		SK: imsemu.DefaultSK, Endpoints: map[string]string{homeRegion.Name: f.server.URL}, RequestTimeout: requestTimeout})
	require.NoError(t, err)
	f.region = c.Home()
	return f
}

// close returns once IMS has answered, or given up on, every request that reached it.
func (f *front) close() { f.server.Close() }

// reached reports whether a request reached IMS; it is final once close has returned.
func (f *front) reached() bool {
	select {
	case <-f.arrived:
		return true
	default:
		return false
	}
}

// Config.RequestTimeout bounds each exchange even when the caller's ctx has no deadline.
func TestRequestTimeout(t *testing.T) {
	env := startEmu(t, imsemu.Config{Faults: imsemu.Faults{Routes: map[string]imsemu.RouteFault{
		imsemu.RouteListImages: {Latency: 30 * time.Second},
	}}})
	imsclient.ClearSDKEnv(t)
	c, err := imsclient.New(imsclient.Config{Region: homeRegion.Name, ProjectID: homeRegion.ProjectID, AK: imsemu.DefaultAK,
		SK: imsemu.DefaultSK, Endpoints: env.srv.Endpoints(), RequestTimeout: 200 * time.Millisecond})
	require.NoError(t, err)

	_, err = c.Home().GetImage(context.Background(), seedImageID)
	var e *imsapi.Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, imsapi.ClassTransient, e.Class)
	assert.Equal(t, 0, e.Status)
	assert.False(t, errors.Is(err, context.Canceled), "a timeout is not a cancellation")
}

func TestCancelledContextSendsNothing(t *testing.T) {
	env := startEmu(t, imsemu.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := env.home.CopyInRegion(ctx, imsapi.CopyRequest{SourceImageID: seedImageID, Name: "never"})
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 0, env.requests(""))
}

func TestConnectionRefusedIsTransient(t *testing.T) {
	env := startEmu(t, imsemu.Config{})
	endpoints := env.srv.Endpoints()
	env.srv.Close()
	imsclient.ClearSDKEnv(t)
	c, err := imsclient.New(imsclient.Config{Region: homeRegion.Name, ProjectID: homeRegion.ProjectID, AK: imsemu.DefaultAK,
		SK: imsemu.DefaultSK, Endpoints: endpoints})
	require.NoError(t, err)

	_, err = c.Home().GetJob(context.Background(), jobIDSample)
	var e *imsapi.Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, imsapi.ClassTransient, e.Class)
	assert.Equal(t, 0, e.Status)
	assert.Error(t, e.Err)
}

// The log shows each exchange and never a credential.
func TestLogShowsExchangesNotSecrets(t *testing.T) {
	env := startEmu(t, imsemu.Config{})
	ctx := context.Background()
	jobID := copySeed(t, env.home, "logged")
	_, err := env.home.GetJob(ctx, jobID)
	require.NoError(t, err)
	bad := env.newClient(t, imsemu.DefaultAK, "wrong-secret-key")
	_, err = bad.Home().GetImage(ctx, seedImageID)
	require.Error(t, err)

	lines := env.logs.all()
	require.Len(t, lines, 3)
	assert.Regexp(t, `^ims cn-north-4 POST /v1/cloudimages/`+seedImageID+`/copy: 200 request=[0-9a-f]{32} in `, lines[0])
	assert.Regexp(t, `^ims cn-north-4 GET /v1/cloudimages/job/`+jobID+`: 200 request=[0-9a-f]{32} in `, lines[1])
	assert.Regexp(t, `^ims cn-north-4 GET /v2/cloudimages: 401 request=`, lines[2])
	all := strings.Join(lines, "\n")
	for _, secret := range []string{imsemu.DefaultAK, imsemu.DefaultSK, "wrong-secret-key"} {
		assert.NotContains(t, all, secret)
	}
}
