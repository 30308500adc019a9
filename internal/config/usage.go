package config

import (
	"fmt"
	"io"
	"reflect"

	"github.com/imscopy/imscopy/internal/temporalconn"
)

// usage lists spec's variables: name, default (its shown tag, else its default tag, or the value
// spec already holds), and meaning (its desc tag). A variable whose unset value is replaced by
// another's or by a constant says so in a shown tag: "unset" would tell the user nothing is dialled.
func usage(out io.Writer, spec any) error {
	v := reflect.ValueOf(spec).Elem()
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Tag.Get("envconfig") == "" {
			continue
		}
		def := f.Tag.Get("shown")
		if def == "" {
			def = f.Tag.Get("default")
		}
		if def == "" && !v.Field(i).IsZero() {
			def = fmt.Sprint(v.Field(i).Interface())
		}
		if def == "" {
			def = "unset"
		}
		if _, err := fmt.Fprintf(out, "  %s (default: %s)\n      %s\n", f.Tag.Get("envconfig"), def, f.Tag.Get("desc")); err != nil {
			return err
		}
	}
	return temporalconn.Usage(out)
}
