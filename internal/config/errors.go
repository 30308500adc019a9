package config

import (
	"errors"
	"fmt"
	"reflect"

	"github.com/kelseyhightower/envconfig"
)

// Error is an environment variable a program cannot start with. Its message names the variable,
// says what is wrong, and says what to set instead.
type Error struct {
	Var    string // the environment variable, e.g. POLL_MAX
	Reason string // what is wrong, e.g. `is "abc", not a duration`
	Fix    string // what to do, e.g. "set it to the longest wait between two polls, such as 1m"
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s %s: %s", e.Var, e.Reason, e.Fix)
}

// process runs envconfig over spec and turns its errors into *Error, with the fix taken from the
// field's desc tag so that the usage text and the error message never disagree. It reads every
// variable, so that one run names every bad one: envconfig alone stops at the first.
func process(spec any) error {
	v := reflect.ValueOf(spec).Elem()
	t := v.Type()
	var errs []error
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() || f.Tag.Get("ignored") == "true" {
			continue
		}
		// The field alone, with its tags, starting from the value spec holds (a default that
		// another package owns stays when the variable is unset).
		one := reflect.New(reflect.StructOf([]reflect.StructField{{Name: f.Name, Type: f.Type, Tag: f.Tag}}))
		one.Elem().Field(0).Set(v.Field(i))
		if err := envconfig.Process("", one.Interface()); err != nil {
			errs = append(errs, processError(spec, err))
			continue
		}
		v.Field(i).Set(one.Elem().Field(0))
	}
	return errors.Join(errs...)
}

// processError is envconfig's error for one of spec's fields as an *Error.
func processError(spec any, err error) error {
	var pe *envconfig.ParseError
	if !errors.As(err, &pe) {
		// Only required:"true" tags produce other errors, and the specs here use none: every
		// required variable is checked by hand so the message can say what to set.
		return err
	}
	field, _ := reflect.TypeOf(spec).Elem().FieldByName(pe.FieldName)
	reason := fmt.Sprintf("is %q, which is not valid (%v)", pe.Value, pe.Err)
	if field.Type == reflect.TypeOf(Secret("")) {
		reason = fmt.Sprintf("is not valid (%v)", pe.Err)
	}
	return &Error{Var: pe.KeyName, Reason: reason, Fix: fixFor(spec, pe.FieldName)}
}

// joinOnce joins errs (each may be a join itself), leaving out an *Error about a variable an
// earlier one already names: a variable read twice (TEMPORAL_ADDRESS, by envconfig and by the
// connection settings) is reported once.
func joinOnce(errs ...error) error {
	var out []error
	named := map[string]bool{}
	var add func(err error)
	add = func(err error) {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				add(e)
			}
			return
		}
		var e *Error
		if errors.As(err, &e) {
			if named[e.Var] {
				return
			}
			named[e.Var] = true
		}
		out = append(out, err)
	}
	for _, err := range errs {
		if err != nil {
			add(err)
		}
	}
	return errors.Join(out...)
}

// fixFor is the advice for a field: "set it to" and its desc tag.
func fixFor(spec any, fieldName string) string {
	field, ok := reflect.TypeOf(spec).Elem().FieldByName(fieldName)
	if !ok || field.Tag.Get("desc") == "" {
		return "see the table of variables in docs/operations.md"
	}
	return "set it to " + field.Tag.Get("desc")
}

// varOf is the environment variable a field reads.
func varOf(spec any, fieldName string) string {
	field, _ := reflect.TypeOf(spec).Elem().FieldByName(fieldName)
	return field.Tag.Get("envconfig")
}
