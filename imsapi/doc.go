// Package imsapi is imscopy's client of Huawei Cloud IMS (Image Management Service), built on the
// official Go SDK (services/ims/v2) and its AK/SK signer.
//
// It adds what the SDK leaves to its users: a context per call (the SDK's calls take none), one
// connection pool per region, validation before anything is sent (ValidationError), and one error
// type (Error) whose Class says what to do: fix the request, wait and retry, or ask a person.
// It never retries by itself; the workflow engine above it decides.
//
// The contract it speaks is docs/ims-api.md; the emulator in imsemu serves the same contract locally.
package imsapi
