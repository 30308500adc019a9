package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/imscopy/imscopy/imsapi/imsemu"
)

// options is the parsed command line.
type options struct {
	config    imsemu.Config
	addrs     []string // one per region
	defaultSK bool     // the built-in, public SK is in use, so printing it reveals nothing
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("imsemu", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var accounts []string
	fs.Func("account", "a further account (tenant), AK:SK or AK:SK:P1,P2,... with its project ID (32 hex) in each -region, in order\n"+
		"(default: IDs derived from the account and the region); its key acts only in its projects. Repeat for more accounts.\n"+
		"The first account is -ak, -sk, -project and -other-projects",
		func(v string) error { accounts = append(accounts, v); return nil })
	var (
		addr        = fs.String("addr", "127.0.0.1:9780", "listener of the first region; further regions use the following ports")
		regions     = fs.String("region", "cn-north-4,cn-east-3", "comma-separated regions; the first holds the seed image")
		projects    = fs.String("project", "", "comma-separated project IDs (32 hex), one per -region; default: built-in IDs")
		others      = fs.String("other-projects", "", "comma-separated further project IDs of the first account, accepted in every region (share recipients)")
		ak          = fs.String("ak", imsemu.DefaultAK, "access key of the first account")
		sk          = fs.String("sk", imsemu.DefaultSK, "secret key of the first account")
		token       = fs.String("token", "", "accepted X-Auth-Token value (empty refuses tokens)")
		jobDuration = fs.String("job-duration", "20s", "copy job duration, fixed (20s) or a seeded random range (10s-60s)")
		seed        = fs.Int64("seed", 1, "seed of every random choice (IDs, faults, job failures, durations)")
		state       = fs.String("state", "", "state file: loaded at start, saved atomically on change and at exit (empty keeps state in memory)")
		logRequests = fs.Bool("log", false, "log every request to stderr (never credentials)")

		faultRoute   = fs.String("fault-route", imsemu.RouteAll, "route the -error-*, -latency and -lost-response-rate flags apply to (a route name or *)")
		errorRate    = fs.Float64("error-rate", 0, "share of requests answered with -error-status/-error-code instead of being served")
		errorStatus  = fs.Int("error-status", 503, "HTTP status of injected errors")
		errorCode    = fs.String("error-code", "", "code of injected errors (APIGW.* uses the gateway body); default chosen by status")
		latency      = fs.Duration("latency", 0, "latency added to every request of -fault-route")
		lostRate     = fs.Float64("lost-response-rate", 0, "share of requests that take effect and then lose their response")
		throttleRate = fs.Float64("throttle-rate", 0, "share of requests answered 429 APIGW.0308, on top of -error-rate")
		jobFailRate  = fs.Float64("job-failure-rate", 0, "share of copy jobs that end in FAIL")
		memberFail   = fs.Float64("member-failure-rate", 0, "share of share/accept pairs reported failed")
		visibility   = fs.Duration("visibility-delay", 0, "delay before a new image shows in GET /v2/cloudimages")
		retryAfter   = fs.Duration("retry-after", 0, "Retry-After sent with 429 answers (0: none, as IMS documents)")
		duplicateErr = fs.Bool("duplicate-name-error", false, "answer 400 IMG.0009 when a copy reuses a live image name")
		throttle     = fs.Float64("throttle", 0, "calls per second per API and project (0: 200 as the gateway; negative: no throttle)")
		imageQuota   = fs.Int("image-quota", 0, "private images per project and region (0: 50 as IMS; negative: unlimited)")
		jobQuota     = fs.Int("job-quota", 0, "running copy jobs per project (0: 40 as IMS; negative: unlimited)")
		crossQuota   = fs.Int("cross-region-quota", 0, "running cross-region copies per tenant (0: 5 as IMS; negative: unlimited)")
	)
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	if fs.NArg() > 0 {
		return options{}, fmt.Errorf("unexpected arguments %q; every setting is a flag (see -help)", fs.Args())
	}
	regionList, err := parseRegions(*regions, *projects)
	if err != nil {
		return options{}, err
	}
	addrs, err := consecutiveAddrs(*addr, len(regionList))
	if err != nil {
		return options{}, err
	}
	minD, maxD, err := parseJobDuration(*jobDuration)
	if err != nil {
		return options{}, err
	}
	cfg := imsemu.Config{
		Regions: regionList, AK: *ak, SK: *sk, Token: *token, JobDuration: minD, JobDurationMax: maxD,
		Seed: *seed, StatePath: *state,
		Limits: imsemu.Limits{PrivateImagesPerProject: *imageQuota, RunningJobsPerProject: *jobQuota, CrossRegionCopiesPerTenant: *crossQuota},
		Faults: imsemu.Faults{
			JobFailureRate: *jobFailRate, MemberFailureRate: *memberFail, VisibilityDelay: *visibility,
			RetryAfter: *retryAfter, DuplicateNameError: *duplicateErr, ThrottlePerSecond: *throttle,
		},
	}
	if *errorRate > 0 || *latency > 0 || *lostRate > 0 || *throttleRate > 0 {
		cfg.Faults.Routes = map[string]imsemu.RouteFault{*faultRoute: {
			ErrorRate: *errorRate, ErrorStatus: *errorStatus, ErrorCode: *errorCode, Latency: *latency, LostResponseRate: *lostRate, ThrottleRate: *throttleRate,
		}}
	}
	if err := cfg.Faults.Validate(); err != nil {
		return options{}, err
	}
	if *others != "" {
		cfg.OtherProjects = map[string][]string{}
		for _, r := range regionList {
			cfg.OtherProjects[r.Name] = splitList(*others)
		}
	}
	for i, a := range accounts {
		acct, err := parseAccount(a, i+1, regionList)
		if err != nil {
			return options{}, err
		}
		cfg.Accounts = append(cfg.Accounts, acct)
	}
	if *logRequests {
		cfg.Logf = func(format string, args ...any) { fmt.Fprintf(stderr, format+"\n", args...) }
	}
	return options{config: cfg, addrs: addrs, defaultSK: *sk == imsemu.DefaultSK}, nil
}

// parseRegions pairs -region with -project; regions without a given project get a built-in ID
// (DefaultRegions') or one derived from the region name, so a restart keeps the same IDs.
func parseRegions(regions, projects string) ([]imsemu.Region, error) {
	names := splitList(regions)
	if len(names) == 0 {
		return nil, errors.New("-region must name at least one region, e.g. cn-north-4")
	}
	ids := splitList(projects)
	if len(ids) > 0 && len(ids) != len(names) {
		return nil, fmt.Errorf("-project lists %d project IDs for %d regions; give one per region, in the same order", len(ids), len(names))
	}
	out := make([]imsemu.Region, len(names))
	for i, name := range names {
		out[i] = imsemu.Region{Name: name, ProjectID: defaultProjectID(name)}
		if len(ids) > 0 {
			out[i].ProjectID = ids[i]
		}
	}
	return out, nil
}

// parseAccount reads -account AK:SK[:P1,P2,...]: the account's key pair and its project in each
// region, derived from the account's number and the region name when not given. The SK is never
// repeated in an error.
func parseAccount(v string, number int, regions []imsemu.Region) (imsemu.Account, error) {
	parts := strings.SplitN(v, ":", 3)
	if len(parts) < 2 || strings.TrimSpace(parts[0]) == "" || strings.TrimSpace(parts[1]) == "" {
		return imsemu.Account{}, fmt.Errorf("-account number %d must be AK:SK or AK:SK:P1,P2,... (one project ID per -region)", number)
	}
	acct := imsemu.Account{AK: strings.TrimSpace(parts[0]), SK: strings.TrimSpace(parts[1]), Projects: map[string][]string{}}
	var ids []string
	if len(parts) == 3 {
		ids = splitList(parts[2])
		if len(ids) != len(regions) {
			return imsemu.Account{}, fmt.Errorf("-account number %d lists %d project IDs for %d regions; give one per -region, in the same order", number, len(ids), len(regions))
		}
	}
	for i, r := range regions {
		id := accountProjectID(number, r.Name)
		if ids != nil {
			id = ids[i]
		}
		acct.Projects[r.Name] = []string{id}
	}
	return acct, nil
}

// accountProjectID derives a further account's project ID in a region, stable across restarts.
func accountProjectID(number int, region string) string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("imsemu-account-%d-project-%s", number, region)))
	return hex.EncodeToString(sum[:16])
}

func defaultProjectID(region string) string {
	for _, r := range imsemu.DefaultRegions {
		if r.Name == region {
			return r.ProjectID
		}
	}
	sum := sha256.Sum256([]byte("imsemu-project-" + region))
	return hex.EncodeToString(sum[:16])
}

// consecutiveAddrs gives region i the port of -addr plus i (or port 0, any free port, for all).
func consecutiveAddrs(addr string, n int) ([]string, error) {
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("-addr %q must be HOST:PORT, e.g. 127.0.0.1:9780", addr)
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port < 0 || port+n-1 > 65535 {
		return nil, fmt.Errorf("-addr %q needs a port from 0 to %d for %d regions", addr, 65535-n+1, n)
	}
	out := make([]string, n)
	for i := range out {
		p := port
		if port != 0 {
			p = port + i
		}
		out[i] = net.JoinHostPort(host, strconv.Itoa(p))
	}
	return out, nil
}

// parseJobDuration reads "20s" (fixed) or "10s-60s" (a range).
func parseJobDuration(s string) (lo, hi time.Duration, err error) {
	loText, hiText, isRange := strings.Cut(s, "-")
	lo, err = time.ParseDuration(strings.TrimSpace(loText))
	if err == nil && isRange {
		hi, err = time.ParseDuration(strings.TrimSpace(hiText))
	}
	switch {
	case err != nil:
		return 0, 0, fmt.Errorf("-job-duration %q must be a duration (20s) or a range (10s-60s)", s)
	case lo <= 0:
		return 0, 0, fmt.Errorf("-job-duration %q must be positive", s)
	case isRange && hi < lo:
		return 0, 0, fmt.Errorf("-job-duration %q: the range must go from the shorter to the longer duration", s)
	}
	return lo, hi, nil
}

func splitList(s string) []string {
	var out []string
	for part := range strings.SplitSeq(s, ",") {
		if p := strings.TrimSpace(part); p != "" {
			out = append(out, p)
		}
	}
	return out
}
