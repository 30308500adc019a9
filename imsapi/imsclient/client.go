package imsclient

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/config"
	imsregion "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ims/v2/region"
	"github.com/imscopy/imscopy/imsapi"
)

// Client reaches IMS in the home region and in every region Config.Projects names. It is safe for
// concurrent use; build one per process.
type Client struct {
	home    *RegionClient
	regions map[string]*RegionClient
}

// RegionClient calls IMS in one region with that region's project ID.
type RegionClient struct {
	name      string
	projectID string
	endpoint  string
	cred      *basic.Credentials // read-only after New, so shared by concurrent calls
	transport *http.Transport    // the region's connection pool
	timeout   time.Duration
	logf      func(format string, args ...any)
	observe   func(op string, class imsapi.Class, d time.Duration)
}

// New checks the configuration and prepares one client per known region. It makes no network call:
// the project IDs are given, so the SDK never asks IAM for them.
func New(cfg Config) (*Client, error) {
	cfg, cred, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	projects := map[string]string{cfg.Region: cfg.ProjectID}
	for region, project := range cfg.Projects {
		if region != cfg.Region {
			projects[region] = project
		}
	}

	c := &Client{regions: make(map[string]*RegionClient, len(projects))}
	for region, project := range projects {
		rc, err := newRegionClient(cfg, cred, region, project)
		if err != nil {
			return nil, err
		}
		c.regions[region] = rc
	}
	c.home = c.regions[cfg.Region]
	return c, nil
}

func newRegionClient(cfg Config, cred credentials, region, project string) (*RegionClient, error) {
	endpoint, err := endpointOf(cfg.Endpoints, region)
	if err != nil {
		return nil, err
	}
	sdkCred, err := basic.NewCredentialsBuilder().
		WithAk(cred.ak).
		WithSk(cred.sk).
		WithSecurityToken(cred.token).
		WithProjectId(project).
		SafeBuild()
	if err != nil {
		// The SDK's message names only which key is empty, never its value.
		return nil, fmt.Errorf("imsclient: credentials for %s: %w", region, err)
	}
	return &RegionClient{
		name:      region,
		projectID: project,
		endpoint:  endpoint,
		cred:      sdkCred,
		transport: newRegionTransport(),
		timeout:   cfg.RequestTimeout,
		logf:      cfg.Logger,
		observe:   cfg.Observe,
	}, nil
}

// endpointOf prefers the override, then the SDK's region table (which also honours the SDK's own
// region variables and profile).
func endpointOf(overrides map[string]string, region string) (string, error) {
	if e, ok := overrides[region]; ok {
		return strings.TrimSuffix(e, "/"), nil
	}
	r, err := imsregion.SafeValueOf(region)
	if err != nil || len(r.Endpoints) == 0 {
		return "", fmt.Errorf("imsclient: region %s is not in the SDK's IMS region table: "+
			"give its endpoint in Config.Endpoints (IMS_ENDPOINTS=%s=https://...)", region, region)
	}
	return strings.TrimSuffix(r.Endpoints[0], "/"), nil
}

// Home is the client of the home region.
func (c *Client) Home() *RegionClient { return c.home }

// Region is the client of a region; it must be the home region or one of Config.Projects.
func (c *Client) Region(name string) (*RegionClient, error) {
	if rc, ok := c.regions[name]; ok {
		return rc, nil
	}
	known := make([]string, 0, len(c.regions))
	for r := range c.regions {
		known = append(known, r)
	}
	sort.Strings(known)
	return nil, fmt.Errorf("imsclient: no project ID for region %q (configured: %s): give the worker its project ID in "+
		"IMS_PROJECTS (e.g. IMS_PROJECTS=%s=<project ID>), and its endpoint in IMS_ENDPOINTS unless IMS's public one serves",
		name, strings.Join(known, ", "), name)
}

// InProject is this region's client acting in another project of the same account (a share's
// recipient): the same credentials and connection pool, another X-Project-Id.
func (r *RegionClient) InProject(projectID string) (*RegionClient, error) {
	if err := imsapi.ValidateProjectID("project_id", projectID); err != nil {
		return nil, err
	}
	if projectID == r.projectID {
		return r, nil
	}
	cred := *r.cred
	cred.ProjectId = projectID
	other := *r
	other.projectID, other.cred = projectID, &cred
	return &other, nil
}

// Name is the region ID, e.g. cn-north-4.
func (r *RegionClient) Name() string { return r.name }

// ProjectID is the project the region's calls act in.
func (r *RegionClient) ProjectID() string { return r.projectID }

// httpConfig is the SDK's HTTP configuration for one call: the region's pool, reached through the
// call's RoundTripper, and the per-request timeout.
func (r *RegionClient) httpConfig(rt http.RoundTripper) *config.HttpConfig {
	return config.DefaultHttpConfig().
		WithTimeout(r.timeout).
		WithHttpRoundTripper(rt).
		// Appended to the SDK's own user-agent, so that IMS's and the emulator's logs tell imscopy apart.
		WithUserAgent("imscopy")
}
