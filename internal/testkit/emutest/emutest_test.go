package emutest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imscopy/imscopy/imsapi/imsclient"
	"github.com/imscopy/imscopy/imsapi/imsemu"
)

func TestAClientOfTheConfigReachesTheEmulator(t *testing.T) {
	srv := Start(t, imsemu.Config{JobDuration: time.Second})
	c := Client(t, ClientConfig(srv))
	img, err := c.Home().GetImage(context.Background(), imsemu.SeedImageID)
	require.NoError(t, err)
	assert.Equal(t, Home.ProjectID, img.Owner)
	_, err = c.Region(East.Name)
	assert.NoError(t, err, "the other project is configured")
}

func TestWorkerVarsNameEveryRegion(t *testing.T) {
	srv := Start(t, imsemu.Config{})
	vars := WorkerVars(srv, "AK", "SK")
	assert.Equal(t, Home.Name, vars["IMS_REGION"])
	assert.Equal(t, "AK", vars[imsclient.EnvAK])
	assert.Equal(t, "SK", vars[imsclient.EnvSK])
	assert.Equal(t, Home.ProjectID, vars[imsclient.EnvProjectID])
	pairs := strings.Split(vars["IMS_ENDPOINTS"], ",")
	require.Len(t, pairs, len(srv.Endpoints()))
	for _, p := range pairs {
		region, url, ok := strings.Cut(p, "=")
		require.True(t, ok, p)
		assert.Equal(t, srv.Endpoints()[region], url)
	}
}
