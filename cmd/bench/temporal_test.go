package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every subcommand runs on the embedded server unless told otherwise, takes -temporal cluster
// with its binaries and Compose file, and refuses a server it does not know.
func TestTemporalFlag(t *testing.T) {
	parsers := map[string]func([]string) (options, error){
		"bench": parseFlags,
		"chaos": func(a []string) (options, error) { o, err := parseChaosFlags(a); return o.options, err },
		"promote": func(a []string) (options, error) {
			o, err := parsePromotionFlags(a)
			return o.options, err
		},
	}
	for name, parse := range parsers {
		t.Run(name, func(t *testing.T) {
			o, err := parse(nil)
			require.NoError(t, err)
			assert.Equal(t, temporalEmbedded, o.temporal)

			o, err = parse([]string{"-temporal", "cluster", "-bin", "/opt/bin", "-compose", "deploy/compose.yml"})
			require.NoError(t, err)
			assert.Equal(t, temporalCluster, o.temporal)
			assert.Equal(t, "/opt/bin", o.clusterBin)
			assert.Equal(t, "deploy/compose.yml", o.composeFile)

			for _, bad := range []string{"sqlite", "Cluster", ""} {
				_, err = parse([]string{"-temporal", bad})
				assert.ErrorContains(t, err, "want embedded or cluster", "-temporal %q", bad)
			}
		})
	}
}
