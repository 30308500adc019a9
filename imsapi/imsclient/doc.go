// Package imsclient is imscopy's client of Huawei Cloud IMS, built on the official Go SDK
// (services/ims/v2) and its AK/SK signer, speaking imsapi's requests, answers and errors.
//
// It adds what the SDK leaves to its users: a context per call (the SDK's calls take none), one
// connection pool per region, validation before anything is sent (imsapi.ValidationError), and one
// error type (imsapi.Error) whose Class says what to do. It never retries by itself; the workflow
// engine above it decides.
//
// Only the worker's side links it (package activities); the starter does not.
package imsclient
