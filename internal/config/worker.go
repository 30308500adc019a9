// Package config reads the commands' settings from environment variables (12-factor style) and
// refuses to start on a missing or malformed one, with a message that names it and says what to set.
package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"go.temporal.io/sdk/worker"

	"github.com/imscopy/imscopy/activities/activityapi"
	"github.com/imscopy/imscopy/imsapi"
	"github.com/imscopy/imscopy/internal/temporalconn"
)

// Worker is the worker's configuration. The desc tags are the advice printed when a variable is
// wrong, and the usage text of `worker -h`.
type Worker struct {
	TemporalAddress  HostPort `envconfig:"TEMPORAL_ADDRESS" desc:"the host:port of the Temporal frontend, or empty to host an embedded Temporal server (dev mode)"`
	Namespace        string   `envconfig:"TEMPORAL_NAMESPACE" default:"default" desc:"the Temporal namespace, e.g. default"`
	TaskQueue        string   `envconfig:"TEMPORAL_TASK_QUEUE" default:"imscopy" desc:"the task queue the worker polls, e.g. imscopy (the starter must use the same)"`
	DataDir          string   `envconfig:"DATA_DIR" default:".imscopy" desc:"the folder where dev mode keeps the embedded server's SQLite file, e.g. .imscopy"`
	DevServerAddress HostPort `envconfig:"DEV_SERVER_ADDRESS" default:"127.0.0.1:7233" desc:"the loopback host:port the embedded Temporal server listens on in dev mode, e.g. 127.0.0.1:7233"`
	// DevUIAddress is the Temporal Web UI's, served beside the embedded server as `temporal
	// server start-dev` serves it. Set to nothing, it turns the UI off (envconfig keeps a set but
	// empty variable empty).
	DevUIAddress HostPort `envconfig:"DEV_UI_ADDRESS" default:"127.0.0.1:8233" desc:"the loopback host:port of the Temporal Web UI in dev mode, e.g. 127.0.0.1:8233, or empty for no UI"`

	Region    string    `envconfig:"IMS_REGION" default:"cn-north-4" desc:"the home region ID, e.g. cn-north-4"`
	Endpoints Endpoints `envconfig:"IMS_ENDPOINTS" desc:"region=URL pairs that replace the public IMS endpoints, e.g. cn-north-4=http://127.0.0.1:8080 (the emulator prints it)"`
	Projects  Projects  `envconfig:"IMS_PROJECTS" desc:"region=projectID pairs for regions other than the home region, e.g. cn-east-3=5c5e0f6a1b2c4d3e8f9a0b1c2d3e4f50"`
	// CrossRegionCopies is IMS's per-tenant limit of concurrent cross-region copies; every worker of
	// the tenant should say the same, and the permits follow the latest request's.
	CrossRegionCopies int `envconfig:"CROSS_REGION_COPIES" default:"5" desc:"how many cross-region copies the tenant runs at once (IMS refuses more with IMG.0149), a whole number such as 5"`

	AK            Secret `envconfig:"HUAWEICLOUD_SDK_AK" desc:"the access key ID (AK) that signs IMS requests"`
	SK            Secret `envconfig:"HUAWEICLOUD_SDK_SK" desc:"the secret access key (SK) of HUAWEICLOUD_SDK_AK"`
	SecurityToken Secret `envconfig:"HUAWEICLOUD_SDK_SECURITY_TOKEN" desc:"the security token of a temporary AK/SK, or leave it unset for a permanent one"`
	ProjectID     string `envconfig:"HUAWEICLOUD_SDK_PROJECT_ID" desc:"the project ID of the home region: 32 lower-case hex characters, shown under My Credentials in the console"`

	LogLevel LogLevel `envconfig:"LOG_LEVEL" default:"info" desc:"one of debug, info, warn, error"`

	// The poll knobs default to activityapi.DefaultPollConfig: LoadWorker fills them in before
	// reading the environment, and envconfig leaves an unset variable's field alone.
	PollInitial    time.Duration `envconfig:"POLL_INITIAL" desc:"the wait before the first poll of a new job, a duration such as 2s"`
	PollMin        time.Duration `envconfig:"POLL_MIN" desc:"the shortest wait between two polls of a job, a duration such as 1s (at most POLL_MAX)"`
	PollMax        time.Duration `envconfig:"POLL_MAX" desc:"the longest wait between two polls of a job, a duration such as 30s (at least POLL_MIN)"`
	PollLag        time.Duration `envconfig:"POLL_LAG" desc:"how soon after a job's end PollJob aims to notice it (near the end it polls this often), a duration such as 5s (at most POLL_MAX)"`
	PollJitter     float64       `envconfig:"POLL_JITTER" desc:"the random spread of each wait that rests on no progress (the first, while queued, after failed reads), a fraction from 0 up to (not including) 1, such as 0.2"`
	PollHeartbeat  time.Duration `envconfig:"POLL_HEARTBEAT" desc:"how often PollJob heartbeats while it waits, a duration such as 10s"`
	VisibilityWait time.Duration `envconfig:"VISIBILITY_WAIT" desc:"how long SubmitCopy waits for an image it may have created to show in the image list before it copies again, a duration such as 10s"`

	// WorkerStopTimeout is how long a stopping worker (SIGINT/SIGTERM) lets running activities
	// finish before it cancels them. 30 s outlasts one IMS request (imsapi.DefaultRequestTimeout, 20 s)
	// so a SubmitCopy whose POST is in flight can record the job it started instead of leaving
	// the next attempt to find it by name; PollJob and VerifyImage are cheap to cut short, as
	// PollJob resumes from its heartbeat. A deployment must give the process a longer grace
	// period than this (Kubernetes: terminationGracePeriodSeconds above 30).
	WorkerStopTimeout time.Duration `envconfig:"WORKER_STOP_TIMEOUT" default:"30s" desc:"how long a stopping worker lets running activities finish, a duration such as 30s"`

	MetricsAddr HostPort `envconfig:"METRICS_ADDR" desc:"the host:port where the worker serves Prometheus metrics (/metrics) and its health (/healthz), e.g. 0.0.0.0:9090, or empty for none"`

	// Worker tuning. docs/operations.md's "Worker tuning" section gives the reasons for each default.
	//
	// Each running copy holds an activity slot for as long as PollJob waits (minutes to hours),
	// so the activity slots are the copies one worker can follow at once. IMS runs at most 40
	// copy jobs per project (IMG.0060); 200 follows that many with room for the submits, verifies
	// and clean-ups around them, and a waiting PollJob costs a sleeping goroutine.
	ActivitySlots int `envconfig:"WORKER_ACTIVITY_SLOTS" default:"200" desc:"how many activities the worker runs at once, a number such as 200 (a running copy holds one while PollJob waits)"`
	// Workflow tasks take milliseconds of CPU; the cap matters only in bursts, such as a restart
	// that replays every open copy at once, where it bounds memory.
	WorkflowSlots int `envconfig:"WORKER_WORKFLOW_SLOTS" default:"100" desc:"how many workflow tasks the worker runs at once, a number of at least 2 such as 100"`
	// A copy makes a handful of tasks a minute, so the SDK's two long-polls per queue keep up with
	// hundreds of copies; raise them when the SDK's schedule-to-start latency metrics grow.
	ActivityPollers int `envconfig:"WORKER_ACTIVITY_POLLERS" default:"2" desc:"how many long-polls fetch activity tasks at once, a number such as 2"`
	WorkflowPollers int `envconfig:"WORKER_WORKFLOW_POLLERS" default:"2" desc:"how many long-polls fetch workflow tasks at once, a number of at least 2 such as 2 (the SDK splits them between the sticky and the normal queue)"`
	// The SDK sends an activity's first heartbeat at once and holds back those that follow for an
	// interval: 80% of the heartbeat timeout capped by the max, or the default for activities
	// without a heartbeat timeout. A cancellation reaches an activity only in the answer to a
	// heartbeat it sends, and a held-back heartbeat dies with a killed worker. PollJob and
	// CleanupCopy have a one-minute timeout, so the SDK's 60 s cap would let 48 s pass: a cancelled
	// copy would keep polling that long, and a retry after a crash would resume from a 48 s old
	// checkpoint. 10 s, POLL_HEARTBEAT's default, sends every checkpoint, at one call per copy
	// every 10 s.
	HeartbeatThrottleMax time.Duration `envconfig:"WORKER_HEARTBEAT_THROTTLE_MAX" default:"10s" desc:"the longest the SDK holds back an activity heartbeat, a duration such as 10s"`
	// SubmitCopy has no heartbeat timeout; it heartbeats about once a second while it waits (up to
	// VISIBILITY_WAIT) for an earlier attempt's image to show. The SDK's 30 s would keep a cancel
	// from reaching it for the whole wait; 1 s delivers it at once, and the calls stop with the wait.
	HeartbeatThrottleDefault time.Duration `envconfig:"WORKER_HEARTBEAT_THROTTLE_DEFAULT" default:"1s" desc:"how long the SDK holds back heartbeats of activities without a heartbeat timeout, a duration such as 1s"`

	// Temporal is the connection (TLS, API key, profile) read by package temporalconn; its
	// address and namespace are merged into TemporalAddress and Namespace.
	Temporal temporalconn.Conn `ignored:"true"`
}

// WorkerOptions are the SDK worker options the tuning variables set.
func (w Worker) WorkerOptions() worker.Options {
	return worker.Options{
		MaxConcurrentActivityExecutionSize:     w.ActivitySlots,
		MaxConcurrentWorkflowTaskExecutionSize: w.WorkflowSlots,
		MaxConcurrentActivityTaskPollers:       w.ActivityPollers,
		MaxConcurrentWorkflowTaskPollers:       w.WorkflowPollers,
		MaxHeartbeatThrottleInterval:           w.HeartbeatThrottleMax,
		DefaultHeartbeatThrottleInterval:       w.HeartbeatThrottleDefault,
		WorkerStopTimeout:                      w.WorkerStopTimeout,
	}
}

// DevMode reports whether the worker hosts its own Temporal server.
func (w Worker) DevMode() bool { return w.TemporalAddress == "" }

// Poll returns the poll tuning as the activities take it.
func (w Worker) Poll() activityapi.PollConfig {
	p := activityapi.DefaultPollConfig()
	p.Initial, p.Min, p.Max, p.Lag = w.PollInitial, w.PollMin, w.PollMax, w.PollLag
	p.Jitter = w.PollJitter
	p.HeartbeatEvery = w.PollHeartbeat
	p.VisibilityWait = w.VisibilityWait
	return p
}

// Secrets are the values no log line may contain.
func (w Worker) Secrets() []string {
	return append([]string{w.AK.Reveal(), w.SK.Reveal(), w.SecurityToken.Reveal()}, w.Temporal.Secrets()...)
}

// LoadWorker reads the worker's configuration from the environment. A value that does not parse
// is reported alone; otherwise every problem found is reported at once (errors.Join of *Error),
// so one restart is enough to fix them.
func LoadWorker() (Worker, error) {
	// Every variable is checked before any error is returned, so that one run names them all. A
	// variable that does not parse keeps its default, which the checks below accept.
	w := workerDefaults()
	perr := process(&w)
	conn, terr := loadTemporal(&w.TemporalAddress, &w.Namespace)
	w.Temporal = conn
	if err := joinOnce(perr, terr, w.validate()); err != nil {
		return Worker{}, err
	}
	return w, nil
}

// workerDefaults holds the defaults that have no default tag because another package owns them.
func workerDefaults() Worker {
	d := activityapi.DefaultPollConfig()
	return Worker{
		PollInitial:    d.Initial,
		PollMin:        d.Min,
		PollMax:        d.Max,
		PollLag:        d.Lag,
		PollJitter:     d.Jitter,
		PollHeartbeat:  d.HeartbeatEvery,
		VisibilityWait: d.VisibilityWait,
	}
}

// WorkerUsage writes the worker's variables, their defaults and their meaning.
func WorkerUsage(out io.Writer) error {
	w := workerDefaults()
	return usage(out, &w)
}

// validate reports every variable that is wrong, each with how to fix it, rather than only the
// first.
func (w *Worker) validate() error {
	var errs []error
	report := func(err error) { errs = append(errs, err) }
	bad := func(field, reason string) {
		report(&Error{Var: varOf(w, field), Reason: reason, Fix: fixFor(w, field)})
	}

	if w.Namespace == "" {
		bad("Namespace", "is empty")
	}
	if w.TaskQueue == "" {
		bad("TaskQueue", "is empty")
	}
	if w.CrossRegionCopies < 1 {
		bad("CrossRegionCopies", "must be at least 1")
	}
	if w.DevMode() {
		w.validateDevMode(bad, report)
	}
	w.validateIMS(bad, report)
	w.validateTuning(bad)
	return errors.Join(errs...)
}

// validateDevMode checks what dev mode (no TEMPORAL_ADDRESS) needs: a data folder, and loopback
// addresses for the embedded server and its Web UI, which have no authentication.
func (w *Worker) validateDevMode(bad func(field, reason string), report func(error)) {
	if w.Temporal.Secure() {
		report(&Error{Var: varOf(w, "TemporalAddress"),
			Reason: fmt.Sprintf("is empty (dev mode), yet Temporal connection settings are given (%s); the embedded server uses neither TLS nor API keys", w.Temporal),
			Fix:    "set TEMPORAL_ADDRESS to the server those settings are for, or unset them (TEMPORAL_TLS_*, TEMPORAL_API_KEY, TEMPORAL_PROFILE)"})
	}
	if w.DataDir == "" {
		bad("DataDir", "is empty in dev mode (TEMPORAL_ADDRESS is empty)")
	} else if reason := notAFolder(w.DataDir); reason != "" {
		bad("DataDir", reason)
	}
	switch {
	case w.DevServerAddress == "":
		bad("DevServerAddress", "is empty in dev mode (TEMPORAL_ADDRESS is empty)")
	case !w.DevServerAddress.IsLoopback():
		// The embedded server has no authentication: anyone who reaches it can start,
		// read and cancel workflows. A shared server is a Temporal cluster (TEMPORAL_ADDRESS).
		bad("DevServerAddress", fmt.Sprintf("is %q, which is not a loopback IP: the embedded server has no authentication", w.DevServerAddress))
	}
	switch {
	case w.DevUIAddress == "":
	case !w.DevUIAddress.IsLoopback():
		// The UI starts, cancels and terminates workflows for anyone who reaches it.
		bad("DevUIAddress", fmt.Sprintf("is %q, which is not a loopback IP: the Web UI has no authentication", w.DevUIAddress))
	case w.DevUIAddress == w.DevServerAddress:
		bad("DevUIAddress", fmt.Sprintf("is %q, the embedded server's own address (DEV_SERVER_ADDRESS)", w.DevUIAddress))
	}
}

// validateIMS checks the home region, the credentials and the projects.
func (w *Worker) validateIMS(bad func(field, reason string), report func(error)) {
	if err := imsapi.ValidateRegion("region", w.Region); err != nil {
		bad("Region", fmt.Sprintf("is %q, which is not a region ID", w.Region))
	}
	if w.AK == "" {
		bad("AK", "is not set")
	}
	if w.SK == "" {
		bad("SK", "is not set")
	}
	switch {
	case w.ProjectID == "":
		bad("ProjectID", "is not set")
	case imsapi.ValidateProjectID("project ID", w.ProjectID) != nil:
		bad("ProjectID", fmt.Sprintf("is %q, which is not a project ID", w.ProjectID))
	}
	if p, ok := w.Projects[w.Region]; ok && p != w.ProjectID {
		report(&Error{Var: varOf(w, "Projects"),
			Reason: fmt.Sprintf("gives project %s for the home region %s", p, w.Region),
			Fix:    "remove that pair: the home region's project is HUAWEICLOUD_SDK_PROJECT_ID"})
	}
}

// validateTuning checks the poll schedule's and the worker's tuning: positive durations, bounds
// in order, and the slots and pollers the SDK accepts.
func (w *Worker) validateTuning(bad func(field, reason string)) {
	positive := func(field string, d time.Duration) {
		if d <= 0 {
			bad(field, fmt.Sprintf("is %s, which is not a positive duration", d))
		}
	}
	positive("PollInitial", w.PollInitial)
	positive("PollMin", w.PollMin)
	positive("PollMax", w.PollMax)
	positive("PollLag", w.PollLag)
	positive("PollHeartbeat", w.PollHeartbeat)
	positive("VisibilityWait", w.VisibilityWait)
	positive("WorkerStopTimeout", w.WorkerStopTimeout)
	if w.PollMin > 0 && w.PollMax > 0 && w.PollMin > w.PollMax {
		bad("PollMin", fmt.Sprintf("is %s, more than POLL_MAX (%s)", w.PollMin, w.PollMax))
	}
	if w.PollLag > 0 && w.PollMax > 0 && w.PollLag > w.PollMax {
		// Every wait would be POLL_MAX: the schedule would stop adapting without saying so.
		bad("PollLag", fmt.Sprintf("is %s, more than POLL_MAX (%s)", w.PollLag, w.PollMax))
	}
	if w.PollJitter < 0 || w.PollJitter >= 1 {
		bad("PollJitter", fmt.Sprintf("is %v, outside 0 <= jitter < 1", w.PollJitter))
	}
	atLeast := func(field string, n, least int) {
		if n < least {
			bad(field, fmt.Sprintf("is %d, less than %d", n, least))
		}
	}
	atLeast("ActivitySlots", w.ActivitySlots, 1)
	atLeast("ActivityPollers", w.ActivityPollers, 1)
	// The SDK refuses 1: one poller or slot could not serve both the sticky and the normal queue.
	atLeast("WorkflowSlots", w.WorkflowSlots, 2)
	atLeast("WorkflowPollers", w.WorkflowPollers, 2)
	positive("HeartbeatThrottleMax", w.HeartbeatThrottleMax)
	positive("HeartbeatThrottleDefault", w.HeartbeatThrottleDefault)
}

// notAFolder says why dir cannot be dev mode's data folder ("" when it can be, or can be made):
// a file in its place is a mistake in the environment, reported with the others rather than as
// the embedded server's failure to start.
func notAFolder(dir string) string {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "" // made at start
	case err != nil:
		return fmt.Sprintf("is %q, which cannot be used as a folder (%v)", dir, err)
	case !fi.IsDir():
		return fmt.Sprintf("is %q, which is a file, not a folder", dir)
	}
	return ""
}
