package imsclient_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imscopy/imscopy/imsapi"
	"github.com/imscopy/imscopy/imsapi/imsclient"
	"github.com/imscopy/imscopy/imsapi/imsemu"
	"github.com/imscopy/imscopy/internal/testkit"
)

// Every error class as the emulator produces it on the wire, classified by the client. Each fault
// is tried on a POST (CopyInRegion) and on a GET (GetImage).
func TestInjectedErrorsAreClassified(t *testing.T) {
	tests := []struct {
		name       string
		fault      imsemu.RouteFault
		retryAfter time.Duration // the emulator's Retry-After knob
		wantStatus int
		wantCode   string
		wantClass  imsapi.Class
		wantAfter  time.Duration
	}{
		{"bad name format", fault(400, "IMG.0003"), 0, 400, "IMG.0003", imsapi.ClassInvalid, 0},
		{"encrypted cross-region", fault(400, "IMG.0143"), 0, 400, "IMG.0143", imsapi.ClassInvalid, 0},
		{"image not found", fault(404, "IMG.0027"), 0, 404, "IMG.0027", imsapi.ClassNotFound, 0},
		{"forbidden by the gateway", fault(403, "APIGW.0302"), 0, 403, "APIGW.0302", imsapi.ClassForbidden, 0},
		{"no access to the KMS key", fault(400, "IMG.0099"), 0, 400, "IMG.0099", imsapi.ClassForbidden, 0},
		{"bad signature", fault(401, "APIGW.0301"), 0, 401, "APIGW.0301", imsapi.ClassAuth, 0},
		{"private image quota", fault(400, "IMG.0015"), 0, 400, "IMG.0015", imsapi.ClassQuota, 0},
		{"gateway throttle", fault(429, "APIGW.0308"), 0, 429, "APIGW.0308", imsapi.ClassThrottled, 0},
		{"gateway throttle with Retry-After", fault(429, "APIGW.0308"), 3 * time.Second, 429, "APIGW.0308", imsapi.ClassThrottled, 3 * time.Second},
		{"IMS task flow control", fault(400, "IMG.0060"), 0, 400, "IMG.0060", imsapi.ClassThrottled, 0},
		{"cross-region concurrency", fault(400, "IMG.0149"), 0, 400, "IMG.0149", imsapi.ClassThrottled, 0},
		{"image being built", fault(400, "IMG.0090"), 0, 400, "IMG.0090", imsapi.ClassBusy, 0},
		{"internal error", fault(500, ""), 0, 500, "", imsapi.ClassTransient, 0},
		{"service unavailable", fault(503, ""), 0, 503, "", imsapi.ClassTransient, 0},
		{"lost response", imsemu.RouteFault{LostResponseRate: 1}, 0, 0, "", imsapi.ClassTransient, 0},
	}
	env := startEmu(t, imsemu.Config{})
	ops := []struct {
		name string
		call func(context.Context, *imsclient.RegionClient) error
	}{
		{"CopyInRegion", func(ctx context.Context, r *imsclient.RegionClient) error {
			_, err := r.CopyInRegion(ctx, imsapi.CopyRequest{SourceImageID: seedImageID, Name: "classified"})
			return err
		}},
		{"GetImage", func(ctx context.Context, r *imsclient.RegionClient) error {
			_, err := r.GetImage(ctx, seedImageID)
			return err
		}},
	}
	for _, tc := range tests {
		for _, op := range ops {
			t.Run(tc.name+"/"+op.name, func(t *testing.T) {
				env.srv.SetFaults(imsemu.Faults{
					Routes:     map[string]imsemu.RouteFault{"*": tc.fault},
					RetryAfter: tc.retryAfter,
				})
				err := op.call(context.Background(), env.home)
				var e *imsapi.Error
				require.ErrorAs(t, err, &e)
				assert.Equal(t, op.name, e.Op)
				assert.Equal(t, tc.wantStatus, e.Status)
				if tc.wantCode != "" {
					assert.Equal(t, tc.wantCode, e.Code)
				}
				assert.Equal(t, tc.wantClass, e.Class)
				assert.Equal(t, tc.wantAfter, e.RetryAfter)
				assert.NotEmpty(t, e.Message)
				if tc.wantStatus != 0 {
					assert.Regexp(t, `^[0-9a-f]{32}$`, e.RequestID, "X-Request-Id of the answer")
				} else {
					assert.Error(t, e.Err, "the transport error is kept")
				}
			})
		}
	}
}

func fault(status int, code string) imsemu.RouteFault {
	return imsemu.RouteFault{ErrorRate: 1, ErrorStatus: status, ErrorCode: code}
}

// The same classes when the emulator's own rules refuse a request, not an injected fault.
func TestEmulatorRefusalsAreClassified(t *testing.T) {
	ctx := context.Background()
	copyNamed := func(name, key string) func(*emuEnv) error {
		return func(env *emuEnv) error {
			_, err := env.home.CopyInRegion(ctx, imsapi.CopyRequest{SourceImageID: seedImageID, Name: name, CMKID: key})
			return err
		}
	}
	crossCopy := func(env *emuEnv, source string) error {
		_, err := env.home.CopyCrossRegion(ctx, imsapi.CrossRegionCopyRequest{SourceImageID: source, Name: "cross",
			TargetRegion: eastRegion.Name, AgencyName: "ims_copy_image"})
		return err
	}
	tests := []struct {
		name      string
		cfg       imsemu.Config
		setup     func(*testing.T, *emuEnv)
		call      func(*emuEnv) error
		wantCode  string
		wantClass imsapi.Class
	}{
		{
			name: "unknown source image", wantCode: "IMG.0027", wantClass: imsapi.ClassNotFound,
			call: func(env *emuEnv) error {
				_, err := env.home.CopyInRegion(ctx, imsapi.CopyRequest{SourceImageID: seedKeyID, Name: "x"})
				return err
			},
		},
		{
			name: "unknown KMS key", wantCode: "IMG.0095", wantClass: imsapi.ClassInvalid,
			call: copyNamed("with-missing-key", "00000000-0000-4000-8000-000000000000"),
		},
		{
			name: "duplicate name refused", wantCode: "IMG.0009", wantClass: imsapi.ClassInvalid,
			cfg:   imsemu.Config{Faults: imsemu.Faults{DuplicateNameError: true}},
			setup: func(t *testing.T, env *emuEnv) { copySeed(t, env.home, "twin") },
			call:  copyNamed("twin", ""),
		},
		{
			name: "private image quota", wantCode: "IMG.0015", wantClass: imsapi.ClassQuota,
			cfg:   imsemu.Config{Limits: imsemu.Limits{PrivateImagesPerProject: 2}}, // the seed is one
			setup: func(t *testing.T, env *emuEnv) { copySeed(t, env.home, "fills-the-quota") },
			call:  copyNamed("over-quota", ""),
		},
		{
			// IMS's clock stands still in these two, so the first copy runs when the second is asked for.
			name: "running jobs limit", wantCode: "IMG.0060", wantClass: imsapi.ClassThrottled,
			cfg:   imsemu.Config{Limits: imsemu.Limits{RunningJobsPerProject: 1}, JobDuration: time.Minute, Now: testkit.NewClock(time.Now()).Now},
			setup: func(t *testing.T, env *emuEnv) { copySeed(t, env.home, "running") },
			call:  copyNamed("waits-its-turn", ""),
		},
		{
			name: "cross-region concurrency", wantCode: "IMG.0149", wantClass: imsapi.ClassThrottled,
			cfg: imsemu.Config{Limits: imsemu.Limits{CrossRegionCopiesPerTenant: 1}, JobDuration: time.Minute, Now: testkit.NewClock(time.Now()).Now},
			setup: func(t *testing.T, env *emuEnv) {
				require.NoError(t, crossCopy(env, seedImageID))
			},
			call: func(env *emuEnv) error { return crossCopy(env, seedImageID) },
		},
		{
			name: "encrypted image across regions", wantCode: "IMG.0143", wantClass: imsapi.ClassInvalid,
			call: func(env *emuEnv) error {
				jobID, err := env.home.CopyInRegion(ctx, imsapi.CopyRequest{SourceImageID: seedImageID, Name: "sealed", CMKID: seedKeyID})
				if err != nil {
					return err
				}
				return crossCopy(env, waitJob(t, env.home, jobID).ImageID)
			},
		},
		{
			name: "gateway throttle", wantCode: "APIGW.0308", wantClass: imsapi.ClassThrottled,
			cfg: imsemu.Config{Faults: imsemu.Faults{ThrottlePerSecond: 0.001}},
			setup: func(t *testing.T, env *emuEnv) {
				_, err := env.home.GetImage(ctx, seedImageID) // takes the only token
				require.NoError(t, err)
			},
			call: func(env *emuEnv) error { _, err := env.home.GetImage(ctx, seedImageID); return err },
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := startEmu(t, tc.cfg)
			if tc.setup != nil {
				tc.setup(t, env)
			}
			err := tc.call(env)
			var e *imsapi.Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, tc.wantCode, e.Code)
			assert.Equal(t, tc.wantClass, e.Class)
			assert.NotEmpty(t, e.RequestID)
		})
	}
}

// The SDK's signer and the emulator's verifier agree (every other test depends on it); a wrong
// secret is refused like the gateway refuses it, and the secret appears nowhere.
func TestSignatureInterop(t *testing.T) {
	env := startEmu(t, imsemu.Config{})
	ctx := context.Background()
	_, err := env.home.GetImage(ctx, seedImageID)
	require.NoError(t, err, "the SDK's signature verifies")

	const wrongSK = "not-the-emulator-secret"
	for name, c := range map[string]*imsclient.Client{
		"wrong SK": env.newClient(t, imsemu.DefaultAK, wrongSK),
		"wrong AK": env.newClient(t, "UNKNOWNAK000000000000", imsemu.DefaultSK),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := c.Home().CopyInRegion(ctx, imsapi.CopyRequest{SourceImageID: seedImageID, Name: "unsigned"})
			var e *imsapi.Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, 401, e.Status)
			assert.Equal(t, "APIGW.0301", e.Code)
			assert.Equal(t, imsapi.ClassAuth, e.Class)
			assert.NotContains(t, err.Error(), wrongSK)
			assert.NotContains(t, err.Error(), imsemu.DefaultSK)
		})
	}
	unsigned, err := env.home.ListImages(ctx, imsapi.ListFilter{Name: "unsigned"})
	require.NoError(t, err)
	assert.Empty(t, unsigned, "a refused request has no effect")
}
