// Package strictjson decodes JSON that people and other programs write (plan files, workflow
// inputs) so that a misspelt key is an error that names it, never a field silently left empty:
// a misspelt cmk_id must not produce an unencrypted image.
package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"unicode"
)

// Decode decodes one JSON value into v, refusing unknown keys, a key given twice in one object,
// and anything after the value (keys match their names regardless of case, as encoding/json
// does). Its errors say what is wrong in the caller's terms: the unknown key and, when one is
// close, the key it resembles; the key whose value has the wrong type, and the type wanted; the
// key given twice, with where it is.
func Decode(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return explain(err, v)
	}
	// More is false before a stray closing bracket, so the rest is read: it must be nothing.
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("more than one JSON value, or text after it: give exactly one object")
	}
	return Duplicates(data)
}

// Duplicates refuses a JSON value in which one object has the same key twice, spelt alike or
// differing only in case (which encoding/json takes as the same key): encoding/json keeps the last
// value and drops the other without a word, so `"cmk_id": "k", "cmk_id": ""` would make an
// unencrypted image. The error names the key's path (targets[0].cmk_id). Text that is not valid
// JSON is left to the decoder to refuse in its own words.
func Duplicates(data []byte) error {
	type frame struct {
		object    bool
		expectKey bool              // in an object: the next string is a key
		key       string            // in an object: the key whose value is being read
		index     int               // in a list: the index of the value being read
		seen      map[string]string // in an object: folded key -> the key as first spelt
	}
	var stack []*frame
	path := func(key string) string {
		var b strings.Builder
		for _, f := range stack[:len(stack)-1] {
			if f.object {
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.WriteString(f.key)
			} else {
				fmt.Fprintf(&b, "[%d]", f.index)
			}
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(key)
		return b.String()
	}
	// valueRead moves the innermost object or list past the value just read.
	valueRead := func() {
		if len(stack) == 0 {
			return
		}
		if top := stack[len(stack)-1]; top.object {
			top.expectKey = true
		} else {
			top.index++
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				stack = append(stack, &frame{object: true, expectKey: true, seen: map[string]string{}})
			case '[':
				stack = append(stack, &frame{})
			default:
				stack = stack[:len(stack)-1]
				valueRead()
			}
		case string:
			if top := len(stack) - 1; top >= 0 && stack[top].object && stack[top].expectKey {
				f := stack[top]
				folded := foldKey(t)
				if first, ok := f.seen[folded]; ok {
					if first == t {
						return fmt.Errorf("%s is given twice: give it once (only one value would count)", path(t))
					}
					return fmt.Errorf("%s is given twice, as %q and %q (keys match regardless of case): give it once", path(first), first, t)
				}
				f.seen[folded] = t
				f.key, f.expectKey = t, false
				continue
			}
			valueRead()
		default:
			valueRead()
		}
		if len(stack) == 0 {
			return nil // the first value is read; what follows is the decoder's to refuse
		}
	}
}

// foldKey folds a key as encoding/json does when it matches a key to a field: two keys with the
// same fold are the same key to it.
func foldKey(key string) string {
	var b strings.Builder
	for _, r := range key {
		for {
			r2 := unicode.SimpleFold(r)
			if r2 <= r {
				r = r2
				break
			}
			r = r2
		}
		b.WriteRune(r)
	}
	return b.String()
}

// unknownFieldPrefix is how encoding/json words an unknown key; it has no error type for it.
const unknownFieldPrefix = "json: unknown field "

func explain(err error, v any) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case strings.HasPrefix(err.Error(), unknownFieldPrefix):
		key := strings.Trim(strings.TrimPrefix(err.Error(), unknownFieldPrefix), `"`)
		msg := fmt.Sprintf("unknown key %q", key)
		if near := closest(key, keysOf(reflect.TypeOf(v))); near != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", near)
		}
		return errors.New(msg)
	case errors.As(err, &typeErr):
		where := typeErr.Field
		if where == "" {
			where = "the input"
		}
		return fmt.Errorf("%s must be %s, not a JSON %s", where, describe(typeErr.Type), typeErr.Value)
	case errors.As(err, &syntaxErr):
		return fmt.Errorf("not valid JSON at byte %d: %v", syntaxErr.Offset, syntaxErr)
	case errors.Is(err, io.EOF):
		return errors.New("empty input: give one JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("the JSON ends early: an object or a list is not closed")
	}
	return err
}

func describe(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return t.String()
}

// keysOf lists every JSON key of a type and the types inside it.
func keysOf(t reflect.Type) []string {
	var keys []string
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || seen[t] {
			return
		}
		seen[t] = true
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			switch {
			case name == "-":
				continue
			case f.Anonymous && name == "":
				walk(f.Type)
				continue
			case name == "":
				name = f.Name
			}
			keys = append(keys, name)
			walk(f.Type)
		}
	}
	walk(t)
	return keys
}

// closest is the known key nearest to key: one it contains or that contains it, or one within two
// edits; "" when none is that close.
func closest(key string, known []string) string {
	best, bestDist := "", 3
	lower := strings.ToLower(key)
	for _, k := range known {
		kl := strings.ToLower(k)
		d := editDistance(lower, kl)
		if d < bestDist || (best == "" && len(lower) >= 3 && (strings.Contains(kl, lower) || strings.Contains(lower, kl))) {
			best, bestDist = k, min(d, bestDist)
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// GoNames returns data with every key of its top-level object that is spelt exactly as one of v's
// struct fields is named in Go renamed to that field's JSON key. A type that was given JSON keys
// after payloads of it were recorded (encoding/json wrote the Go names until then) reads those
// payloads through it: histories replay and running workflows carry on. The match is exact, so a
// near miss of a Go name ("cmkid" for CMKID) stays an unknown key. Nested objects are left as they
// are: a nested type that was renamed does the same in its own UnmarshalJSON. data that is not an
// object is returned as it is, for the decoder to refuse in its own words.
func GoNames(data []byte, v any) ([]byte, error) {
	t := reflect.TypeOf(v)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if t == nil || t.Kind() != reflect.Struct || len(trimmed) == 0 || trimmed[0] != '{' {
		return data, nil
	}
	// The map below would keep one of a key given twice: refuse that first, in Decode's words.
	if err := Duplicates(data); err != nil {
		return nil, err
	}
	renames := goNames(t)
	var obj map[string]json.RawMessage
	if json.Unmarshal(data, &obj) != nil {
		return data, nil // not valid JSON: the decoder says where
	}
	renamed := false
	for goName, key := range renames {
		val, ok := obj[goName]
		if !ok {
			continue
		}
		if _, both := obj[key]; both {
			return nil, fmt.Errorf("%s is given twice: as %q and under its legacy name %q; give only %q", key, key, goName, key)
		}
		delete(obj, goName)
		obj[key] = val
		renamed = true
	}
	if !renamed {
		return data, nil
	}
	return json.Marshal(obj)
}

// goNames maps the Go name of each field of t that has another JSON key to that key.
func goNames(t reflect.Type) map[string]string {
	renames := map[string]string{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || f.Anonymous || name == "" || name == "-" || name == f.Name {
			continue
		}
		renames[f.Name] = name
	}
	return renames
}
