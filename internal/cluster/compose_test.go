package cluster

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The cluster reads what it runs from the real Compose file.
func TestComposeGivesWhatTheClusterRuns(t *testing.T) {
	c, err := LoadCompose("../../docker-compose.yml")
	require.NoError(t, err)

	name, retention, err := c.Namespace()
	require.NoError(t, err)
	assert.Equal(t, "default", name)
	assert.Equal(t, 168*time.Hour, retention)

	dc, err := DynamicConfigFile(c.service(temporalService))
	require.NoError(t, err)
	want, err := filepath.Abs("../../deploy/dynamicconfig/development-sql.yaml")
	require.NoError(t, err)
	assert.Equal(t, want, dc, "the file the server is told to read, through its bind mount")

	script, err := c.Script(schemaService)
	require.NoError(t, err)
	assert.Contains(t, script, "temporal-sql-tool", "the schema job runs Temporal's SQL tool")
	assert.NotContains(t, script, "$$", "Compose's $$ is a $ by the time the script runs")

	env := c.Env(temporalService)
	assert.Equal(t, "postgres12", env["DB"], "the server's persistence is the Compose file's")
}

// A Compose file the cluster cannot run is refused at start, naming what is wrong.
func TestComposeFilesTheClusterCannotRun(t *testing.T) {
	good, err := os.ReadFile("../../docker-compose.yml")
	require.NoError(t, err)
	cases := []struct{ name, old, new, says string }{
		{"a service is gone", "\n  temporal-namespace:\n", "\n  namespace-job:\n", `"temporal-namespace"`},
		{"no namespace created", "temporal operator namespace create", "temporal operator namespace list", "runs no `temporal operator namespace create"},
		{"no dynamic config", "      DYNAMIC_CONFIG_FILE_PATH: config/dynamicconfig/development-sql.yaml\n", "", "sets no DYNAMIC_CONFIG_FILE_PATH"},
		{"a schema job that is no script", `entrypoint: ["/bin/sh", "-ec"]` + "\n    command:\n      - |\n        for db", `entrypoint: ["/bin/bash", "-ec"]` + "\n    command:\n      - |\n        for db", "does not run a script with /bin/sh -ec"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, 1, strings.Count(string(good), tc.old), "the mutation must match once: %q", tc.old)
			path := filepath.Join(t.TempDir(), "docker-compose.yml")
			require.NoError(t, os.WriteFile(path, []byte(strings.Replace(string(good), tc.old, tc.new, 1)), 0o644))
			c, err := LoadCompose(path)
			if err == nil {
				_, _, err = c.Namespace()
			}
			if err == nil {
				_, err = DynamicConfigFile(c.service(temporalService))
			}
			if err == nil {
				_, err = c.Script(schemaService)
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.says)
		})
	}
}

// Without the binaries, the cluster says which is missing and what builds it.
func TestStartSaysWhatIsMissing(t *testing.T) {
	if _, err := PostgresBinDir(); err != nil {
		assert.Contains(t, err.Error(), "apt-get install postgresql-15")
		return
	}
	_, err := Start(t.Context(), Options{Bin: t.TempDir(), Dir: t.TempDir(), ComposeFile: "../../docker-compose.yml"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), ServerBinary)
	assert.Contains(t, err.Error(), "make build")
}
