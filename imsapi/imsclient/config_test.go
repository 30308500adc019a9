package imsclient

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imscopy/imscopy/imsapi"
	"github.com/imscopy/imscopy/internal/testkit"
)

const (
	testAK   = "UNITTESTAK00000000000"
	testSK   = "unit-test-secret-that-must-not-leak"
	projectA = "0b3f6ab0e2a64c2c9f2c4c6f4c1d7e01"
	projectB = "5c2e8f0d4a7b4e1f9c3d2b6a8e0f1a23"
)

// ClearSDKEnv makes a test independent of the machine's HUAWEICLOUD_SDK_* variables: none of them
// fills a value the test left out. Exported for the package's external tests too.
func ClearSDKEnv(t *testing.T) {
	testkit.Environ(t, []string{EnvAK, EnvSK, EnvSecurityToken, EnvProjectID}, nil)
}

func TestNewRefusesIncompleteConfig(t *testing.T) {
	good := Config{Region: "cn-north-4", ProjectID: projectA, AK: testAK, SK: testSK}
	tests := []struct {
		name    string
		edit    func(*Config)
		env     map[string]string
		wantErr string
	}{
		{"no region", func(c *Config) { c.Region = "" }, nil, "Config.Region"},
		{"bad region", func(c *Config) { c.Region = "North" }, nil, "Config.Region"},
		{"no credentials", func(c *Config) { c.AK, c.SK = "", "" }, nil, EnvAK},
		{"AK without SK", func(c *Config) { c.SK = "" }, nil, EnvSK},
		{"SK without AK", func(c *Config) { c.AK = "" }, nil, EnvAK},
		{"env AK without SK", func(c *Config) { c.AK, c.SK = "", "" }, map[string]string{EnvAK: testAK}, EnvSK},
		{"no project", func(c *Config) { c.ProjectID = "" }, nil, EnvProjectID},
		{"bad project", func(c *Config) { c.ProjectID = "proj" }, nil, "Config.ProjectID"},
		{"bad other project", func(c *Config) { c.Projects = map[string]string{"cn-east-3": "x"} }, nil, "Config.Projects[cn-east-3]"},
		{"home project given twice", func(c *Config) { c.Projects = map[string]string{"cn-north-4": projectB} }, nil, "Config.Projects[cn-north-4]"},
		{"unknown region", func(c *Config) { c.Region = "xx-nowhere-1" }, nil, "Config.Endpoints"},
		{"unknown other region", func(c *Config) { c.Projects = map[string]string{"xx-nowhere-1": projectB} }, nil, "xx-nowhere-1"},
		{"bad endpoint", func(c *Config) { c.Endpoints = map[string]string{"cn-north-4": "localhost:1"} }, nil, "Config.Endpoints[cn-north-4]"},
		{"negative timeout", func(c *Config) { c.RequestTimeout = -time.Second }, nil, "Config.RequestTimeout"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ClearSDKEnv(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			cfg := good
			tc.edit(&cfg)
			c, err := New(cfg)
			require.Error(t, err)
			assert.Nil(t, c)
			assert.Contains(t, err.Error(), tc.wantErr)
			assert.NotContains(t, err.Error(), testSK)
		})
	}
}

func TestNewTakesCredentialsFromEnvironment(t *testing.T) {
	ClearSDKEnv(t)
	t.Setenv(EnvAK, testAK)
	t.Setenv(EnvSK, testSK)
	t.Setenv(EnvSecurityToken, "session-token")
	t.Setenv(EnvProjectID, projectA)
	c, err := New(Config{Region: "cn-north-4"})
	require.NoError(t, err)
	home := c.Home()
	assert.Equal(t, "cn-north-4", home.Name())
	assert.Equal(t, projectA, home.ProjectID())
	assert.Equal(t, testAK, home.cred.AK)
	assert.Equal(t, testSK, home.cred.SK)
	assert.Equal(t, "session-token", home.cred.SecurityToken)
	assert.Equal(t, projectA, home.cred.ProjectId, "the SDK must never ask IAM for the project")
	assert.Equal(t, imsapi.DefaultRequestTimeout, home.timeout)
}

func TestNewExplicitCredentialsWinOverEnvironment(t *testing.T) {
	ClearSDKEnv(t)
	t.Setenv(EnvAK, "ENVAK")
	t.Setenv(EnvSK, "envsk")
	c, err := New(Config{Region: "cn-north-4", ProjectID: projectA, AK: testAK, SK: testSK})
	require.NoError(t, err)
	assert.Equal(t, testAK, c.Home().cred.AK)
	assert.Equal(t, testSK, c.Home().cred.SK)
}

func TestRegions(t *testing.T) {
	ClearSDKEnv(t)
	c, err := New(Config{
		Region: "cn-north-4", ProjectID: projectA, AK: testAK, SK: testSK,
		Projects:       map[string]string{"cn-east-3": projectB, "private-1": projectB},
		Endpoints:      map[string]string{"private-1": "https://ims.private.example:8443/"},
		RequestTimeout: 5 * time.Second,
	})
	require.NoError(t, err)

	assert.Equal(t, "https://ims.cn-north-4.myhuaweicloud.com", c.Home().endpoint, "from the SDK's region table")
	east, err := c.Region("cn-east-3")
	require.NoError(t, err)
	assert.Equal(t, projectB, east.ProjectID())
	assert.Equal(t, "https://ims.cn-east-3.myhuaweicloud.com", east.endpoint)
	private, err := c.Region("private-1")
	require.NoError(t, err)
	assert.Equal(t, "https://ims.private.example:8443", private.endpoint, "the override wins")
	assert.NotSame(t, c.Home().transport, east.transport, "one connection pool per region")
	assert.Equal(t, 5*time.Second, east.timeout)

	home, err := c.Region("cn-north-4")
	require.NoError(t, err)
	assert.Same(t, c.Home(), home)

	_, err = c.Region("ap-southeast-1")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "IMS_PROJECTS=ap-southeast-1=<project ID>", "the setting a user can change, not Go code")
}

// BenchmarkSDKClientPerCall measures what building the SDK's client costs on every call (the price
// of binding a ctx through its RoundTripper).
func BenchmarkSDKClientPerCall(b *testing.B) {
	c, err := New(Config{Region: "cn-north-4", ProjectID: projectA, AK: testAK, SK: testSK})
	require.NoError(b, err)
	r := c.Home()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.sdkClient(&callTransport{base: r.transport}); err != nil {
			b.Fatal(err)
		}
	}
}
