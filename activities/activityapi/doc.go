// Package activityapi is the contract of imscopy's activities: their registered names, every
// input, result and heartbeat detail, the error types they fail with and the failure details those
// carry, and the settings of their waits (PollConfig).
//
// Package activities implements it with the IMS client (imsclient), which links the Huawei Cloud
// SDK; this package does not. Workflows call the activities by name through it, and clients of
// the workflows (the starter) read their progress and failures through it, without the SDK. What
// crosses Temporal here is part of the workflow API (docs/api.md): renaming a type name, a JSON
// key or an activity changes what histories and other languages' clients read.
package activityapi
