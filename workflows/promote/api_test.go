package promote

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"

	"github.com/imscopy/imscopy/activities"
	"github.com/imscopy/imscopy/internal/testkit"
)

const planJSON = `{"plan": {"name": "golden-2026.12", "source": {"region": "cn-north-4", "image_id": "` + sourceID + `"},
	"targets": [{"region": "cn-north-4", "cmk_id": "` + northKey + `"}]}}`

// A promotion started from JSON with a key misspelt anywhere (a target's cmkid would otherwise
// vanish and leave that target unencrypted) fails as InvalidInput naming it, before any activity.
func TestAPromotionFromJSONRefusesAnUnknownKey(t *testing.T) {
	for name, c := range map[string]struct{ js, says string }{
		"in a target": {strings.Replace(planJSON, `"cmk_id"`, `"cmkid"`, 1), `unknown key "cmkid" (did you mean "cmk_id"?)`},
		"at the top":  {strings.Replace(planJSON, `}]}}`, `}]}, "keep_failed": true}`, 1), `(did you mean "keep_failed_images"?)`},
		"a list":      {`[` + planJSON + `]`, "must be an object"},
		"null":        {`null`, "input is null"},
	} {
		t.Run(name, func(t *testing.T) {
			env, _ := newEnv(t)
			var mu sync.Mutex
			var ran []string
			env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
				mu.Lock()
				defer mu.Unlock()
				ran = append(ran, info.ActivityType.Name)
			})
			env.ExecuteWorkflow(WorkflowName, testkit.JSONPayload(c.js))

			app := testkit.AppError(t, env.GetWorkflowError())
			assert.Equal(t, activities.ErrInvalidInput, app.Type())
			assert.True(t, app.NonRetryable())
			assert.Contains(t, app.Message(), c.says)
			assert.Empty(t, ran, "no activity may run for bad input")
		})
	}
}

// The same JSON, spelt right, is the Go caller's Input.
func TestAPromotionFromJSONIsTheGoCallersInput(t *testing.T) {
	in, err := DecodeInput([]byte(planJSON))
	require.NoError(t, err)
	p := threeTargets()
	p.AgencyName, p.Targets = "", p.Targets[:1]
	assert.Equal(t, Input{Plan: p}, in)
}
