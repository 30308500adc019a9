package promote

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imscopy/imscopy/imsapi"
)

func validPlan() Plan {
	return Plan{
		Name:       "golden-2026.12",
		Source:     Source{Region: "cn-north-4", ImageID: "465076de-dc36-4aec-80f5-ef9d8009428f"},
		AgencyName: "ims_admin_agency",
		Targets: []Target{
			{Region: "cn-north-4", CMKID: "bd66288c-9081-460a-8227-4cbd0c814cb4"},
			{Region: "cn-east-3", ShareWith: []string{"5c2e8f0d4a7b4e1f9c3d2b6a8e0f1a24"}, Accept: true},
		},
	}
}

func TestAValidPlanPasses(t *testing.T) {
	require.NoError(t, validPlan().Validate())
}

// Every rule IMS would refuse is refused before any call, naming the target and the field.
func TestPlanRulesNameTheTargetAndField(t *testing.T) {
	member := "5c2e8f0d4a7b4e1f9c3d2b6a8e0f1a24"
	for name, c := range map[string]struct {
		change func(*Plan)
		field  string // the start of the ValidationError's field
		says   string
	}{
		"no targets":             {func(p *Plan) { p.Targets = nil }, "targets", "at least one"},
		"bad name":               {func(p *Plan) { p.Name = "bad<name>" }, "name", "letters"},
		"bad target name":        {func(p *Plan) { p.Targets[1].Name = " lead" }, "targets[1] (cn-east-3) name", "space"},
		"bad description":        {func(p *Plan) { p.Description = "a <b>" }, "description", "'<'"},
		"bad source image":       {func(p *Plan) { p.Source.ImageID = "golden" }, "source.image_id", "UUID"},
		"bad source region":      {func(p *Plan) { p.Source.Region = "Beijing" }, "source.region", "region ID"},
		"bad target region":      {func(p *Plan) { p.Targets[0].Region = "north" }, "targets[0] (north) region", "region ID"},
		"bad key":                {func(p *Plan) { p.Targets[0].CMKID = "key" }, "targets[0] (cn-north-4) cmk_id", "UUID"},
		"bad enterprise project": {func(p *Plan) { p.Targets[0].EnterpriseProjectID = "x" }, "targets[0] (cn-north-4) enterprise_project_id", "UUID"},
		"enterprise project on a plain cross-region target": {func(p *Plan) {
			p.Targets[1].EnterpriseProjectID = "2b5e9e47-0000-4000-8000-000000000001"
		}, "targets[1] (cn-east-3) enterprise_project_id", "default enterprise project"},
		"a repeated target":       {func(p *Plan) { p.Targets = append(p.Targets, Target{Region: "cn-east-3"}) }, "targets[2] (cn-east-3) region", "repeats targets[1]"},
		"encrypted and shared":    {func(p *Plan) { p.Targets[1].CMKID = "bd66288c-9081-460a-8227-4cbd0c814cb4" }, "targets[1] (cn-east-3) share_with", "IMG.0098"},
		"bad member":              {func(p *Plan) { p.Targets[1].ShareWith = []string{"ABC"} }, "targets[1] (cn-east-3) share_with[0]", "project ID"},
		"member twice":            {func(p *Plan) { p.Targets[1].ShareWith = []string{member, member} }, "targets[1] (cn-east-3) share_with[1]", "twice"},
		"accept without a share":  {func(p *Plan) { p.Targets[0].Accept = true }, "targets[0] (cn-north-4) accept", "share_with"},
		"accept queue, no share":  {func(p *Plan) { p.Targets[0].AcceptQueue = "q" }, "targets[0] (cn-north-4) accept", "share_with"},
		"accept queue with space": {func(p *Plan) { p.Targets[1].AcceptQueue = " q" }, "targets[1] (cn-east-3) accept_queue", "spaces"},
		"accept queue reserved":   {func(p *Plan) { p.Targets[1].AcceptQueue = "/_sys/q/1" }, "targets[1] (cn-east-3) accept_queue", "keeps for its own"},
		"accept queue internal":   {func(p *Plan) { p.Targets[1].AcceptQueue = "temporal-sys-per-ns-tq" }, "targets[1] (cn-east-3) accept_queue", "keeps for its own"},
		"missing agency":          {func(p *Plan) { p.AgencyName = "" }, "agency_name", "targets[1] (cn-east-3)"},
		"over 128 members": {func(p *Plan) {
			p.Targets[1].ShareWith = make([]string, imsapi.MaxMembers+1)
			for i := range p.Targets[1].ShareWith {
				p.Targets[1].ShareWith[i] = fmt.Sprintf("%032x", i)
			}
		}, "targets[1] (cn-east-3) share_with", "at most 128"},
	} {
		t.Run(name, func(t *testing.T) {
			p := validPlan()
			c.change(&p)
			err := p.Validate()
			var v *imsapi.ValidationError
			require.ErrorAs(t, err, &v)
			assert.True(t, strings.HasPrefix(v.Field, c.field), "field %q, want %q", v.Field, c.field)
			assert.Contains(t, err.Error(), c.says)
		})
	}
}

// Workflow IDs must be printable ASCII (they travel as gRPC headers) for every name IMS allows,
// and differ for different names.
func TestIDsArePrintableForChineseNames(t *testing.T) {
	p := validPlan()
	p.Name = "金色镜像 2026"
	id := ID(p)
	for _, r := range id {
		assert.True(t, r > ' ' && r < 0x7f, "ID %q holds %q", id, r)
	}
	other := p
	other.Name = "金色镜像 2027"
	assert.NotEqual(t, id, ID(other))
	child := TargetID(id, p, p.Targets[1])
	assert.True(t, strings.HasPrefix(child, id+"/cn-east-3/"), child)
	assert.Equal(t, child, TargetID(id, p, p.Targets[1]), "a rerun finds the same child")
}
