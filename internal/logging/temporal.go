package logging

import (
	"fmt"

	"go.temporal.io/sdk/log"
	"go.uber.org/zap"
)

// TemporalLogger adapts a zap logger to the Temporal SDK's log.Logger, log.WithLogger and
// log.WithSkipCallers, so the SDK's own lines (worker start, poller errors, workflow and activity
// loggers) go through the same encoder and redaction as ours.
type TemporalLogger struct {
	zl *zap.Logger
}

var (
	_ log.Logger          = (*TemporalLogger)(nil)
	_ log.WithLogger      = (*TemporalLogger)(nil)
	_ log.WithSkipCallers = (*TemporalLogger)(nil)
)

// NewTemporalLogger wraps zl. The caller reported is the SDK's (or workflow's) logging call,
// not this adapter.
func NewTemporalLogger(zl *zap.Logger) *TemporalLogger {
	return &TemporalLogger{zl: zl.WithOptions(zap.AddCallerSkip(1))}
}

func (l *TemporalLogger) Debug(msg string, keyvals ...any) { l.zl.Debug(msg, fields(keyvals)...) }
func (l *TemporalLogger) Info(msg string, keyvals ...any)  { l.zl.Info(msg, fields(keyvals)...) }
func (l *TemporalLogger) Warn(msg string, keyvals ...any)  { l.zl.Warn(msg, fields(keyvals)...) }
func (l *TemporalLogger) Error(msg string, keyvals ...any) { l.zl.Error(msg, fields(keyvals)...) }

// With returns a logger that adds keyvals to every entry.
func (l *TemporalLogger) With(keyvals ...any) log.Logger {
	return &TemporalLogger{zl: l.zl.With(fields(keyvals)...)}
}

// WithCallerSkip returns a logger that reports the caller skip frames further up the stack.
func (l *TemporalLogger) WithCallerSkip(skip int) log.Logger {
	return &TemporalLogger{zl: l.zl.WithOptions(zap.AddCallerSkip(skip))}
}

// BadKey names a value that came without a key, so an odd-length keyvals list still shows it.
const BadKey = "!BADKEY"

// fields turns the SDK's alternating key, value list into zap fields. Keys that are not strings
// are printed with fmt, so nothing the SDK passes is dropped.
func fields(keyvals []any) []zap.Field {
	fs := make([]zap.Field, 0, (len(keyvals)+1)/2)
	for i := 0; i < len(keyvals); i += 2 {
		if i+1 == len(keyvals) {
			fs = append(fs, zap.Any(BadKey, keyvals[i]))
			break
		}
		key, ok := keyvals[i].(string)
		if !ok {
			key = fmt.Sprint(keyvals[i])
		}
		fs = append(fs, zap.Any(key, keyvals[i+1]))
	}
	return fs
}
