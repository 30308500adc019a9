package devserver

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/imscopy/imscopy/internal/logging"
)

func TestServerLogShowsOnlyWarningsWhileOpen(t *testing.T) {
	var out bytes.Buffer
	serverLogs := newServerLog(logging.New(logging.Options{Level: zapcore.DebugLevel, Output: &out}))
	child := serverLogs.logger.With(zap.String("service", "history")) // derived before open, gated too

	serverLogs.logger.Error("while starting")
	serverLogs.open()
	serverLogs.logger.Info("service started")
	serverLogs.logger.Warn("shown warning")
	child.Error("shown error")
	serverLogs.quiet()
	serverLogs.logger.Error("while stopping")

	assert.NotContains(t, out.String(), "while starting")
	assert.NotContains(t, out.String(), "service started")
	assert.Contains(t, out.String(), "shown warning")
	assert.Contains(t, out.String(), "shown error")
	assert.NotContains(t, out.String(), "while stopping")
}

func TestServerLogNeverLowersTheLoggersLevel(t *testing.T) {
	var out bytes.Buffer
	serverLogs := newServerLog(logging.New(logging.Options{Level: zapcore.ErrorLevel, Output: &out}))
	serverLogs.open()

	serverLogs.logger.Warn("below the logger's level")
	serverLogs.logger.Error("at the logger's level")

	assert.NotContains(t, out.String(), "below the logger's level")
	assert.Contains(t, out.String(), "at the logger's level")
}
