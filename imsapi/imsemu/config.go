package imsemu

import (
	"crypto/sha256"
	"fmt"
	"regexp"
	"time"
)

// Region is one IMS region the emulator serves, with the tenant's project in it.
type Region struct {
	Name      string // e.g. "cn-north-4"
	ProjectID string // 32 lower-case hex characters
}

// Defaults for a zero Config. The credentials are public on purpose: the emulator is local only.
const (
	DefaultAK             = "EMULATORAK0000000000"
	DefaultSK             = "emulator-secret-key-do-not-use"
	DefaultJobDuration    = 20 * time.Second
	SeedImageID           = "465076de-dc36-4aec-80f5-ef9d8009428f" // the IMS documentation's example source
	SeedKMSKeyID          = "bd66288c-9081-460a-8227-4cbd0c814cb4" // the IMS documentation's example key
	SeedImageName         = "golden-centos-7.9"
	defaultSecondKMSKeyID = "7f3e2a1b-4c5d-4e6f-8a9b-0c1d2e3f4a5b"
)

// DefaultRegions are used when Config.Regions is empty; the first is the home region.
var DefaultRegions = []Region{
	{Name: "cn-north-4", ProjectID: "0b3f6ab0e2a64c2c9f2c4c6f4c1d7e01"},
	{Name: "cn-east-3", ProjectID: "5c2e8f0d4a7b4e1f9c3d2b6a8e0f1a23"},
}

// Account is a tenant of the cloud besides the first one, which is Config's AK/SK, Regions and
// OtherProjects: its own AK/SK and its own projects. A request signed with an account's key acts
// only in that account's projects (decisions.go, codeOtherAccount).
type Account struct {
	AK, SK string
	// Projects lists the account's projects per region. The first of a region is the account's
	// project there: a request without X-Project-Id acts in it, and a cross-region copy into the
	// region creates its image in it.
	Projects map[string][]string
}

// Config configures an Emulator. The zero value is a working two-region emulator.
type Config struct {
	Regions        []Region // first is the home region (holds the seed image); default DefaultRegions
	AK, SK         string   // the first account's AK/SK pair; default DefaultAK/DefaultSK
	Token          string   // accepted X-Auth-Token value, the first account's; "" refuses tokens
	JobDuration    time.Duration
	JobDurationMax time.Duration // if > JobDuration, each job's duration is drawn in [JobDuration, JobDurationMax]
	Seed           int64         // every random choice is seeded from this
	StatePath      string        // "" keeps state in memory; else JSON persisted atomically and loaded at New
	Faults         Faults        // initial faults
	Now            func() time.Time
	Logf           func(format string, args ...any) // request log; never receives credentials

	// Limits overrides IMS's quotas (docs/ims-api.md sections 8.4 and 12); zero fields keep IMS's values.
	Limits Limits
	// KMSKeys lists the KMS key IDs that exist per region. Regions without an entry get one key:
	// SeedKMSKeyID in the home region, a fixed key derived from the region name elsewhere.
	KMSKeys map[string][]string
	// OtherProjects lists further projects of the first account per region (share recipients)
	// whose X-Project-Id the emulator accepts with AK/SK, so that sharing and accepting can be
	// exercised.
	OtherProjects map[string][]string
	// Accounts are further tenants, each with its own AK/SK and projects.
	Accounts []Account
	// Jobs shapes copy jobs: their progress model and, optionally, a duration per image name.
	Jobs JobModel
}

// Limits are IMS's quotas. Zero means IMS's default; a negative value means unlimited.
type Limits struct {
	PrivateImagesPerProject    int // default 50 per project and region (IMG.0015)
	RunningJobsPerProject      int // default 40 running copy jobs per project (IMG.0060)
	CrossRegionCopiesPerTenant int // default 5 running cross-region copies (IMG.0149)
}

var (
	projectIDRE = regexp.MustCompile(`^[0-9a-f]{32}$`)
	uuidRE      = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	regionRE    = regexp.MustCompile(`^[a-z]{2,}(-[a-z0-9]+)+$`)
)

// withDefaults fills the zero fields and checks the rest, so New can trust cfg.
func (cfg Config) withDefaults() (Config, error) {
	if len(cfg.Regions) == 0 {
		cfg.Regions = append([]Region(nil), DefaultRegions...)
	}
	seen := map[string]bool{}
	for _, r := range cfg.Regions {
		if !regionRE.MatchString(r.Name) {
			return cfg, fmt.Errorf("imsemu: region %q is not a region ID like cn-north-4", r.Name)
		}
		if seen[r.Name] {
			return cfg, fmt.Errorf("imsemu: region %q is listed twice", r.Name)
		}
		seen[r.Name] = true
		if !projectIDRE.MatchString(r.ProjectID) {
			return cfg, fmt.Errorf("imsemu: project ID %q of region %s must be 32 lower-case hex characters", r.ProjectID, r.Name)
		}
	}
	for region, projects := range cfg.OtherProjects {
		if !seen[region] {
			return cfg, fmt.Errorf("imsemu: OtherProjects names region %q, which is not in Regions", region)
		}
		for _, p := range projects {
			if !projectIDRE.MatchString(p) {
				return cfg, fmt.Errorf("imsemu: project ID %q in region %s must be 32 lower-case hex characters", p, region)
			}
		}
	}
	for region, keys := range cfg.KMSKeys {
		if !seen[region] {
			return cfg, fmt.Errorf("imsemu: KMSKeys names region %q, which is not in Regions", region)
		}
		for _, k := range keys {
			if !uuidRE.MatchString(k) {
				return cfg, fmt.Errorf("imsemu: KMS key %q in region %s must be a UUID", k, region)
			}
		}
	}
	if cfg.AK == "" {
		cfg.AK = DefaultAK
	}
	if cfg.SK == "" {
		cfg.SK = DefaultSK
	}
	if err := cfg.checkAccounts(seen); err != nil {
		return cfg, err
	}
	if cfg.JobDuration <= 0 {
		cfg.JobDuration = DefaultJobDuration
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	if err := cfg.Faults.Validate(); err != nil {
		return cfg, err
	}
	if err := cfg.Jobs.validate(); err != nil {
		return cfg, err
	}
	cfg.Limits = cfg.Limits.withDefaults()
	return cfg, nil
}

// checkAccounts checks the further accounts: a key pair each, no access key used twice, projects
// in configured regions, and no project of a region claimed by two accounts.
func (cfg Config) checkAccounts(regions map[string]bool) error {
	owner := map[string]int{} // region/project -> account number (0 is the first account)
	for _, r := range cfg.Regions {
		owner[r.Name+"/"+r.ProjectID] = 0
		for _, p := range cfg.OtherProjects[r.Name] {
			owner[r.Name+"/"+p] = 0
		}
	}
	aks := map[string]bool{cfg.AK: true}
	for i, a := range cfg.Accounts {
		n := i + 1
		switch {
		case a.AK == "" || a.SK == "":
			return fmt.Errorf("imsemu: account %d needs both an AK and an SK", n)
		case aks[a.AK]:
			return fmt.Errorf("imsemu: account %d's AK is already another account's; each account needs its own", n)
		case len(a.Projects) == 0:
			return fmt.Errorf("imsemu: account %d has no project; give it one in at least one region", n)
		}
		aks[a.AK] = true
		for region, projects := range a.Projects {
			if !regions[region] {
				return fmt.Errorf("imsemu: account %d names region %q, which is not in Regions", n, region)
			}
			for _, p := range projects {
				if !projectIDRE.MatchString(p) {
					return fmt.Errorf("imsemu: project ID %q of account %d in region %s must be 32 lower-case hex characters", p, n, region)
				}
				if other, taken := owner[region+"/"+p]; taken && other != n {
					return fmt.Errorf("imsemu: project %s in region %s is listed for account %d and account %d; a project belongs to one account", p, region, other, n)
				}
				owner[region+"/"+p] = n
			}
		}
	}
	return nil
}

func (l Limits) withDefaults() Limits {
	fill := func(v, def int) int {
		if v == 0 {
			return def
		}
		return v
	}
	l.PrivateImagesPerProject = fill(l.PrivateImagesPerProject, defaultPrivateImageQuota)
	l.RunningJobsPerProject = fill(l.RunningJobsPerProject, defaultRunningJobsPerProject)
	l.CrossRegionCopiesPerTenant = fill(l.CrossRegionCopiesPerTenant, defaultCrossRegionCopiesPerTenant)
	return l
}

// reached reports whether used has hit limit (a negative limit is unlimited).
func reached(used, limit int) bool { return limit >= 0 && used >= limit }

// kmsKeysFor returns the keys of a region, applying the defaults described on Config.KMSKeys.
func (cfg Config) kmsKeysFor(region string) []string {
	if keys, ok := cfg.KMSKeys[region]; ok {
		return keys
	}
	if region == cfg.Regions[0].Name {
		return []string{SeedKMSKeyID}
	}
	if region == DefaultRegions[1].Name {
		return []string{defaultSecondKMSKeyID}
	}
	return []string{regionKeyID(region)}
}

// regionKeyID derives a stable UUID-shaped key ID from a region name, so that a region the
// defaults do not know still has a key and it does not change between runs.
func regionKeyID(region string) string {
	h := sha256.Sum256([]byte("imsemu-kms-" + region))
	h[6] = h[6]&0x0f | 0x40
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}
