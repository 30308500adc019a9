// Package logging builds the zap logger the commands share, adapts it to the Temporal SDK's
// logger interface, and keeps registered secrets out of every line it writes.
package logging

import (
	"io"
	"os"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Options configure New.
type Options struct {
	Level zapcore.Level
	// Output receives one line per entry; os.Stderr when nil.
	Output io.Writer
	// Console writes human-readable lines (for a terminal) instead of JSON (for log collectors).
	Console bool
	// Redactor scrubs registered secrets from every line; New makes an empty one when nil.
	Redactor *Redactor
}

// New returns a logger that writes entries at opts.Level and above, with secrets redacted.
func New(opts Options) *zap.Logger {
	out := opts.Output
	if out == nil {
		out = os.Stderr
	}
	redactor := opts.Redactor
	if redactor == nil {
		redactor = NewRedactor()
	}

	encCfg := zap.NewProductionEncoderConfig()
	encCfg.EncodeTime = zapcore.ISO8601TimeEncoder
	encCfg.EncodeDuration = zapcore.StringDurationEncoder // "1m30s", not 90
	var enc zapcore.Encoder
	if opts.Console {
		encCfg.EncodeLevel = zapcore.CapitalLevelEncoder
		enc = zapcore.NewConsoleEncoder(encCfg)
	} else {
		enc = zapcore.NewJSONEncoder(encCfg)
	}

	core := zapcore.NewCore(redactingEncoder{Encoder: enc, redactor: redactor}, zapcore.Lock(zapcore.AddSync(out)), opts.Level)
	// Stack traces only for DPanic and above: the SDK logs retried activity failures at error
	// level, and a stack trace of the logging call says nothing about them.
	return zap.New(core, zap.AddCaller(), zap.AddStacktrace(zapcore.DPanicLevel))
}
