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
// field's desc tag so that the usage text and the error message never disagree.
func process(spec any) error {
	err := envconfig.Process("", spec)
	if err == nil {
		return nil
	}
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
