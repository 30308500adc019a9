package imsclient

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/imscopy/imscopy/imsapi"
)

// Config says where IMS is and who calls it.
type Config struct {
	Region    string            // home region, e.g. cn-north-4
	ProjectID string            // project ID of the home region
	Projects  map[string]string // project IDs of other regions (cross-region targets, accept in other regions)
	// AK, SK and SecurityToken sign every request. When AK and SK are both empty they are taken from
	// HUAWEICLOUD_SDK_AK, HUAWEICLOUD_SDK_SK and HUAWEICLOUD_SDK_SECURITY_TOKEN, the SDK's own variables.
	AK, SK, SecurityToken string
	// Endpoints overrides the base URL of a region (the emulator, a private cloud); other regions use
	// the SDK's region table.
	Endpoints map[string]string
	// RequestTimeout bounds one HTTP exchange; 0 means DefaultRequestTimeout.
	RequestTimeout time.Duration
	// Logger, when set, receives one line per HTTP exchange (method, path, status, request ID, duration).
	// It never receives credentials or signatures.
	Logger func(format string, args ...any)
	// Observe, when set, is called once per operation that went to IMS (GetJob, CopyInRegion, ...)
	// with the class of its failure, or "" when IMS answered with success, and how long the whole
	// operation took (the SDK's own retries of dead keep-alive connections included). Metrics use it.
	Observe func(op string, class imsapi.Class, d time.Duration)
}

// The SDK's environment variables (core/auth/provider/env_provider.go), read the same way so that a
// machine configured for hcloud tools works unchanged.
const (
	EnvAK            = "HUAWEICLOUD_SDK_AK"
	EnvSK            = "HUAWEICLOUD_SDK_SK"
	EnvSecurityToken = "HUAWEICLOUD_SDK_SECURITY_TOKEN"
	EnvProjectID     = "HUAWEICLOUD_SDK_PROJECT_ID"
)

// credentials are the resolved signing secrets. Kept apart from Config so that nothing prints them by
// accident: the type has no String method that shows them, and it is never put into an error.
type credentials struct {
	ak, sk, token string
}

// resolve fills what Config leaves to the environment and checks everything New needs, so that a
// misconfigured worker stops at start with a message naming the setting.
func (cfg Config) resolve() (Config, credentials, error) {
	var cred credentials
	if cfg.Region == "" {
		return cfg, cred, errors.New("imsclient: Config.Region is empty: set the home region ID, e.g. cn-north-4")
	}
	if err := imsapi.ValidateRegion("Config.Region", cfg.Region); err != nil {
		return cfg, cred, err
	}

	cred = credentials{ak: cfg.AK, sk: cfg.SK, token: cfg.SecurityToken}
	if cred.ak == "" && cred.sk == "" {
		cred.ak, cred.sk = os.Getenv(EnvAK), os.Getenv(EnvSK)
		if cred.token == "" {
			cred.token = os.Getenv(EnvSecurityToken)
		}
	}
	switch {
	case cred.ak == "":
		return cfg, cred, fmt.Errorf("imsclient: no access key: set Config.AK or %s", EnvAK)
	case cred.sk == "":
		return cfg, cred, fmt.Errorf("imsclient: no secret key: set Config.SK or %s", EnvSK)
	}

	if cfg.ProjectID == "" {
		cfg.ProjectID = os.Getenv(EnvProjectID)
	}
	if cfg.ProjectID == "" {
		return cfg, cred, fmt.Errorf("imsclient: no project ID for the home region %s: set Config.ProjectID or %s "+
			"(imscopy never asks IAM for it)", cfg.Region, EnvProjectID)
	}
	if err := imsapi.ValidateProjectID("Config.ProjectID", cfg.ProjectID); err != nil {
		return cfg, cred, err
	}
	for region, project := range cfg.Projects {
		if err := imsapi.ValidateRegion("Config.Projects", region); err != nil {
			return cfg, cred, err
		}
		if err := imsapi.ValidateProjectID("Config.Projects["+region+"]", project); err != nil {
			return cfg, cred, err
		}
		if region == cfg.Region && project != cfg.ProjectID {
			return cfg, cred, fmt.Errorf("imsclient: Config.Projects[%s] is %s but Config.ProjectID is %s: "+
				"give the home region's project once", region, project, cfg.ProjectID)
		}
	}
	for region, endpoint := range cfg.Endpoints {
		if err := imsapi.ValidateRegion("Config.Endpoints", region); err != nil {
			return cfg, cred, err
		}
		if err := imsapi.CheckEndpoint(endpoint); err != nil {
			return cfg, cred, fmt.Errorf("imsclient: Config.Endpoints[%s]: %w", region, err)
		}
	}

	switch {
	case cfg.RequestTimeout < 0:
		return cfg, cred, fmt.Errorf("imsclient: Config.RequestTimeout is %s: it must be positive, or 0 for %s",
			cfg.RequestTimeout, imsapi.DefaultRequestTimeout)
	case cfg.RequestTimeout == 0:
		cfg.RequestTimeout = imsapi.DefaultRequestTimeout
	}
	return cfg, cred, nil
}
