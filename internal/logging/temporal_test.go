package logging

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/log"
	"go.uber.org/zap/zapcore"
)

// entries decodes the JSON lines a logger wrote.
func entries(t *testing.T, out *bytes.Buffer) []map[string]any {
	t.Helper()
	var es []map[string]any
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		var e map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &e), "line %q", sc.Text())
		es = append(es, e)
	}
	return es
}

func TestTemporalLoggerLevelsAndFields(t *testing.T) {
	var out bytes.Buffer
	var logger log.Logger = NewTemporalLogger(New(Options{Level: zapcore.InfoLevel, Output: &out}))

	logger.Debug("hidden at info", "k", 1)
	logger.Info("started", "Namespace", "default", "TaskQueue", "imscopy")
	logger.Warn("slow", "Attempt", 3)
	logger.Error("failed", "Error", errors.New("boom"))

	es := entries(t, &out)
	require.Len(t, es, 3, "debug must be filtered at info level")
	assert.Equal(t, "info", es[0]["level"])
	assert.Equal(t, "started", es[0]["msg"])
	assert.Equal(t, "default", es[0]["Namespace"])
	assert.Equal(t, "imscopy", es[0]["TaskQueue"])
	assert.Equal(t, "warn", es[1]["level"])
	assert.EqualValues(t, 3, es[1]["Attempt"])
	assert.Equal(t, "error", es[2]["level"])
	assert.Equal(t, "boom", es[2]["Error"])
}

func TestTemporalLoggerWithAddsFieldsWithoutChangingTheParent(t *testing.T) {
	var out bytes.Buffer
	parent := NewTemporalLogger(New(Options{Level: zapcore.DebugLevel, Output: &out}))

	child := log.With(parent, "WorkflowID", "copy/cn-north-4/x")
	child.Info("child")
	parent.Info("parent")

	es := entries(t, &out)
	require.Len(t, es, 2)
	assert.Equal(t, "copy/cn-north-4/x", es[0]["WorkflowID"])
	assert.NotContains(t, es[1], "WorkflowID")
}

func TestTemporalLoggerKeepsOddAndNonStringKeys(t *testing.T) {
	var out bytes.Buffer
	logger := NewTemporalLogger(New(Options{Level: zapcore.DebugLevel, Output: &out}))

	logger.Info("odd", 42, "answer", "dangling")

	es := entries(t, &out)
	require.Len(t, es, 1)
	assert.Equal(t, "answer", es[0]["42"])
	assert.Equal(t, "dangling", es[0][BadKey])
}

func TestTemporalLoggerReportsTheCallerNotTheAdapter(t *testing.T) {
	var out bytes.Buffer
	logger := NewTemporalLogger(New(Options{Level: zapcore.DebugLevel, Output: &out}))

	logHelper(logger)
	logHelper(logger.WithCallerSkip(1))

	es := entries(t, &out)
	require.Len(t, es, 2)
	helperLine, callerLine := es[0]["caller"], es[1]["caller"]
	assert.Contains(t, helperLine, "temporal_test.go", "the adapter's own frame must be skipped")
	assert.Contains(t, callerLine, "temporal_test.go")
	assert.NotEqual(t, helperLine, callerLine, "skip 1 must point past logHelper to the line that called it")
}

func logHelper(l log.Logger) { l.Info("via helper") }
