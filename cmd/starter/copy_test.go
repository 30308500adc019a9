package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"

	"github.com/imscopy/imscopy/internal/config"
	"github.com/imscopy/imscopy/internal/temporalconn"
	"github.com/imscopy/imscopy/internal/testkit"
	"github.com/imscopy/imscopy/workflows/copyimage"
)

const (
	seedImage = "465076de-dc36-4aec-80f5-ef9d8009428f"
	seedKey   = "bd66288c-9081-460a-8227-4cbd0c814cb4"
)

// countingListener stands where Temporal would be and counts who connects, so a test can show
// that a refused command never reached it.
func countingListener(t *testing.T) (addr string, connections *atomic.Int32) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	connections = &atomic.Int32{}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			connections.Add(1)
			c.Close()
		}
	}()
	return l.Addr().String(), connections
}

// starterEnv gives the test a known environment for the variables the starter reads.
func starterEnv(t *testing.T, vars map[string]string) {
	t.Helper()
	clear := []string{"TEMPORAL_ADDRESS", "DEV_SERVER_ADDRESS", "TEMPORAL_NAMESPACE", "TEMPORAL_TASK_QUEUE", "IMS_REGION"}
	for _, v := range temporalconn.Variables {
		clear = append(clear, v.Name)
	}
	testkit.Environ(t, clear, vars)
}

func runStarter(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut, false, func() int { return 80 })
	return code, out.String(), errOut.String()
}

func TestCopyRefusesBadInputWithoutContactingTemporal(t *testing.T) {
	addr, connections := countingListener(t)
	starterEnv(t, map[string]string{"TEMPORAL_ADDRESS": addr})

	cases := []struct {
		name string
		args []string
		says []string
	}{
		{"name with a slash", []string{"--image", seedImage, "--name", "bad/name"}, []string{"--name", `invalid name "bad/name"`, "may contain only letters"}},
		{"name with a leading space", []string{"--image", seedImage, "--name", " copy"}, []string{"--name", "must not start or end with a space"}},
		{"description with markup", []string{"--image", seedImage, "--name", "ok", "--description", "<b>"}, []string{"--description", "'<' or '>'"}},
		{"image not a UUID", []string{"--image", "ubuntu", "--name", "ok"}, []string{"--image", "must be a UUID"}},
		{"key not a UUID", []string{"--image", seedImage, "--name", "ok", "--cmk-id", "my-key"}, []string{"--cmk-id", "must be a UUID"}},
		{"enterprise project", []string{"--image", seedImage, "--name", "ok", "--enterprise-project-id", "x"}, []string{"--enterprise-project-id", `must be "0" or a UUID`}},
		{"region", []string{"--image", seedImage, "--name", "ok", "--region", "north"}, []string{"--region", "region ID like cn-north-4"}},
		{"target region", []string{"--image", seedImage, "--name", "ok", "--target-region", "east", "--agency-name", "a"}, []string{"--target-region", "region ID like cn-north-4"}},
		{"encrypted cross-region", []string{"--image", seedImage, "--name", "ok", "--target-region", "cn-east-3", "--agency-name", "a", "--cmk-id", seedKey}, []string{"--cmk-id", "cannot encrypt during a cross-region copy"}},
		{"cross-region without agency", []string{"--image", seedImage, "--name", "ok", "--target-region", "cn-east-3"}, []string{"--agency-name", "is required with target_region"}},
		{"id with Chinese", []string{"--image", seedImage, "--name", "ok", "--id", "拷贝"}, []string{"--id", "printable ASCII"}},
		{"missing image", []string{"--name", "ok"}, []string{"--image is required"}},
		{"missing name", []string{"--image", seedImage}, []string{"--name is required"}},
		{"stray argument", []string{"--image", seedImage, "--name", "ok", "extra"}, []string{`unexpected argument "extra"`}},
		{"unknown flag", []string{"--image", seedImage, "--name", "ok", "--force"}, []string{"flag provided but not defined: -force", "usage: starter copy"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runStarter(append([]string{"copy"}, tc.args...)...)
			assert.Equal(t, exitUsage, code)
			assert.Empty(t, stdout, "no workflow ID: nothing was started")
			for _, s := range tc.says {
				assert.Contains(t, stderr, s)
			}
		})
	}
	assert.Zero(t, connections.Load(), "a refused copy must not contact Temporal")
}

func TestCopyInputFromFlags(t *testing.T) {
	starterEnv(t, map[string]string{"IMS_REGION": "cn-east-3"})
	cfg, err := config.LoadStarter()
	require.NoError(t, err)

	r, err := parseCopy([]string{"--image", seedImage, "--name", "ims_encrypted_copy3", "--description", "test copy",
		"--cmk-id", seedKey, "--enterprise-project-id", "0", "--keep-failed", "--wait", "--json"}, cfg, &bytes.Buffer{})
	require.NoError(t, err)

	assert.Equal(t, copyimage.Input{Region: "cn-east-3", SourceImageID: seedImage, Name: "ims_encrypted_copy3",
		Description: "test copy", CMKID: seedKey, EnterpriseProjectID: "0", KeepFailedImages: true}, r.in)
	assert.Equal(t, copyimage.WorkflowID(r.in), r.id, "the default ID is derived, so the same copy is one workflow")
	assert.True(t, r.wait)
	assert.True(t, r.jsonOut)

	r, err = parseCopy([]string{"--image", seedImage, "--name", "x", "--target-region", "cn-north-4", "--agency-name", "ims_admin_agency"}, cfg, &bytes.Buffer{})
	require.NoError(t, err)
	assert.Equal(t, copyimage.Input{Region: "cn-east-3", SourceImageID: seedImage, Name: "x", TargetRegion: "cn-north-4",
		AgencyName: "ims_admin_agency"}, r.in, "a cross-region copy")
	assert.Equal(t, copyimage.WorkflowID(r.in), r.id)

	r, err = parseCopy([]string{"--image", seedImage, "--name", "金色镜像 2026.12"}, cfg, &bytes.Buffer{})
	require.NoError(t, err, "a Chinese name, which IMS allows, gets a default ID Temporal can carry")
	assert.Equal(t, copyimage.WorkflowID(r.in), r.id)

	r, err = parseCopy([]string{"--image", seedImage, "--name", "x", "--region", "cn-north-4", "--id", "my-copy"}, cfg, &bytes.Buffer{})
	require.NoError(t, err)
	assert.Equal(t, "cn-north-4", r.in.Region, "--region overrides IMS_REGION")
	assert.Equal(t, "my-copy", r.id)
}

func TestStartOptionsAttachToTheSameCopy(t *testing.T) {
	o := startOptions("copy/cn-north-4/x/y", "imscopy")
	assert.Equal(t, enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING, o.WorkflowIDConflictPolicy)
	assert.Equal(t, enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY, o.WorkflowIDReusePolicy)
	assert.Equal(t, "imscopy", o.TaskQueue)
}

func TestIDCommandsNeedOneID(t *testing.T) {
	addr, connections := countingListener(t)
	starterEnv(t, map[string]string{"TEMPORAL_ADDRESS": addr})

	for _, cmd := range []string{"status", "result", "cancel"} {
		code, _, stderr := runStarter(cmd)
		assert.Equal(t, exitUsage, code, cmd)
		assert.Contains(t, stderr, "takes one workflow ID", cmd)
	}
	code, _, stderr := runStarter("frobnicate")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, `unknown command "frobnicate"`)
	assert.Zero(t, connections.Load())
}

func TestBadEnvironmentIsRefused(t *testing.T) {
	starterEnv(t, map[string]string{"TEMPORAL_ADDRESS": "no-port"})
	code, _, stderr := runStarter("copy", "--image", seedImage, "--name", "ok")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "TEMPORAL_ADDRESS")
}

func TestUnreachableTemporalSaysWhatToDo(t *testing.T) {
	// A port nothing listens on: take one and give it back.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	starterEnv(t, map[string]string{"TEMPORAL_ADDRESS": addr})

	code, stdout, stderr := runStarter("copy", "--image", seedImage, "--name", "ok")
	assert.Equal(t, exitFailed, code)
	assert.Empty(t, stdout)
	assert.Contains(t, stderr, "cannot reach Temporal at "+addr)
	assert.Contains(t, stderr, "bin/worker", "it names a command that leaves a server running")
	assert.Contains(t, stderr, "HUAWEICLOUD_SDK_AK=... ", "with the environment that worker needs")
	assert.NotContains(t, stderr, "make demo", "make demo stops its server when it ends")
}

func TestDifferencesNameEveryChangedField(t *testing.T) {
	running := copyimage.Input{Region: "cn-north-4", SourceImageID: seedImage, Name: "x", CMKID: seedKey}
	assert.Empty(t, differences(running, running))

	asked := running
	asked.CMKID = ""
	asked.Description = "new"
	asked.KeepFailedImages = true
	assert.Equal(t, `description "", not "new"; cmk-id "`+seedKey+`", not ""; keep-failed false, not true`, differences(running, asked))
}

// A finished copy's ID reused with another request gets one true sentence, not "already
// succeeded" followed by "wait for it or cancel it".
func TestConflictWithAFinishedCopySaysOneThing(t *testing.T) {
	msg := conflictMessage("copy/x", `cmk-id "", not "k"`, true)
	assert.Contains(t, msg, "already succeeded")
	assert.NotContains(t, msg, "cancel")
	assert.NotContains(t, msg, "Wait for it")
	running := conflictMessage("copy/x", `cmk-id "", not "k"`, false)
	assert.Contains(t, running, "running")
	assert.NotContains(t, running, "succeeded")
}

// Help that was asked for goes to stdout and exits 0, whichever command it is asked of; a refused
// command line goes to stderr.
func TestRequestedHelpGoesToStdout(t *testing.T) {
	starterEnv(t, nil)
	for _, args := range [][]string{{"--help"}, {"help"}, {"copy", "--help"}, {"copy", "-h"}, {"promote", "-h"},
		{"status", "--help"}, {"result", "-h"}, {"cancel", "-h"}} {
		code, stdout, stderr := runStarter(args...)
		assert.Equal(t, exitOK, code, args)
		assert.Regexp(t, `^usage:`, stdout, args)
		assert.Empty(t, stderr, args)
	}
	code, stdout, stderr := runStarter("copy", "--bogus")
	assert.Equal(t, exitUsage, code)
	assert.Empty(t, stdout)
	assert.Contains(t, stderr, "flag provided but not defined: -bogus")
	assert.Contains(t, stderr, "usage: starter copy")
}

// --region's help says once what its default is, and where it comes from.
func TestRegionHelpStatesItsDefaultOnce(t *testing.T) {
	starterEnv(t, map[string]string{"IMS_REGION": "ap-southeast-1"})
	_, stdout, _ := runStarter("copy", "--help")
	_, help, found := strings.Cut(stdout, "-region string\n")
	require.True(t, found, stdout)
	help, _, _ = strings.Cut(help, "\n")
	assert.Equal(t, 1, strings.Count(help, "default"), help)
	assert.Contains(t, help, `IMS_REGION unless given (default "ap-southeast-1")`)
}

// `status ID --json` is read as `status --json ID`: flags may follow the ID.
func TestIDCommandsTakeFlagsAfterTheID(t *testing.T) {
	for _, args := range [][]string{{"--json", "wf"}, {"wf", "--json"}, {"-json", "wf"}, {"wf", "-json=true"}} {
		id, asJSON, err := idCommand("status", args, io.Discard, true)
		require.NoError(t, err, args)
		assert.Equal(t, "wf", id, args)
		assert.True(t, asJSON, args)
	}
	_, _, err := idCommand("status", []string{"wf", "--json", "other"}, io.Discard, true)
	assert.ErrorContains(t, err, "takes one workflow ID", "a second ID after a flag is still refused")
	_, _, err = idCommand("cancel", []string{"wf", "--json"}, io.Discard, false)
	assert.ErrorIs(t, err, errReported, "cancel has no --json")
}

// The flag package keeps the last of a repeated flag without a word; the starter refuses it,
// naming the flag and its values, before it contacts Temporal.
func TestRepeatedFlagsAreRefused(t *testing.T) {
	addr, connections := countingListener(t)
	starterEnv(t, map[string]string{"TEMPORAL_ADDRESS": addr})
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"copy", "--image", seedImage, "--name", "a", "--name", "b"}, `--name is given 2 times ("a", "b")`},
		{[]string{"copy", "--image", seedImage, "--name", "x", "--cmk-id", seedKey, "-cmk-id="}, `--cmk-id is given 2 times ("` + seedKey + `", "")`},
		{[]string{"copy", "--image", seedImage, "--name", "x", "--wait", "--keep-failed", "--wait=false"}, `--wait is given 2 times ("true", "false")`},
		{[]string{"promote", "--plan", "a.yaml", "--plan", "b.yaml", "--plan=c.yaml"}, `--plan is given 3 times ("a.yaml", "b.yaml", "c.yaml")`},
		{[]string{"status", "--json", "wf", "--json"}, `--json is given 2 times ("true", "true")`},
		{[]string{"result", "wf", "-json", "--json=false"}, `--json is given 2 times ("true", "false")`},
	} {
		code, stdout, stderr := runStarter(c.args...)
		assert.Equal(t, exitUsage, code, c.args)
		assert.Empty(t, stdout, c.args)
		assert.Contains(t, stderr, c.want+": give it once", c.args)
	}
	assert.Zero(t, connections.Load(), "nothing reached Temporal")

	// A flag's value that looks like the flag is one value, not a repeat.
	r, err := parseCopy([]string{"--image", seedImage, "--name", "--name"}, config.Starter{Region: "cn-north-4"}, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, "--name", r.in.Name)
	// What follows "--" is no flag.
	_, err = parseCopy([]string{"--image", seedImage, "--name", "x", "--", "--name", "y"}, config.Starter{Region: "cn-north-4"}, io.Discard)
	assert.ErrorContains(t, err, `unexpected argument "--name"`)
}
