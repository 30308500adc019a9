package imsclient_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imscopy/imscopy/imsapi"
	"github.com/imscopy/imscopy/imsapi/imsclient"
	"github.com/imscopy/imscopy/imsapi/imsemu"
)

// observation is one call of Config.Observe.
type observation struct {
	op    string
	class imsapi.Class
}

// Config.Observe sees every operation that went to IMS, once, with the class of its failure or ""
// for a success; an operation refused before anything was sent is not an IMS call and is not seen.
func TestObserveSeesEveryOperationWithItsClass(t *testing.T) {
	env := startEmu(t, imsemu.Config{})
	var mu sync.Mutex
	var seen []observation
	observe := func(op string, class imsapi.Class, d time.Duration) {
		assert.GreaterOrEqual(t, d, time.Duration(0))
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, observation{op, class})
	}
	client := func(sk string) *imsclient.RegionClient {
		c, err := imsclient.New(imsclient.Config{
			Region: homeRegion.Name, ProjectID: homeRegion.ProjectID,
			AK: imsemu.DefaultAK, SK: sk, Endpoints: env.srv.Endpoints(), Observe: observe,
		})
		require.NoError(t, err)
		return c.Home()
	}
	ctx := context.Background()

	_, err := client(imsemu.DefaultSK).GetImage(ctx, imsemu.SeedImageID)
	require.NoError(t, err)
	_, err = client("not-the-secret-key").GetImage(ctx, imsemu.SeedImageID)
	require.Equal(t, imsapi.ClassAuth, imsapi.ClassOf(err))
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = client(imsemu.DefaultSK).GetImage(cancelled, imsemu.SeedImageID)
	require.Error(t, err)

	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []observation{{"GetImage", ""}, {"GetImage", imsapi.ClassAuth}}, seen)
}
