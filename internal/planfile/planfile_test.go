package planfile

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every example plan in testdata/plans loads and passes every rule.
func TestEveryExamplePlanLoads(t *testing.T) {
	files, err := filepath.Glob("../../testdata/plans/*")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			p, err := Load(f)
			require.NoError(t, err)
			assert.NotEmpty(t, p.Targets)
		})
	}
}

func TestTheREADMEPlanReadsAsWritten(t *testing.T) {
	p, err := Load("../../testdata/plans/three-targets.yaml")
	require.NoError(t, err)
	assert.Equal(t, "golden-2026.12", p.Name)
	assert.Equal(t, "ims_admin_agency", p.AgencyName)
	require.Len(t, p.Targets, 3)
	assert.Equal(t, "bd66288c-9081-460a-8227-4cbd0c814cb4", p.Targets[0].CMKID)
	assert.True(t, p.Targets[1].Accept)
	assert.Equal(t, []string{"5c2e8f0d4a7b4e1f9c3d2b6a8e0f1a24"}, p.Targets[1].ShareWith)
}

// A misspelt key is refused, naming it and the key it resembles: a misspelt cmk_id must never
// make an unencrypted image.
func TestAnUnknownKeyIsRefusedWithTheKeyItResembles(t *testing.T) {
	_, err := Parse([]byte(`
name: golden
source: {region: cn-north-4, image_id: 465076de-dc36-4aec-80f5-ef9d8009428f}
targets:
  - region: cn-north-4
    cmk: bd66288c-9081-460a-8227-4cbd0c814cb4
`))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `unknown key "cmk"`)
	assert.Contains(t, err.Error(), `did you mean "cmk_id"?`)
}

func TestWrongShapesAndBadRulesAreRefusedClearly(t *testing.T) {
	for name, c := range map[string]struct{ plan, says string }{
		"a list where a string goes": {`{"name": ["a"], "source": {}, "targets": []}`, "name must be a string"},
		"a string where a list goes": {`name: g
source: {region: cn-north-4, image_id: 465076de-dc36-4aec-80f5-ef9d8009428f}
targets: cn-east-3`, "targets must be a list"},
		"not YAML": {"name: [", "not valid YAML"},
		"empty":    {"# nothing yet\n", "the plan is empty"},
		"bad rule": {"name: g\nsource: {region: cn-north-4, image_id: 465076de-dc36-4aec-80f5-ef9d8009428f}\ntargets: [{region: cn-east-3}]", "agency_name"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Parse([]byte(c.plan))
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.says)
		})
	}
}

func TestAMissingFileSaysSo(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "none.yaml"))
	require.ErrorIs(t, err, os.ErrNotExist)
	assert.Contains(t, err.Error(), "reading the plan")
}
