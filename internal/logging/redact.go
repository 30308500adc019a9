package logging

import (
	"sort"
	"strings"
	"sync"

	"go.uber.org/zap/buffer"
	"go.uber.org/zap/zapcore"
)

// Redacted replaces a registered secret wherever it would have appeared.
const Redacted = "[redacted]"

// Redactor holds the secrets no log line may contain. It works on the encoded line, after every
// field, error message, caller and stack trace has been rendered, so a secret is caught whatever
// path it took into the log: a field, a formatted error, a struct printed with zap.Any, or a
// key-value pair the Temporal SDK passed through.
type Redactor struct {
	mu       sync.RWMutex
	secrets  map[string]struct{}
	replacer *strings.Replacer // nil until a secret is registered
}

// NewRedactor returns a Redactor with no secrets.
func NewRedactor() *Redactor {
	return &Redactor{secrets: map[string]struct{}{}}
}

// Register adds secrets; empty strings are ignored. Each secret is also registered in the form a
// JSON encoder writes it (quotes, backslashes and control characters escaped), so a secret with
// such characters is caught in JSON lines too.
func (r *Redactor) Register(secrets ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range secrets {
		if s == "" {
			continue
		}
		r.secrets[s] = struct{}{}
		r.secrets[jsonEscaper.Replace(s)] = struct{}{}
	}
	r.replacer = newReplacer(r.secrets)
}

// Redact returns s with every registered secret replaced by Redacted.
func (r *Redactor) Redact(s string) string {
	r.mu.RLock()
	rep := r.replacer
	r.mu.RUnlock()
	if rep == nil {
		return s
	}
	return rep.Replace(s)
}

// jsonEscaper renders a string the way zap's JSON encoder does for the characters that change.
var jsonEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`, "\t", `\t`)

func newReplacer(secrets map[string]struct{}) *strings.Replacer {
	olds := make([]string, 0, len(secrets))
	for s := range secrets {
		olds = append(olds, s)
	}
	// strings.Replacer tries the old strings in argument order at each position: longest first, so
	// a secret that contains another (a token that embeds the AK) is replaced whole.
	sort.Slice(olds, func(i, j int) bool {
		if len(olds[i]) != len(olds[j]) {
			return len(olds[i]) > len(olds[j])
		}
		return olds[i] < olds[j]
	})
	pairs := make([]string, 0, 2*len(olds))
	for _, s := range olds {
		pairs = append(pairs, s, Redacted)
	}
	return strings.NewReplacer(pairs...)
}

// redactingEncoder wraps an encoder and scrubs every line it produces. Context fields added with
// Logger.With live in the wrapped encoder's buffer and come out through EncodeEntry too.
type redactingEncoder struct {
	zapcore.Encoder
	redactor *Redactor
}

func (e redactingEncoder) Clone() zapcore.Encoder {
	return redactingEncoder{Encoder: e.Encoder.Clone(), redactor: e.redactor}
}

func (e redactingEncoder) EncodeEntry(ent zapcore.Entry, fields []zapcore.Field) (*buffer.Buffer, error) {
	buf, err := e.Encoder.EncodeEntry(ent, fields)
	if err != nil {
		return nil, err
	}
	line := buf.String()
	if clean := e.redactor.Redact(line); clean != line {
		buf.Reset()
		buf.AppendString(clean)
	}
	return buf, nil
}
