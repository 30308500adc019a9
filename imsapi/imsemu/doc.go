// Package imsemu is a local stand-in for Huawei Cloud's Image Management Service (IMS): the
// copy, job, image, delete and sharing APIs of docs/ims-api.md, for several regions at once over one
// shared state, with the gateway's AK/SK signature check, IMS's limits, a job clock and seeded
// fault injection.
//
// The state holds one account (tenant) by default and more with Config.Accounts: each has its
// own AK/SK and projects, and its key acts only in its own projects, so an image can be shared
// across accounts and only the recipient's credentials accept it.
//
// Each region has its own http.Handler (Handler) or 127.0.0.1 listener (Start). Every handler
// also serves an admin API under /_emulator/ that has NO authentication: it is meant for local
// tests, benchmarks and demos only, never for a network others can reach.
//
//	GET  /_emulator/images   every image of every region and project, deleted ones included
//	GET  /_emulator/jobs     every job
//	GET  /_emulator/counts   requests per region, route, HTTP status (0 = response lost on purpose) and access key
//	GET  /_emulator/faults   the fault knobs in force
//	PUT  /_emulator/faults   replace them (durations as Go duration strings, e.g. "1.5s")
//
// Job state is derived from the clock (begin time + duration) rather than advanced by timers, so
// reading it is cheap and an emulator restarted from its state file continues every job where
// its clock says it is.
package imsemu
