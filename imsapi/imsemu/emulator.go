package imsemu

import (
	"fmt"
	"net/http"
	"sort"
	"sync"
	"time"
)

// Emulator is the shared state of every region plus the knobs. Create it with New; serve a
// region with Handler.
type Emulator struct {
	cfg      Config
	regions  map[string]*regionInfo
	accounts []*account          // the first account (Config's AK/SK) first, then Config.Accounts
	byAK     map[string]*account // by access key

	mu           sync.RWMutex
	allImages    []*image // creation order, deleted ones included
	images       map[string]*image
	regionImages map[string][]*image              // per region, creation order
	byName       map[ownerKey]map[string][]*image // not deleted; for exact-name lookups
	liveImages   map[ownerKey]int                 // not deleted; the private-image quota
	jobs         map[string]*job                  // by ID: the job-status path is one map lookup
	allJobs      []*job                           // creation order
	running      map[string]map[string]*job       // per project, copy jobs not yet seen ending
	runningCross map[*account]map[string]*job     // per account, cross-region copies not yet seen ending
	peakCross    int                              // the most of one account's that ever ran at once
	members      map[string]map[string]*member    // image ID -> project ID -> member
	sharedWith   map[string]map[string]*image     // project ID -> image ID -> image shared with it
	generation   int64

	faultsMu sync.RWMutex
	faults   Faults

	ids, requestIDs, faultRand, jobRand *stream

	counts   counter
	throttle throttler
	store    *persister // nil when memory only

	closeOnce sync.Once
	closeErr  error
}

type ownerKey struct{ region, project string }

type regionInfo struct {
	Region
	projects map[string]*account // every account's projects in this region, and whose each is
	kmsKeys  map[string]bool
}

// account is one tenant: its key pair and, per region, the project it acts in by default.
type account struct {
	number int // 0 for the first account, i for Config.Accounts[i-1]
	ak, sk string
	home   map[string]string // region -> the account's project there ("" when it has none)
}

// New builds an emulator. With Config.StatePath set and the file present, the state is loaded
// from it (and not seeded again); otherwise the seed image is created in the home region.
func New(cfg Config) (*Emulator, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	e := &Emulator{
		cfg:          cfg,
		regions:      map[string]*regionInfo{},
		images:       map[string]*image{},
		regionImages: map[string][]*image{},
		byName:       map[ownerKey]map[string][]*image{},
		liveImages:   map[ownerKey]int{},
		jobs:         map[string]*job{},
		running:      map[string]map[string]*job{},
		runningCross: map[*account]map[string]*job{},
		members:      map[string]map[string]*member{},
		sharedWith:   map[string]map[string]*image{},
		faults:       cfg.Faults.clone(),
		counts:       counter{m: map[countKey]int{}},
		throttle:     throttler{buckets: map[bucketKey]*bucket{}},
	}
	first := &account{ak: cfg.AK, sk: cfg.SK, home: map[string]string{}}
	e.accounts, e.byAK = []*account{first}, map[string]*account{cfg.AK: first}
	for i, a := range cfg.Accounts {
		acct := &account{number: i + 1, ak: a.AK, sk: a.SK, home: map[string]string{}}
		e.accounts = append(e.accounts, acct)
		e.byAK[a.AK] = acct
	}
	for _, r := range cfg.Regions {
		ri := &regionInfo{Region: r, projects: map[string]*account{r.ProjectID: first}, kmsKeys: map[string]bool{}}
		first.home[r.Name] = r.ProjectID
		for _, p := range cfg.OtherProjects[r.Name] {
			ri.projects[p] = first
		}
		for i, a := range cfg.Accounts {
			acct := e.accounts[i+1]
			for _, p := range a.Projects[r.Name] {
				ri.projects[p] = acct
			}
			if ps := a.Projects[r.Name]; len(ps) > 0 {
				acct.home[r.Name] = ps[0]
			}
		}
		for _, k := range cfg.kmsKeysFor(r.Name) {
			ri.kmsKeys[k] = true
		}
		e.regions[r.Name] = ri
	}
	fresh := true
	if cfg.StatePath != "" {
		st, found, err := loadState(cfg.StatePath)
		if err != nil {
			return nil, err
		}
		if found {
			e.restore(st)
			fresh = false
		}
	}
	if fresh {
		e.seed()
	}
	e.generation++
	e.ids = newStream(cfg.Seed, e.generation, purposeIDs)
	e.requestIDs = newStream(cfg.Seed, e.generation, purposeRequestIDs)
	e.faultRand = newStream(cfg.Seed, e.generation, purposeFaults)
	e.jobRand = newStream(cfg.Seed, e.generation, purposeJobs)
	if cfg.StatePath != "" {
		e.store = startPersister(cfg.StatePath, e.snapshot, cfg.Logf)
		e.store.markDirty() // record the new generation (and the seed) at once
	}
	return e, nil
}

// seed creates the documentation's example source image, active and private, in the home region.
func (e *Emulator) seed() {
	home := e.cfg.Regions[0]
	now := e.cfg.Now().UTC()
	e.addImage(&image{
		ID: SeedImageID, Region: home.Name, Owner: home.ProjectID, Name: SeedImageName,
		Description: "CentOS 7.9 golden image seeded by the emulator", Visibility: "private",
		OSType: "Linux", OSVersion: "CentOS 7.9 64bit", OSBit: "64", Platform: "CentOS", Architecture: "x86",
		DiskFormat: "zvhd2", VirtualEnvType: "FusionCompute", MinDisk: 40, MinRAM: 1024,
		SizeBytes: 2_361_393_152, DataOrigin: "instance,3f7b3c8e-9d2a-4f61-8c5e-1a2b3c4d5e6f",
		EnterpriseProjectID: "0", CreatedAt: now, VisibleAt: now, FixedStatus: statusActive,
	})
}

// addImage indexes a new image; the caller holds e.mu (or owns e exclusively).
func (e *Emulator) addImage(img *image) {
	e.allImages = append(e.allImages, img)
	e.images[img.ID] = img
	e.regionImages[img.Region] = append(e.regionImages[img.Region], img)
	img.job = e.jobs[img.JobID] // jobs are added before their images, also on restore
	if img.DeletedAt.IsZero() {
		k := ownerKey{img.Region, img.Owner}
		if e.byName[k] == nil {
			e.byName[k] = map[string][]*image{}
		}
		e.byName[k][img.Name] = append(e.byName[k][img.Name], img)
		e.liveImages[k]++
	}
}

// addJob indexes a new job; the caller holds e.mu.
func (e *Emulator) addJob(j *job) {
	if j.ProgressSeed != 0 {
		j.curve = newProgressCurve(j.ProgressSeed)
	}
	e.jobs[j.ID] = j
	e.allJobs = append(e.allJobs, j)
	if !j.isCopy() {
		return
	}
	if e.running[j.Project] == nil {
		e.running[j.Project] = map[string]*job{}
	}
	e.running[j.Project][j.ID] = j
	if j.Type == jobTypeCrossRegion {
		acct := e.accountOf(j.Region, j.Project)
		if e.runningCross[acct] == nil {
			e.runningCross[acct] = map[string]*job{}
		}
		e.runningCross[acct][j.ID] = j
		running := 0
		for _, other := range e.runningCross[acct] {
			if other.view(j.Begin).End.IsZero() {
				running++
			}
		}
		e.peakCross = max(e.peakCross, running)
	}
}

// PeakCrossRegionCopies is the most cross-region copies one account ever had running at once
// since the emulator started (GET /_emulator/peaks): what IMS's per-tenant limit bounds.
func (e *Emulator) PeakCrossRegionCopies() int {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.peakCross
}

// accountOf is the account a project of a region belongs to; a project no longer configured (a
// state file from another configuration) counts as the first account's.
func (e *Emulator) accountOf(region, project string) *account {
	if ri := e.regions[region]; ri != nil && ri.projects[project] != nil {
		return ri.projects[project]
	}
	return e.accounts[0]
}

// markDeleted marks an image deleted and drops it from the live indexes; the caller holds e.mu.
func (e *Emulator) markDeleted(img *image, now time.Time) {
	k := ownerKey{img.Region, img.Owner}
	same := e.byName[k][img.Name]
	for i, x := range same {
		if x == img {
			e.byName[k][img.Name] = append(same[:i:i], same[i+1:]...)
			break
		}
	}
	if len(e.byName[k][img.Name]) == 0 {
		delete(e.byName[k], img.Name)
	}
	e.liveImages[k]--
	img.DeletedAt = now
}

// atJobLimit reports whether a set of jobs already holds limit running jobs at now, forgetting
// the ones that ended. The sets stay no larger than their limits, so this is cheap; with no
// limit (negative) nothing is counted at all. The caller holds e.mu.
func atJobLimit(set map[string]*job, limit int, now time.Time) bool {
	if limit < 0 {
		return false
	}
	for id, j := range set {
		if !j.view(now).End.IsZero() {
			delete(set, id)
		}
	}
	return len(set) >= limit
}

// newJobID draws a job ID not in use; the caller holds e.mu.
func (e *Emulator) newJobID() string {
	for {
		if id := e.ids.hex32(); e.jobs[id] == nil {
			return id
		}
	}
}

// newImageID draws an image ID not in use; the caller holds e.mu.
func (e *Emulator) newImageID() string {
	for {
		if id := e.ids.uuid(); e.images[id] == nil {
			return id
		}
	}
}

func (e *Emulator) now() time.Time { return e.cfg.Now().UTC() }

// changed records that the state changed, so the state file is rewritten soon.
func (e *Emulator) changed() {
	if e.store != nil {
		e.store.markDirty()
	}
}

// Handler returns the IMS API of one configured region, plus the /_emulator/ admin API. It
// panics if the region is not configured: that is a programming error.
func (e *Emulator) Handler(region string) http.Handler {
	ri, ok := e.regions[region]
	if !ok {
		panic(fmt.Sprintf("imsemu: region %q is not configured (configured: %v)", region, e.regionNames()))
	}
	return &regionHandler{e: e, region: ri}
}

func (e *Emulator) regionNames() []string {
	names := make([]string, 0, len(e.cfg.Regions))
	for _, r := range e.cfg.Regions {
		names = append(names, r.Name)
	}
	return names
}

// Regions returns the configured regions, the home region first.
func (e *Emulator) Regions() []Region { return append([]Region(nil), e.cfg.Regions...) }

// KMSKeys returns the KMS key IDs that exist per region.
func (e *Emulator) KMSKeys() map[string][]string {
	out := map[string][]string{}
	for name, ri := range e.regions {
		for k := range ri.kmsKeys {
			out[name] = append(out[name], k)
		}
		sort.Strings(out[name])
	}
	return out
}

// SetFaults replaces the fault knobs. Values are taken as given (a rate above 1 acts as 1);
// check them first with Faults.Validate when they come from a user.
func (e *Emulator) SetFaults(f Faults) {
	e.faultsMu.Lock()
	e.faults = f.clone()
	e.faultsMu.Unlock()
}

// Faults returns the fault knobs in force.
func (e *Emulator) Faults() Faults {
	e.faultsMu.RLock()
	defer e.faultsMu.RUnlock()
	return e.faults.clone()
}

// Close stops the state writer and flushes the state file. The handlers keep answering (from
// memory) if still called; later changes are not persisted.
func (e *Emulator) Close() error {
	e.closeOnce.Do(func() {
		if e.store != nil {
			e.closeErr = e.store.close()
		}
	})
	return e.closeErr
}
