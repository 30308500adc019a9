package config

import (
	"io"

	"github.com/imscopy/imscopy/imsapi"
	"github.com/imscopy/imscopy/internal/temporalconn"
)

// DefaultTemporalAddress is where a dev-mode worker's embedded server listens unless told otherwise.
const DefaultTemporalAddress = "127.0.0.1:7233"

// Starter is the starter's configuration. It reads the worker's variable names, so one
// environment (an .env file, a shell) serves both programs.
type Starter struct {
	TemporalAddress HostPort `envconfig:"TEMPORAL_ADDRESS" shown:"DEV_SERVER_ADDRESS, else 127.0.0.1:7233" desc:"the host:port of the Temporal frontend the worker uses, e.g. 127.0.0.1:7233"`
	// DevServerAddress is where a dev-mode worker started from the same environment listens; it
	// is the address when TEMPORAL_ADDRESS is empty, as it is for that worker.
	DevServerAddress HostPort `envconfig:"DEV_SERVER_ADDRESS" desc:"the host:port of a dev-mode worker's embedded server, e.g. 127.0.0.1:7233"`
	Namespace        string   `envconfig:"TEMPORAL_NAMESPACE" default:"default" desc:"the Temporal namespace the worker uses, e.g. default"`
	TaskQueue        string   `envconfig:"TEMPORAL_TASK_QUEUE" default:"imscopy" desc:"the task queue the worker polls, e.g. imscopy"`
	Region           string   `envconfig:"IMS_REGION" default:"cn-north-4" desc:"the default region of a copy, e.g. cn-north-4"`

	// Temporal is the connection (TLS, API key, profile) read by package temporalconn; its
	// address and namespace are merged into TemporalAddress and Namespace.
	Temporal temporalconn.Conn `ignored:"true"`
}

// Address is the Temporal frontend to dial: TEMPORAL_ADDRESS, else DEV_SERVER_ADDRESS, else
// DefaultTemporalAddress.
func (s Starter) Address() string {
	switch {
	case s.TemporalAddress != "":
		return string(s.TemporalAddress)
	case s.DevServerAddress != "":
		return string(s.DevServerAddress)
	}
	return DefaultTemporalAddress
}

// StarterUsage writes the starter's variables, their defaults and their meaning.
func StarterUsage(out io.Writer) error {
	return usage(out, &Starter{})
}

// LoadStarter reads the starter's configuration from the environment.
func LoadStarter() (Starter, error) {
	var s Starter
	perr := process(&s)
	conn, terr := loadTemporal(&s.TemporalAddress, &s.Namespace)
	s.Temporal = conn
	errs := []error{perr, terr}
	bad := func(field, reason string) {
		errs = append(errs, &Error{Var: varOf(&s, field), Reason: reason, Fix: fixFor(&s, field)})
	}
	if s.Namespace == "" {
		bad("Namespace", "is empty")
	}
	if s.TaskQueue == "" {
		bad("TaskQueue", "is empty")
	}
	if err := imsapi.ValidateRegion("region", s.Region); err != nil {
		bad("Region", "is \""+s.Region+"\", which is not a region ID")
	}
	if err := joinOnce(errs...); err != nil {
		return Starter{}, err
	}
	return s, nil
}
