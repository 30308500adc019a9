package devserver

import (
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// serverLog is the server's view of our logger: warnings and errors only (it logs every
// service's life at info), and nothing at all while it starts or stops. A starting server warns
// that its own internal workers cannot reach the frontend yet, and a stopping one reports every
// call that the stop cancelled; a failed start or stop is returned as an error instead.
type serverLog struct {
	logger *zap.Logger
	gate   zap.AtomicLevel
	floor  zapcore.Level // warn, or the logger's own level when higher
}

func newServerLog(l *zap.Logger) *serverLog {
	floor := zapcore.WarnLevel
	if cur := zapcore.LevelOf(l.Core()); cur > floor {
		floor = cur
	}
	s := &serverLog{gate: zap.NewAtomicLevelAt(zapcore.FatalLevel), floor: floor}
	s.logger = l.WithOptions(
		// The server reports its own call site in a logging-call-at field; zap's caller would
		// only name the server's logging adapter.
		zap.WithCaller(false),
		zap.WrapCore(func(c zapcore.Core) zapcore.Core { return gatedCore{Core: c, gate: s.gate} }),
	)
	return s
}

// open lets warnings and errors through; quiet silences the server again.
func (s *serverLog) open()  { s.gate.SetLevel(s.floor) }
func (s *serverLog) quiet() { s.gate.SetLevel(zapcore.FatalLevel) }

// gatedCore drops entries below a level that can change while the logger is in use.
type gatedCore struct {
	zapcore.Core
	gate zap.AtomicLevel
}

func (c gatedCore) Enabled(l zapcore.Level) bool { return c.gate.Enabled(l) && c.Core.Enabled(l) }

func (c gatedCore) With(fields []zapcore.Field) zapcore.Core {
	return gatedCore{Core: c.Core.With(fields), gate: c.gate}
}

func (c gatedCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if !c.gate.Enabled(e.Level) {
		return ce
	}
	return c.Core.Check(e, ce)
}
