package logging

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

const (
	testAK    = "HPUAXJ3KZ5W0TESTAKEY"
	testSK    = "tS3cr3t/KeyWith+Chars=0123456789abcdefghij"
	testToken = "gQpjbi1ub3J0aC00" + testAK + "tokentail"
)

func TestRedactorScrubsEveryPathIntoTheLog(t *testing.T) {
	for _, console := range []bool{false, true} {
		t.Run(fmt.Sprintf("console=%v", console), func(t *testing.T) {
			var out bytes.Buffer
			redactor := NewRedactor()
			redactor.Register(testAK, testSK, testToken)
			logger := New(Options{Level: zapcore.DebugLevel, Output: &out, Console: console, Redactor: redactor})

			type credentials struct{ AK, SK string }
			logger.Info("signing with "+testSK, zap.String("ak", testAK))
			logger.Warn("call failed", zap.Error(fmt.Errorf("wrapped: %w", errors.New("token "+testToken+" rejected"))))
			logger.Debug("config", zap.Any("credentials", credentials{AK: testAK, SK: testSK}))
			logger.With(zap.String("sk", testSK)).Error("with context")
			NewTemporalLogger(logger).Info("sdk line", "SecretKey", testSK, "Token", testToken)

			text := out.String()
			require.NotEmpty(t, text)
			assert.NotContains(t, text, testAK)
			assert.NotContains(t, text, testSK)
			assert.NotContains(t, text, "tokentail", "the token must go whole, not only the AK inside it")
			assert.Contains(t, text, Redacted)
			assert.Contains(t, text, "with context", "redaction must not drop the rest of the line")
		})
	}
}

func TestRedactorCatchesJSONEscapedSecret(t *testing.T) {
	const secret = `quote"and\backslash`
	var out bytes.Buffer
	redactor := NewRedactor()
	redactor.Register(secret)
	New(Options{Level: zapcore.InfoLevel, Output: &out, Redactor: redactor}).Info("x", zap.String("v", secret))

	assert.NotContains(t, out.String(), `quote\"and\\backslash`)
	assert.NotContains(t, out.String(), "backslash")
	assert.Contains(t, out.String(), Redacted)
}

func TestRedactorSecretsRegisteredAfterTheLoggerIsBuilt(t *testing.T) {
	var out bytes.Buffer
	redactor := NewRedactor()
	logger := New(Options{Level: zapcore.InfoLevel, Output: &out, Redactor: redactor})
	child := logger.With(zap.String("k", testSK)) // context encoded before the secret is known

	redactor.Register(testSK)
	child.Info("late")

	assert.NotContains(t, out.String(), testSK)
	assert.Contains(t, out.String(), Redacted)
}

func TestRedactorIgnoresEmptySecrets(t *testing.T) {
	redactor := NewRedactor()
	redactor.Register("", "")
	assert.Equal(t, "unchanged line", redactor.Redact("unchanged line"))
}

func TestRedactPlainString(t *testing.T) {
	redactor := NewRedactor()
	redactor.Register("abc123", "abc123456")
	assert.Equal(t, "x [redacted] y [redacted]", redactor.Redact("x abc123456 y abc123"))
}
