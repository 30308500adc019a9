// Package workflowid keeps the workflow IDs this project derives from names within what Temporal
// takes. An ID travels as a gRPC header value and the server refuses one longer than its
// limit.maxIDLength, so a valid image name (128 Chinese characters are 1152 bytes percent-encoded)
// must still give an ID that starts a workflow.
package workflowid

import (
	"crypto/sha256"
	"encoding/hex"
)

// Limit is the Temporal server's default limit.maxIDLength, in bytes.
const Limit = 1000

// MaxLen is the longest ID Fit returns: Limit less room for what is appended to a derived ID (a
// promotion's target adds "/reencrypt" for its copy's child).
const MaxLen = Limit - 64

// hashLen is how many hex digits of the whole ID's SHA-256 stand for the part cut off.
const hashLen = 16

// Fit returns id when it is at most MaxLen bytes; otherwise its first bytes and "~" and a hash of
// the whole of it, MaxLen bytes in all. The result depends on id alone, so the same copy or
// promotion keeps finding the same workflow, and two IDs that differ only in their cut-off tails
// stay two IDs. An ID that fits is returned as it is, so every ID derived before stays the same.
// id must be printable ASCII (names are percent-encoded before): the cut never splits a %XX
// escape, so what is kept reads as the start of the name.
func Fit(id string) string {
	if len(id) <= MaxLen {
		return id
	}
	cut := MaxLen - 1 - hashLen
	switch {
	case id[cut-1] == '%':
		cut--
	case id[cut-2] == '%':
		cut -= 2
	}
	sum := sha256.Sum256([]byte(id))
	return id[:cut] + "~" + hex.EncodeToString(sum[:])[:hashLen]
}
