// Package emutest starts the IMS emulator for tests and configures what reaches it: an IMS
// client (imsclient), or a worker's environment. Every test that talks to IMS over real HTTP on
// 127.0.0.1 sets up the same way through it, so the emulator's regions, projects and credentials
// are written once.
package emutest

import (
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/imscopy/imscopy/imsapi/imsclient"
	"github.com/imscopy/imscopy/imsapi/imsemu"
)

// The emulator's two default regions: Home holds the seed image; East is the other project, the
// target of cross-region copies.
var (
	Home = imsemu.DefaultRegions[0]
	East = imsemu.DefaultRegions[1]
)

// Start runs the emulator configured as cfg on 127.0.0.1 and closes it when the test ends.
func Start(t testing.TB, cfg imsemu.Config) *imsemu.Server {
	t.Helper()
	srv, err := imsemu.Start(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

// ClientConfig is the imsclient configuration that reaches srv: Home as the home region, East as the
// other project, signed with the emulator's default credentials. Tests change what they test.
func ClientConfig(srv *imsemu.Server) imsclient.Config {
	return imsclient.Config{Region: Home.Name, ProjectID: Home.ProjectID, Projects: map[string]string{East.Name: East.ProjectID},
		AK: imsemu.DefaultAK, SK: imsemu.DefaultSK, Endpoints: srv.Endpoints()}
}

// Client is an imsclient client of cfg; the test fails when imsclient refuses the configuration.
func Client(t testing.TB, cfg imsclient.Config) *imsclient.Client {
	t.Helper()
	c, err := imsclient.New(cfg)
	require.NoError(t, err)
	return c
}

// Requests counts the requests srv received on a route (all regions and statuses); route ""
// counts every route.
func Requests(srv *imsemu.Server, route string) int {
	n := 0
	for _, c := range srv.Counts() {
		if route == "" || c.Route == route {
			n += c.Count
		}
	}
	return n
}

// Endpoints is srv's endpoints as IMS_ENDPOINTS takes them: "region=url,...", sorted.
func Endpoints(srv *imsemu.Server) string {
	var pairs []string
	for region, url := range srv.Endpoints() {
		pairs = append(pairs, region+"="+url)
	}
	slices.Sort(pairs)
	return strings.Join(pairs, ",")
}

// WorkerVars are the variables of a worker whose home region is srv's Home, signing with ak and sk
// (those srv was started with).
func WorkerVars(srv *imsemu.Server, ak, sk string) map[string]string {
	return map[string]string{
		"IMS_REGION":           Home.Name,
		"IMS_ENDPOINTS":        Endpoints(srv),
		imsclient.EnvAK:        ak,
		imsclient.EnvSK:        sk,
		imsclient.EnvProjectID: Home.ProjectID,
	}
}
