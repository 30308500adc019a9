// Package imsapi is the vocabulary of Huawei Cloud IMS (Image Management Service) as imscopy
// speaks it: the requests and answers (CopyRequest, Job, Image, Member), the rules a request must
// keep before anything is sent (ValidationError), and the classes of IMS's errors (Class, Error)
// that say what to do: fix the request, wait and retry, or ask a person.
//
// It does not link the Huawei Cloud SDK, so clients of the workflows (the starter) can validate
// and read what the workflows return without it. The client that calls IMS, built on the SDK, is
// imsclient.
//
// The contract it speaks is docs/ims-api.md; the emulator in imsemu serves the same contract locally.
package imsapi
