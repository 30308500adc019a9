// Package rawinput reads a workflow's input as its client sent it, so that a workflow can decode
// it strictly itself (unknown keys refused, naming them) instead of through the SDK, which drops
// unknown keys and fails a wrong shape with its own decoding error.
package rawinput

import (
	"errors"
	"fmt"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
)

// Decode reads p, which must be JSON (json/plain, as every Temporal SDK and the CLI send an object),
// with decode. what names the input in errors ("the copy's input") and want says what to give
// instead of a missing one.
func Decode[T any](p *commonpb.Payload, decode func([]byte) (T, error), what, want string) (T, error) {
	var zero T
	encoding := string(p.GetMetadata()[converter.MetadataEncoding])
	switch {
	case encoding == converter.MetadataEncodingJSON:
		return decode(p.GetData())
	case p == nil || encoding == converter.MetadataEncodingNil:
		return zero, errors.New(what + " is missing: " + want)
	}
	return zero, fmt.Errorf("%s is encoded as %q: give one JSON object (%s)", what, encoding, converter.MetadataEncodingJSON)
}
