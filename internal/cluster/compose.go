package cluster

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
)

// The services of docker-compose.yml the cluster runs for real. Their environment, commands and
// mounts are read from the file, so that what runs here is what Compose would run.
const (
	schemaService    = "temporal-schema"
	temporalService  = "temporal"
	namespaceService = "temporal-namespace"
	emulatorService  = "imsemu"
	workerService    = "worker"
)

// Compose is the part of docker-compose.yml the cluster runs.
type Compose struct {
	project *types.Project
}

// LoadCompose loads the Compose file at path as `docker compose` would with no variable set in
// the shell and no .env: every ${VAR:-default} takes its default.
func LoadCompose(path string) (*Compose, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	text, err := os.ReadFile(abs)
	if err != nil {
		return nil, err
	}
	p, err := loader.LoadWithContext(context.Background(), types.ConfigDetails{
		WorkingDir:  filepath.Dir(abs),
		ConfigFiles: []types.ConfigFile{{Filename: abs, Content: text}},
		Environment: map[string]string{},
	}, func(o *loader.Options) {
		o.SetProjectName("imscopy", true)
		o.Profiles = []string{"*"}
	})
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	for _, name := range []string{schemaService, temporalService, namespaceService, emulatorService, workerService} {
		if _, err := p.GetService(name); err != nil {
			return nil, fmt.Errorf("%s has no service %q, which the cluster runs", path, name)
		}
	}
	return &Compose{project: p}, nil
}

func (c *Compose) service(name string) types.ServiceConfig {
	s, _ := c.project.GetService(name) // LoadCompose checked that it exists
	return s
}

// Env is a service's environment, variables without a value left out.
func (c *Compose) Env(service string) map[string]string {
	out := map[string]string{}
	for k, v := range c.service(service).Environment {
		if v != nil {
			out[k] = *v
		}
	}
	return out
}

// Script is the shell script of a service whose entrypoint is `/bin/sh -ec` and whose command is
// the script.
func (c *Compose) Script(service string) (string, error) {
	s := c.service(service)
	if len(s.Entrypoint) != 2 || s.Entrypoint[0] != "/bin/sh" || s.Entrypoint[1] != "-ec" || len(s.Command) != 1 {
		return "", fmt.Errorf("service %s does not run a script with /bin/sh -ec (entrypoint %v, command %v)", service, s.Entrypoint, s.Command)
	}
	return s.Command[0], nil
}

// Command is a service's command (the arguments of its entrypoint).
func (c *Compose) Command(service string) []string {
	return append([]string(nil), c.service(service).Command...)
}

// ServerWorkDir is the temporalio/server image's working folder, where the server resolves a
// relative DYNAMIC_CONFIG_FILE_PATH.
const ServerWorkDir = "/etc/temporal"

// DynamicConfigFile is where on this machine the dynamic config file the temporal service's
// DYNAMIC_CONFIG_FILE_PATH names is, through the service's bind mounts.
func DynamicConfigFile(s types.ServiceConfig) (string, error) {
	v := s.Environment["DYNAMIC_CONFIG_FILE_PATH"]
	if v == nil || *v == "" {
		return "", fmt.Errorf("service %s sets no DYNAMIC_CONFIG_FILE_PATH: the server's embedded config template then names a file no image holds, and the server exits at start", s.Name)
	}
	path := *v
	if !filepath.IsAbs(path) {
		path = filepath.Join(ServerWorkDir, path)
	}
	return HostPath(s, path)
}

// HostPath is where a path inside a service's container is on this machine, through the
// service's bind mounts; it fails when no bind mount holds the path, as the container would not
// find it either.
func HostPath(s types.ServiceConfig, containerPath string) (string, error) {
	for _, v := range s.Volumes {
		if v.Type != types.VolumeTypeBind {
			continue
		}
		rel, err := filepath.Rel(v.Target, containerPath)
		if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
			continue
		}
		return filepath.Join(v.Source, rel), nil
	}
	return "", fmt.Errorf("no bind mount of service %s holds %s", s.Name, containerPath)
}

// Namespace is the namespace the namespace job creates and its retention, read from its
// `temporal operator namespace create` command.
func (c *Compose) Namespace() (name string, retention time.Duration, err error) {
	script, err := c.Script(namespaceService)
	if err != nil {
		return "", 0, err
	}
	m := createNamespaceRE.FindStringSubmatch(script)
	if m == nil {
		return "", 0, fmt.Errorf("service %s runs no `temporal operator namespace create --namespace N --retention D`", namespaceService)
	}
	retention, err = time.ParseDuration(m[2])
	if err != nil {
		return "", 0, fmt.Errorf("service %s: retention %q: %w", namespaceService, m[2], err)
	}
	return m[1], retention, nil
}

var createNamespaceRE = regexp.MustCompile(`temporal operator namespace create --namespace (\S+) --retention (\S+)`)
