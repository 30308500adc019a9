package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imscopy/imscopy/imsapi/imsemu"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseJobDuration(t *testing.T) {
	lo, hi, err := parseJobDuration("20s")
	require.NoError(t, err)
	assert.Equal(t, 20*time.Second, lo)
	assert.Zero(t, hi)
	lo, hi, err = parseJobDuration("10s-1m")
	require.NoError(t, err)
	assert.Equal(t, 10*time.Second, lo)
	assert.Equal(t, time.Minute, hi)
	for _, bad := range []string{"", "soon", "0s", "30s-10s", "10s-x"} {
		_, _, err := parseJobDuration(bad)
		assert.Error(t, err, bad)
	}
}

func TestParseFlags(t *testing.T) {
	opts, err := parseFlags([]string{"-addr", "127.0.0.1:9800", "-region", "cn-north-4,ap-southeast-1",
		"-error-rate", "0.5", "-error-code", "IMG.0060", "-error-status", "400", "-fault-route", imsemu.RouteCopyInRegion,
		"-throttle", "-1", "-sk", "custom"}, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, []string{"127.0.0.1:9800", "127.0.0.1:9801"}, opts.addrs)
	assert.Equal(t, imsemu.DefaultRegions[0], opts.config.Regions[0])
	assert.Regexp(t, "^[0-9a-f]{32}$", opts.config.Regions[1].ProjectID)
	assert.Equal(t, imsemu.RouteFault{ErrorRate: 0.5, ErrorStatus: 400, ErrorCode: "IMG.0060"}, opts.config.Faults.Routes[imsemu.RouteCopyInRegion])
	assert.False(t, opts.defaultSK)

	for _, bad := range [][]string{
		{"-project", "0b3f6ab0e2a64c2c9f2c4c6f4c1d7e01"},    // one project for two regions
		{"-addr", "localhost"},                              // no port
		{"-error-rate", "2"},                                // not a rate
		{"-fault-route", "NoSuchRoute", "-error-rate", "1"}, // unknown route
		{"stray"},
	} {
		_, err := parseFlags(bad, io.Discard)
		assert.Error(t, err, bad)
	}
}

func TestParseAccountFlag(t *testing.T) {
	const p1, p2 = "b0b0b0b0b0b0b0b0b0b0b0b0b0b0b001", "b0b0b0b0b0b0b0b0b0b0b0b0b0b0b002"
	opts, err := parseFlags([]string{"-account", "AK2:sk-two:" + p1 + "," + p2, "-account", "AK3:sk-three"}, io.Discard)
	require.NoError(t, err)
	require.Len(t, opts.config.Accounts, 2)
	assert.Equal(t, imsemu.Account{AK: "AK2", SK: "sk-two", Projects: map[string][]string{"cn-north-4": {p1}, "cn-east-3": {p2}}},
		opts.config.Accounts[0])
	third := opts.config.Accounts[1]
	assert.Equal(t, "AK3", third.AK)
	assert.Regexp(t, "^[0-9a-f]{32}$", third.Projects["cn-east-3"][0], "derived project IDs")
	assert.NotEqual(t, third.Projects["cn-north-4"], third.Projects["cn-east-3"])
	_, err = imsemu.New(opts.config)
	require.NoError(t, err, "the parsed accounts are a valid configuration")

	for _, bad := range [][]string{
		{"-account", "AK2"},                 // no SK
		{"-account", ":sk"},                 // no AK
		{"-account", "AK2:secret-sk:" + p1}, // one project for two regions
	} {
		_, err := parseFlags(bad, io.Discard)
		require.Error(t, err, bad)
		assert.NotContains(t, err.Error(), "secret-sk", "the SK is never repeated")
	}
}

// The program as scripts use it: wait for READY, read IMS_ENDPOINTS, stop with a signal's
// context, find the state saved.
func TestRunPrintsEndpointsAndStopsCleanly(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state.json")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-state", state}, w, io.Discard)
		w.Close()
	}()

	lines := map[string]string{}
	scanner := bufio.NewScanner(out)
	for scanner.Scan() {
		line := scanner.Text()
		if line == "READY" {
			break
		}
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			lines[k] = v
		}
	}
	go io.Copy(io.Discard, out)
	assert.Equal(t, imsemu.DefaultAK, lines["HUAWEICLOUD_SDK_AK"])
	assert.Equal(t, imsemu.DefaultSK, lines["HUAWEICLOUD_SDK_SK"], "the built-in SK is public, so it is printed")
	assert.Equal(t, imsemu.DefaultRegions[0].ProjectID, lines["HUAWEICLOUD_SDK_PROJECT_ID"])
	endpoints := map[string]string{}
	for pair := range strings.SplitSeq(lines["IMS_ENDPOINTS"], ",") {
		region, url, _ := strings.Cut(pair, "=")
		endpoints[region] = url
	}
	require.Len(t, endpoints, 2)
	assert.Equal(t, "cn-east-3="+imsemu.DefaultRegions[1].ProjectID, lines["IMS_PROJECTS"],
		"a worker needs the other regions' project IDs as much as their endpoints")

	images, err := imsemu.AdminClient{BaseURL: endpoints["cn-east-3"]}.Images(ctx)
	require.NoError(t, err)
	require.Len(t, images, 1)
	assert.Equal(t, imsemu.SeedImageID, images[0].ID)
	resp, err := http.Get(endpoints["cn-north-4"] + "/v2/cloudimages")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "the IMS API needs credentials")

	cancel()
	require.NoError(t, <-done)
	_, err = os.Stat(state)
	assert.NoError(t, err, "the state is saved on the way out")
}
