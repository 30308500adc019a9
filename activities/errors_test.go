package activities

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/imscopy/imscopy/activities/activityapi"
	"github.com/imscopy/imscopy/imsapi"
	"github.com/imscopy/imscopy/internal/testkit"
)

func TestEveryClassMapsToAStableType(t *testing.T) {
	for class, want := range map[imsapi.Class]struct {
		errType      string
		nonRetryable bool
	}{
		imsapi.ClassInvalid:   {ErrIMSInvalidRequest, true},
		imsapi.ClassNotFound:  {ErrIMSNotFound, true},
		imsapi.ClassForbidden: {ErrIMSForbidden, true},
		imsapi.ClassAuth:      {ErrIMSAuth, true},
		imsapi.ClassQuota:     {ErrIMSQuota, true},
		imsapi.ClassThrottled: {ErrIMSThrottled, false},
		imsapi.ClassBusy:      {ErrIMSBusy, false},
		imsapi.ClassTransient: {ErrIMSTransient, false},
		imsapi.ClassUnknown:   {ErrIMSUnknown, true},
	} {
		t.Run(string(class), func(t *testing.T) {
			src := &imsapi.Error{Op: "CopyInRegion", Status: 400, Code: "IMG.0015", Message: "quota", RequestID: "abc", Class: class}
			app := testkit.AppError(t, fromIMS(fmt.Errorf("wrapped: %w", src)))
			assert.Equal(t, want.errType, app.Type())
			assert.Equal(t, want.nonRetryable, app.NonRetryable())
			assert.Equal(t, want.nonRetryable, containsType(NonRetryableErrorTypes, app.Type()))
			assert.Contains(t, app.Message(), "IMG.0015", "IMS's code reaches the user")
			var d IMSFailure
			require.NoError(t, app.Details(&d))
			assert.Equal(t, IMSFailure{Op: "CopyInRegion", Status: 400, Code: "IMG.0015", Class: string(class), RequestID: "abc"}, d)
		})
	}
}

func containsType(types []string, t string) bool {
	for _, x := range types {
		if x == t {
			return true
		}
	}
	return false
}

func TestThrottledHonoursRetryAfterWithJitter(t *testing.T) {
	for range 20 {
		app := testkit.AppError(t, fromIMS(&imsapi.Error{Class: imsapi.ClassThrottled, Status: 429, Code: "APIGW.0308", RetryAfter: 7 * time.Second}))
		assert.GreaterOrEqual(t, app.NextRetryDelay(), 7*time.Second)
		assert.LessOrEqual(t, app.NextRetryDelay(), 8400*time.Millisecond)

		app = testkit.AppError(t, fromIMS(&imsapi.Error{Class: imsapi.ClassThrottled, Status: 400, Code: "IMG.0060"}))
		assert.GreaterOrEqual(t, app.NextRetryDelay(), throttleDelay/2)
		assert.LessOrEqual(t, app.NextRetryDelay(), throttleDelay*3/2)
	}
}

func TestValidationErrorIsInvalidInput(t *testing.T) {
	err := imsapi.CopyRequest{SourceImageID: "465076de-dc36-4aec-80f5-ef9d8009428f", Name: " leading space"}.Validate()
	require.Error(t, err)
	app := testkit.AppError(t, fromIMS(err))
	assert.Equal(t, ErrInvalidInput, app.Type())
	assert.True(t, app.NonRetryable())
	assert.Contains(t, app.Message(), "name")
	assert.True(t, strings.HasSuffix(app.Message(), "; fix it and start the copy again"), app.Message())
	assert.False(t, app.HasDetails(), "an activity's refusal has no detail: SubmitCopy's errors carry an IMSFailure")

	// A workflow's refusal carries the broken rule.
	wf := testkit.AppError(t, activityapi.InvalidInput(err, "fix the plan", activityapi.RuleDetail(err)...))
	assert.True(t, strings.HasSuffix(wf.Message(), "; fix the plan"), wf.Message())
	var v imsapi.ValidationError
	require.NoError(t, wf.Details(&v), "the broken rule is the detail")
	assert.Equal(t, "name", v.Field)
	assert.Empty(t, activityapi.RuleDetail(errors.New("nothing to wait for")), "no rule, no detail")
}

func TestCancellationPassesThrough(t *testing.T) {
	err := fromIMS(fmt.Errorf("GetJob: %w", context.Canceled))
	assert.ErrorIs(t, err, context.Canceled)
	var app *temporal.ApplicationError
	assert.False(t, errors.As(err, &app), "a cancellation must not become a failure")
}

func TestCopyFailedCarriesIMSCodeAndReason(t *testing.T) {
	f := CopyFailure{JobID: "edc89b490d7d4392898e19b2deb34797", ImageID: "img", ErrorCode: "IMG.0099", FailReason: "no access to the KMS key"}
	app := testkit.AppError(t, copyFailed(f))
	assert.Equal(t, ErrCopyFailed, app.Type())
	assert.True(t, app.NonRetryable())
	assert.Contains(t, app.Message(), "IMG.0099")
	assert.Contains(t, app.Message(), "no access to the KMS key")
	var got CopyFailure
	require.NoError(t, app.Details(&got))
	assert.Equal(t, f, got)
}
