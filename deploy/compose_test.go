package deploy

import (
	"context"
	"fmt"
	"maps"
	"net"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"go.temporal.io/server/common/dynamicconfig"

	"github.com/imscopy/imscopy/imsapi/imsemu"
	"github.com/imscopy/imscopy/internal/cluster"
	"github.com/imscopy/imscopy/internal/config"
	"github.com/imscopy/imscopy/internal/temporalconn"
)

// The services the code and docs/operations.md rely on, and what each runs.
const (
	workerService   = "worker"
	starterService  = "starter"
	emulatorService = "imsemu"
	temporalService = "temporal"
	binDir          = "/usr/local/bin/"
)

// loadCompose loads text as `docker compose` would, in the module's root, with env as the
// shell's environment and every profile enabled (the starter's included).
func loadCompose(text string, env map[string]string) (*types.Project, error) {
	return loader.LoadWithContext(context.Background(), types.ConfigDetails{
		WorkingDir:  "..",
		ConfigFiles: []types.ConfigFile{{Filename: "docker-compose.yml", Content: []byte(text)}},
		Environment: env,
	}, func(o *loader.Options) {
		o.SetProjectName("imscopy", true)
		o.Profiles = []string{"*"}
	})
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}

// checker collects every way the Compose project disagrees with the code.
type checker struct {
	t        *testing.T
	p        *types.Project
	problems []string
}

func (c *checker) bad(format string, args ...any) {
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
}

func (c *checker) service(name string) (types.ServiceConfig, bool) {
	s, err := c.p.GetService(name)
	if err != nil {
		c.bad("no service %q: the code and docs/operations.md rely on it", name)
		return types.ServiceConfig{}, false
	}
	return s, true
}

// check runs every check; t is needed because the worker's configuration is read from the
// process environment, which t.Setenv sets and restores.
func check(t *testing.T, p *types.Project, readmeServices []string) []string {
	c := &checker{t: t, p: p}
	for _, name := range readmeServices {
		c.service(name)
	}
	c.checkImages()
	c.checkWorker()
	c.checkStarter()
	c.checkEmulator()
	c.checkTemporal()
	c.checkDependencies()
	return c.problems
}

// env is a service's environment with every value set.
func env(s types.ServiceConfig) map[string]string {
	out := map[string]string{}
	for k, v := range s.Environment {
		if v != nil {
			out[k] = *v
		}
	}
	return out
}

// envNames are the variables a configuration struct reads (its envconfig tags).
func envNames(spec any) []string {
	var out []string
	typ := reflect.TypeOf(spec)
	for i := range typ.NumField() {
		if name := typ.Field(i).Tag.Get("envconfig"); name != "" {
			out = append(out, name)
		}
	}
	return out
}

func (c *checker) checkReads(service string, vars map[string]string, spec any) {
	known := envNames(spec)
	for name := range vars {
		if !slices.Contains(known, name) && !temporalconn.Reads(name) {
			c.bad("%s sets %s, which the %s does not read (a typo, or a variable that was renamed)", service, name, service)
		}
	}
}

// checkImages: imscopy's services run one image built from the Dockerfile, each with an
// entrypoint the Dockerfile builds; Temporal's images are the version of go.mod's server.
func (c *checker) checkImages() {
	built := dockerfileBinaries(c.t)
	var image string
	for _, name := range []string{workerService, starterService, emulatorService} {
		s, ok := c.service(name)
		if !ok {
			continue
		}
		if s.Build == nil || s.Build.Context != c.p.WorkingDir {
			c.bad("%s is not built from the module's Dockerfile (build: context: .)", name)
		}
		if image == "" {
			image = s.Image
		} else if s.Image != image {
			c.bad("%s runs image %q, the others %q: one build serves all", name, s.Image, image)
		}
		if len(s.Entrypoint) == 0 || !slices.Contains(built, strings.TrimPrefix(s.Entrypoint[0], binDir)) ||
			!strings.HasPrefix(s.Entrypoint[0], binDir) {
			c.bad("%s's entrypoint %v is none of the binaries the Dockerfile puts in %s (%v)", name, s.Entrypoint, binDir, built)
		}
	}
	want := "temporalio/server:" + strings.TrimPrefix(serverVersion(c.t), "v")
	if s, ok := c.service(temporalService); ok && s.Image != want {
		c.bad("%s runs %s, but go.mod's go.temporal.io/server (the embedded server, the schema) is %s", temporalService, s.Image, want)
	}
	for _, s := range c.p.Services {
		if strings.HasPrefix(s.Image, "temporalio/admin-tools:") && strings.TrimPrefix(s.Image, "temporalio/admin-tools:") != strings.TrimPrefix(want, "temporalio/server:") {
			c.bad("%s runs %s; admin-tools must match the server's version (%s)", s.Name, s.Image, want)
		}
	}
}

func (c *checker) checkWorker() {
	s, ok := c.service(workerService)
	if !ok {
		return
	}
	vars := env(s)
	c.checkReads(workerService, vars, config.Worker{})
	w, err := loadWorker(c.t, vars)
	if err != nil {
		c.bad("the worker refuses the environment Compose gives it: %v", err)
		return
	}
	if w.DevMode() {
		c.bad("the worker would run in dev mode (TEMPORAL_ADDRESS is empty) instead of using the %s service", temporalService)
	}
	c.checkTemporalAddress(workerService, string(w.TemporalAddress))
	for region, endpoint := range w.Endpoints {
		c.checkEmulatorEndpoint(region, endpoint)
	}
	if w.AK.Reveal() != c.emulatorFlag("ak", imsemu.DefaultAK) || w.SK.Reveal() != c.emulatorFlag("sk", imsemu.DefaultSK) {
		c.bad("the worker's HUAWEICLOUD_SDK_AK/SK are not the credentials the emulator accepts")
	}
	if w.ProjectID != c.emulatorProject(w.Region) {
		c.bad("the worker's HUAWEICLOUD_SDK_PROJECT_ID %s is not the emulator's project of %s (%s)", w.ProjectID, w.Region, c.emulatorProject(w.Region))
	}
	for region := range w.Endpoints {
		if region != w.Region && w.Projects[region] != c.emulatorProject(region) {
			c.bad("the worker's IMS_PROJECTS gives %s project %q, not the emulator's (%s): a copy to %s fails with \"no project ID\"", region, w.Projects[region], c.emulatorProject(region), region)
		}
	}

	if w.MetricsAddr == "" {
		c.bad("the worker serves no metrics: set METRICS_ADDR, the health check reads /healthz from it")
	} else {
		_, port, _ := net.SplitHostPort(string(w.MetricsAddr))
		if !publishes(s, port) {
			c.bad("the worker's METRICS_ADDR port %s is not in its ports", port)
		}
		c.checkHealthURL(s, port, "/healthz")
	}
	if s.Deploy == nil || s.Deploy.Replicas == nil || *s.Deploy.Replicas < 2 {
		c.bad("the worker must run at least two replicas (deploy: replicas: 2)")
	}
	if s.ContainerName != "" {
		c.bad("the worker has container_name %q, which stops it from having replicas", s.ContainerName)
	}
	if s.StopGracePeriod == nil || time.Duration(*s.StopGracePeriod) <= w.WorkerStopTimeout {
		c.bad("the worker's stop_grace_period must exceed WORKER_STOP_TIMEOUT (%s), or Docker kills it mid-activity", w.WorkerStopTimeout)
	}
}

func (c *checker) checkStarter() {
	s, ok := c.service(starterService)
	if !ok {
		return
	}
	if !slices.Contains(s.Profiles, "tools") {
		c.bad("the starter has no profile, so `docker compose up` would run it as a service; give it profiles: [tools]")
	}
	vars := env(s)
	c.checkReads(starterService, vars, config.Starter{})
	worker, ok := c.service(workerService)
	if !ok {
		return
	}
	for _, name := range []string{"TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "TEMPORAL_TASK_QUEUE"} {
		if vars[name] != env(worker)[name] {
			c.bad("the starter's %s is %q, the worker's %q: the starter would start copies no worker runs", name, vars[name], env(worker)[name])
		}
	}
	if d, ok := s.DependsOn["temporal-namespace"]; !ok || d.Condition != types.ServiceConditionCompletedSuccessfully {
		c.bad("the starter must wait for temporal-namespace to complete: a copy started before the namespace exists fails")
	}
}

// checkTemporal: the server's dynamic config file, named by DYNAMIC_CONFIG_FILE_PATH, is in a
// folder mounted into the container, and the server accepts it; without one the server exits at
// start ("unable to create dynamic config client").
func (c *checker) checkTemporal() {
	s, ok := c.service(temporalService)
	if !ok {
		return
	}
	path, err := cluster.DynamicConfigFile(s)
	if err != nil {
		c.bad("the temporal service's dynamic config: %v", err)
		return
	}
	text, err := os.ReadFile(path)
	if err != nil {
		c.bad("the temporal service's dynamic config file is not in the folder its mount gives: %v", err)
		return
	}
	if res := dynamicconfig.LoadYamlFile(text); len(res.Errors) > 0 {
		c.bad("the server refuses the dynamic config file %s: %v", path, res.Errors)
	}
}

// checkTemporalAddress: host:port names the temporal service on the port clients use.
func (c *checker) checkTemporalAddress(who, hostPort string) {
	host, port, err := net.SplitHostPort(hostPort)
	_, wantPort, _ := net.SplitHostPort(config.DefaultTemporalAddress)
	if err != nil || host != temporalService || port != wantPort {
		c.bad("the %s's TEMPORAL_ADDRESS is %q; want %s:%s (the %s service, Temporal's frontend port)", who, hostPort, temporalService, wantPort, temporalService)
	}
	if s, ok := c.service(temporalService); ok && !publishes(s, wantPort) {
		c.bad("the %s service does not publish port %s", temporalService, wantPort)
	}
}

// emulatorFlag is the value of one of the emulator's flags in its command, or def.
func (c *checker) emulatorFlag(name, def string) string {
	s, ok := c.service(emulatorService)
	if !ok {
		return def
	}
	for i, arg := range s.Command {
		flagName, value, hasValue := strings.Cut(strings.TrimLeft(arg, "-"), "=")
		if !strings.HasPrefix(arg, "-") || flagName != name {
			continue
		}
		if hasValue {
			return value
		}
		if i+1 < len(s.Command) {
			return s.Command[i+1]
		}
	}
	return def
}

// emulatorRegions are the emulator's regions in -region's order; region i listens on -addr's port + i.
func (c *checker) emulatorRegions() []string {
	var regions []string
	for _, r := range imsemu.DefaultRegions {
		regions = append(regions, r.Name)
	}
	return strings.Split(c.emulatorFlag("region", strings.Join(regions, ",")), ",")
}

func (c *checker) emulatorProject(region string) string {
	for _, r := range imsemu.DefaultRegions {
		if r.Name == region && c.emulatorFlag("project", "") == "" {
			return r.ProjectID
		}
	}
	return "(set by -project; compare by hand)"
}

func (c *checker) emulatorAddr() (host string, port int) {
	h, p, err := net.SplitHostPort(c.emulatorFlag("addr", "127.0.0.1:9780"))
	n, perr := strconv.Atoi(p)
	if err != nil || perr != nil {
		c.bad("the emulator's -addr %q is not host:port", c.emulatorFlag("addr", ""))
	}
	return h, n
}

func (c *checker) checkEmulator() {
	s, ok := c.service(emulatorService)
	if !ok {
		return
	}
	host, port := c.emulatorAddr()
	if ip := net.ParseIP(host); ip == nil || ip.IsLoopback() {
		c.bad("the emulator listens on %q, which other containers cannot reach; use -addr 0.0.0.0:%d", host, port)
	}
	c.checkHealthURL(s, strconv.Itoa(port), "/_emulator/")
}

func (c *checker) checkEmulatorEndpoint(region, endpoint string) {
	u, err := url.Parse(endpoint)
	if err != nil {
		c.bad("IMS_ENDPOINTS: %s", err)
		return
	}
	i := slices.Index(c.emulatorRegions(), region)
	_, port := c.emulatorAddr()
	if u.Hostname() != emulatorService || i < 0 || u.Port() != strconv.Itoa(port+i) {
		c.bad("IMS_ENDPOINTS sends %s to %s, but the emulator serves it at http://%s:%d", region, endpoint, emulatorService, port+i)
	}
}

// checkHealthURL: the health check runs the image's healthcheck binary on a port the service listens on.
func (c *checker) checkHealthURL(s types.ServiceConfig, port, path string) {
	hc := s.HealthCheck
	if hc == nil || len(hc.Test) < 3 || hc.Test[0] != "CMD" || hc.Test[1] != binDir+"healthcheck" {
		c.bad("%s has no health check running %shealthcheck (the image has no shell)", s.Name, binDir)
		return
	}
	u, err := url.Parse(hc.Test[len(hc.Test)-1])
	if err != nil || u.Port() != port || !strings.HasPrefix(u.Path, path) {
		c.bad("%s's health check asks %s; want port %s and path %s", s.Name, hc.Test[len(hc.Test)-1], port, path)
	}
}

// checkDependencies: a service waited on as healthy has a health check, and the worker starts
// after Temporal's namespace and the emulator.
func (c *checker) checkDependencies() {
	for _, s := range c.p.Services {
		for dep, d := range s.DependsOn {
			target, ok := c.p.Services[dep]
			if ok && d.Condition == types.ServiceConditionHealthy && (target.HealthCheck == nil || target.HealthCheck.Disable) {
				c.bad("%s waits for %s to be healthy, but %s has no health check", s.Name, dep, dep)
			}
		}
	}
	if s, ok := c.service(workerService); ok {
		if d, ok := s.DependsOn[emulatorService]; !ok || d.Condition != types.ServiceConditionHealthy {
			c.bad("the worker must wait for the emulator to be healthy")
		}
		if d, ok := s.DependsOn["temporal-namespace"]; !ok || d.Condition != types.ServiceConditionCompletedSuccessfully {
			c.bad("the worker must wait for temporal-namespace to complete: a worker on a missing namespace stops at once")
		}
	}
}

func publishes(s types.ServiceConfig, port string) bool {
	for _, p := range s.Ports {
		if strconv.Itoa(int(p.Target)) == port {
			return true
		}
	}
	return slices.Contains(s.Expose, port)
}

// loadWorker reads the worker's configuration from exactly vars, as the worker does at start.
func loadWorker(t *testing.T, vars map[string]string) (config.Worker, error) {
	t.Helper()
	for _, name := range append(envNames(config.Worker{}), envNames(config.Starter{})...) {
		t.Setenv(name, "")
		require.NoError(t, os.Unsetenv(name))
	}
	for _, v := range temporalconn.Variables {
		t.Setenv(v.Name, "")
		require.NoError(t, os.Unsetenv(v.Name))
	}
	t.Setenv("TEMPORAL_CONFIG_FILE", t.TempDir()+"/no-such-temporal.toml")
	for k, v := range vars {
		t.Setenv(k, v)
	}
	return config.LoadWorker()
}

var (
	serverVersionRE = regexp.MustCompile(`(?m)^\s*go\.temporal\.io/server (v\S+)`)
	buildLineRE     = regexp.MustCompile(`(?m)^.*go build .*$`)
	cmdRE           = regexp.MustCompile(`\./cmd/([a-z]+)`)
)

func serverVersion(t *testing.T) string {
	m := serverVersionRE.FindStringSubmatch(read(t, "../go.mod"))
	require.NotNil(t, m, "go.mod requires no go.temporal.io/server")
	return m[1]
}

// dockerfileBinaries are the commands the Dockerfile builds into /usr/local/bin.
func dockerfileBinaries(t *testing.T) []string {
	text := read(t, "../Dockerfile")
	require.Contains(t, text, "COPY --from=build /out/ "+binDir, "the Dockerfile must put the binaries in "+binDir)
	var out []string
	for _, line := range buildLineRE.FindAllString(text, -1) {
		for _, m := range cmdRE.FindAllStringSubmatch(line, -1) {
			out = append(out, m[1])
		}
	}
	return out
}

// The real file agrees with the code and with docs/operations.md.
func TestComposeFileAgreesWithTheCode(t *testing.T) {
	p, err := loadCompose(read(t, "../docker-compose.yml"), map[string]string{})
	require.NoError(t, err)
	named := servicesNamedIn(read(t, "../docs/operations.md"))
	require.NotEmpty(t, named, "docs/operations.md shows no `docker compose` command naming a service: its production section "+
		"must show how to start the services, start a copy with the starter and scale the workers")
	assert.Empty(t, check(t, p, named))
	assert.Subset(t, dockerfileBinaries(t), []string{"worker", "starter", "imsemu", "healthcheck"}, "the image holds every program")
}

// Each way of breaking the file is caught: by the loader, or by a check that names the problem.
func TestBrokenComposeFilesAreCaught(t *testing.T) {
	good := read(t, "../docker-compose.yml")
	readme := []string{workerService, starterService, "temporal-ui"}
	cases := []struct {
		name, old, new string
		says           string // "" when the loader itself must refuse the file
	}{
		{"not YAML", "services:\n", "services:\n  - [\n", ""},
		{"a dependency on a service that is gone", "\n  imsemu:\n", "\n  ims-emulator:\n", ""},
		{"a variable the worker does not read", "      METRICS_ADDR: 0.0.0.0:9090", "      METRICS_ADDR: 0.0.0.0:9090\n      POLL_MAXIMUM: 1m", "POLL_MAXIMUM, which the worker does not read"},
		{"a required variable missing", "      HUAWEICLOUD_SDK_SK: ${HUAWEICLOUD_SDK_SK:-emulator-secret-key-do-not-use}\n", "", "HUAWEICLOUD_SDK_SK is not set"},
		{"a malformed value", "      WORKER_STOP_TIMEOUT: 30s", "      WORKER_STOP_TIMEOUT: 30", "WORKER_STOP_TIMEOUT"},
		{"Temporal's port", "\n  TEMPORAL_ADDRESS: ${TEMPORAL_ADDRESS:-temporal:7233}\n", "\n  TEMPORAL_ADDRESS: ${TEMPORAL_ADDRESS:-temporal:7234}\n", "TEMPORAL_ADDRESS is \"temporal:7234\""},
		{"the emulator's port", `"-addr", "0.0.0.0:9780"`, `"-addr", "0.0.0.0:9790"`, "the emulator serves it at http://imsemu:9790"},
		{"the emulator on loopback", `"-addr", "0.0.0.0:9780"`, `"-addr", "127.0.0.1:9780"`, "other containers cannot reach"},
		{"the metrics port", `"http://127.0.0.1:9090/healthz"`, `"http://127.0.0.1:9091/healthz"`, "health check asks http://127.0.0.1:9091/healthz"},
		{"no metrics", "      METRICS_ADDR: 0.0.0.0:9090\n", "", "serves no metrics"},
		{"wrong credentials", "HUAWEICLOUD_SDK_AK:-EMULATORAK0000000000", "HUAWEICLOUD_SDK_AK:-SOMEOTHERAK000000000", "not the credentials the emulator accepts"},
		{"server image", "temporalio/server:1.32.2", "temporalio/server:1.31.0", "go.mod's go.temporal.io/server"},
		{"admin-tools image", "image: temporalio/admin-tools:1.32.2\n    depends_on:\n      postgresql", "image: temporalio/admin-tools:1.30.0\n    depends_on:\n      postgresql", "admin-tools must match"},
		{"one replica", "      replicas: 2", "      replicas: 1", "at least two replicas"},
		{"grace period too short", "stop_grace_period: 45s", "stop_grace_period: 10s", "stop_grace_period must exceed"},
		{"starter without profile", `    profiles: ["tools"]` + "\n", "", "give it profiles: [tools]"},
		{"starter on another queue", "    environment:\n      <<: *temporal-env\n    # The namespace job", "    environment:\n      <<: *temporal-env\n      TEMPORAL_TASK_QUEUE: other\n    # The namespace job", "starter's TEMPORAL_TASK_QUEUE"},
		{"starter waits for the server only", "      temporal-namespace:\n        condition: service_completed_successfully\n\nvolumes:", "      temporal:\n        condition: service_healthy\n\nvolumes:", "starter must wait for temporal-namespace"},
		{"no dynamic config named", "      DYNAMIC_CONFIG_FILE_PATH: config/dynamicconfig/development-sql.yaml\n", "", "sets no DYNAMIC_CONFIG_FILE_PATH"},
		{"dynamic config not mounted", "      - ./deploy/dynamicconfig:/etc/temporal/config/dynamicconfig:ro\n", "      - ./deploy/dynamicconfig:/etc/temporal/dynamicconfig:ro\n", "no bind mount of service temporal holds /etc/temporal/config/dynamicconfig/development-sql.yaml"},
		{"dynamic config file missing", "config/dynamicconfig/development-sql.yaml", "config/dynamicconfig/docker.yaml", "not in the folder its mount gives"},
		{"no project for the second region", "      IMS_PROJECTS: ${IMS_PROJECTS-cn-east-3=5c2e8f0d4a7b4e1f9c3d2b6a8e0f1a23}\n", "", "a copy to cn-east-3 fails"},
		{"an entrypoint the image lacks", `entrypoint: ["/usr/local/bin/worker"]`, `entrypoint: ["/usr/local/bin/imscopy-worker"]`, "none of the binaries"},
		{"healthy without a health check", "    healthcheck:\n      test: [\"CMD\", \"/usr/local/bin/healthcheck\", \"http://127.0.0.1:9780", "    x-healthcheck:\n      test: [\"CMD\", \"/usr/local/bin/healthcheck\", \"http://127.0.0.1:9780", "imsemu has no health check"},
		{"a service the docs name is gone", "\n  temporal-ui:\n", "\n  web-ui:\n", `no service "temporal-ui"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, 1, strings.Count(good, tc.old), "the mutation must match the file exactly once: %q", tc.old)
			p, err := loadCompose(strings.Replace(good, tc.old, tc.new, 1), map[string]string{})
			if tc.says == "" {
				require.Error(t, err, "the loader must refuse the file")
				return
			}
			require.NoError(t, err)
			problems := check(t, p, readme)
			require.NotEmpty(t, problems)
			assert.Contains(t, strings.Join(problems, "\n"), tc.says)
		})
	}
}

// A shell's (or .env's) variables reach the file as in Compose: real credentials and IMS's public
// endpoints replace the emulator's.
func TestComposeTakesCredentialsFromTheEnvironment(t *testing.T) {
	p, err := loadCompose(read(t, "../docker-compose.yml"), map[string]string{
		"HUAWEICLOUD_SDK_AK": "REALAK", "HUAWEICLOUD_SDK_SK": "real-sk", "IMS_ENDPOINTS": "",
	})
	require.NoError(t, err)
	w, err := p.GetService(workerService)
	require.NoError(t, err)
	assert.Equal(t, "REALAK", env(w)["HUAWEICLOUD_SDK_AK"])
	assert.Equal(t, "real-sk", env(w)["HUAWEICLOUD_SDK_SK"])
	assert.Empty(t, env(w)["IMS_ENDPOINTS"], "an empty IMS_ENDPOINTS means IMS's public endpoints")
	_, err = loadWorker(t, env(w))
	assert.NoError(t, err)

	p, err = loadCompose(read(t, "../docker-compose.yml"), map[string]string{})
	require.NoError(t, err)
	w, err = p.GetService(workerService)
	require.NoError(t, err)
	assert.Equal(t, "cn-north-4=http://imsemu:9780,cn-east-3=http://imsemu:9781", env(w)["IMS_ENDPOINTS"], "unset: the emulator")
}

// What a user must change comes from .env (or the shell) and reaches every service that uses it:
// the worker, the starter, and the namespace job, which creates the namespace they use.
func TestComposeTakesUserSettingsFromTheEnvironment(t *testing.T) {
	settings := map[string]string{
		"TEMPORAL_ADDRESS":               "temporal.internal:7233",
		"TEMPORAL_NAMESPACE":             "images",
		"IMS_REGION":                     "ap-southeast-1",
		"IMS_PROJECTS":                   "cn-north-4=0b3f6ab0e2a64c2c9f2c4c6f4c1d7e01",
		"HUAWEICLOUD_SDK_SECURITY_TOKEN": "a-temporary-token",
	}
	p, err := loadCompose(read(t, "../docker-compose.yml"), maps.Clone(settings)) // the loader adds to it
	require.NoError(t, err)
	w, err := p.GetService(workerService)
	require.NoError(t, err)
	s, err := p.GetService(starterService)
	require.NoError(t, err)
	for name, value := range settings {
		assert.Equal(t, value, env(w)[name], "the worker's %s", name)
		if name != "IMS_PROJECTS" && name != "HUAWEICLOUD_SDK_SECURITY_TOKEN" && name != "IMS_REGION" {
			assert.Equal(t, value, env(s)[name], "the starter's %s", name)
		}
	}
	ns, err := p.GetService("temporal-namespace")
	require.NoError(t, err)
	assert.Contains(t, strings.Join(ns.Command, " "), "namespace create --namespace images ", "the namespace job creates the namespace the workers use")

	// Unset, the settings are the emulator's and the namespace job's.
	p, err = loadCompose(read(t, "../docker-compose.yml"), map[string]string{})
	require.NoError(t, err)
	w, err = p.GetService(workerService)
	require.NoError(t, err)
	assert.Equal(t, "temporal:7233", env(w)["TEMPORAL_ADDRESS"])
	assert.Equal(t, "default", env(w)["TEMPORAL_NAMESPACE"])
	assert.Empty(t, env(w)["HUAWEICLOUD_SDK_SECURITY_TOKEN"], "a permanent AK/SK has no token")
	_, err = loadWorker(t, env(w))
	assert.NoError(t, err, "an empty security token is no token")
}
