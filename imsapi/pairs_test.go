package imsapi

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	projectA = "0b3f6ab0e2a64c2c9f2c4c6f4c1d7e01"
	projectB = "5c2e8f0d4a7b4e1f9c3d2b6a8e0f1a23"
)

func TestParseEndpoints(t *testing.T) {
	tests := []struct {
		in      string
		want    map[string]string
		wantErr string // a substring naming the bad pair
	}{
		{"", map[string]string{}, ""},
		{"cn-north-4=http://127.0.0.1:8080", map[string]string{"cn-north-4": "http://127.0.0.1:8080"}, ""},
		{" cn-north-4 = http://127.0.0.1:8080/ , cn-east-3=https://ims.example.com ,",
			map[string]string{"cn-north-4": "http://127.0.0.1:8080", "cn-east-3": "https://ims.example.com"}, ""},
		{"cn-north-4", nil, `"cn-north-4"`},
		{"cn-north-4=", nil, `"cn-north-4="`},
		{"=http://x", nil, `"=http://x"`},
		{"CN=http://x", nil, `"CN=http://x"`},
		{"cn-north-4=127.0.0.1:8080", nil, `"cn-north-4=127.0.0.1:8080"`},
		{"cn-north-4=ftp://x", nil, `"cn-north-4=ftp://x"`},
		{"cn-north-4=http://", nil, `"cn-north-4=http://"`},
		{"cn-north-4=http://x/ims", nil, `"cn-north-4=http://x/ims"`},
		{"cn-north-4=http://x,cn-north-4=http://y", nil, `"cn-north-4=http://y"`},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseEndpoints(tc.in)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

// ParsePairs is the shape every per-region setting shares; IMS_PROJECTS reads with it like this.
func TestParsePairs(t *testing.T) {
	project := func(v string) (string, error) { return v, ValidateProjectID("project ID", v) }
	got, err := ParsePairs(" cn-north-4 = "+projectA+" ,, cn-east-3="+projectB+",", "pair", "region=projectID", project)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"cn-north-4": projectA, "cn-east-3": projectB}, got)

	for in, wantErr := range map[string]string{
		"cn-north-4":        `pair "cn-north-4": want region=projectID`,
		"=" + projectA:      `pair "=` + projectA + `": want region=projectID`,
		"North=" + projectA: `pair "North=` + projectA + `": invalid region`,
		"cn-north-4=nope":   `pair "cn-north-4=nope": invalid project ID`,
		"cn-north-4=" + projectA + ",cn-north-4=" + projectB: "region cn-north-4 is given twice",
	} {
		_, err := ParsePairs(in, "pair", "region=projectID", project)
		require.Error(t, err, in)
		assert.Contains(t, err.Error(), wantErr, in)
	}
}
