package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imscopy/imscopy/internal/config"
	"github.com/imscopy/imscopy/internal/planfile"
	"github.com/imscopy/imscopy/internal/workflowid"
	"github.com/imscopy/imscopy/workflows/copyimage"
	"github.com/imscopy/imscopy/workflows/promote"
)

// argSep separates the command-line words in a fuzz input: any bytes are an argument list.
const argSep = "\x00"

// boolFlags are the flags that take no value.
var boolFlags = map[string]bool{"keep-failed": true, "wait": true, "json": true}

// givenFlags reads an argument list the starter took in full as the flag package does: -x or --x,
// with "=value" or the next word (a bool flag takes no next word), "--" ending the flags. It is the
// fuzz targets' second opinion of what was given; a flag given twice fails it, since the starter
// refuses those.
func givenFlags(t *testing.T, args []string) map[string]string {
	given := map[string]string{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		name, value, hasValue := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-"), "=")
		switch {
		case boolFlags[name] && hasValue:
			b, err := strconv.ParseBool(value)
			require.NoError(t, err, "the flag package took %q", a)
			value = strconv.FormatBool(b)
		case boolFlags[name]:
			value = "true"
		case !hasValue:
			i++
			require.Less(t, i, len(args), "the flag package took %q without its value", a)
			value = args[i]
		}
		_, twice := given[name]
		require.False(t, twice, "--%s was given twice and taken", name)
		given[name] = value
	}
	return given
}

// requireTakenID checks an ID Temporal takes: printable ASCII (a gRPC header value) within the
// server's length limit.
func requireTakenID(t *testing.T, id string) {
	t.Helper()
	require.NotEmpty(t, id)
	require.LessOrEqual(t, len(id), workflowid.Limit, "workflow ID %q is longer than Temporal takes", id)
	require.NoError(t, checkWorkflowID(id))
}

// namesAFlag is a refusal that says which flag to change.
var namesAFlag = regexp.MustCompile(`(^|[ :])--[a-z]`)

// planRefused is a promotion refused for its plan, with the file's name and what the plan's
// reader said (planfile's own fuzz target checks that it names the field).
var planRefused = regexp.MustCompile(`^refusing to start the promotion: (plan .+: |reading the plan: )\S`)

// requireRefusal checks a parse error: help asked for, a refusal the flag package explained on
// stderr, or a usage error naming the flag to change (or saying why the plan is refused); nothing
// else.
func requireRefusal(t *testing.T, err error, stderr *bytes.Buffer) {
	t.Helper()
	var u *usageError
	switch {
	case errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errReported):
		require.NotEmpty(t, stderr.String(), "a refusal of the flag package is explained")
	case errors.As(err, &u):
		if !planRefused.MatchString(u.msg) {
			require.Regexp(t, namesAFlag, u.msg, "a refusal names the flag to change")
		}
		require.NotContains(t, u.msg, ": : ", "a refusal names the flag, not nothing")
	default:
		require.Fail(t, "an unexplained error", "%T %v", err, err)
	}
}

// FuzzParseCopy: any argument list gives a copy request that passes every rule, holds every value
// given (none dropped or changed), and has a workflow ID Temporal takes; or a refusal naming the
// flag; never a panic.
func FuzzParseCopy(f *testing.F) {
	for _, args := range [][]string{
		{"--image", seedImage, "--name", "ims_encrypted_copy3", "--description", "test copy", "--cmk-id", seedKey,
			"--enterprise-project-id", "0", "--keep-failed", "--wait", "--json"},
		{"--image", seedImage, "--name", "x", "--target-region", "cn-east-3", "--agency-name", "ims_admin_agency"},
		{"--image", seedImage, "--name", "金色镜像 2026.12"},
		{"--image", seedImage, "--name", strings.Repeat("镜", 128)},
		{"--image", seedImage, "--name", strings.Repeat("镜", 128), "--target-region", "ap-southeast-1", "--agency-name", "a"},
		{"--image", seedImage, "--name", strings.Repeat("a", 129)},
		{"--image", seedImage, "--name", "x", "--region", "cn-north-4", "--id", "my-copy"},
		{"--image", seedImage, "--name", "x", "--id", "我的"},
		{"--image", seedImage, "--name", "x", "--id", strings.Repeat("i", 1001)},
		{"--image", seedImage, "--name", "x", "--cmk-id", seedKey, "--target-region", "cn-east-3", "--agency-name", "a"},
		{"--image", seedImage, "--name", "x", "--enterprise-project-id", seedKey, "--target-region", "cn-east-3", "--agency-name", "a"},
		{"--image", seedImage, "--name", "x", "--target-region", "cn-east-3"},
		{"--image=" + seedImage, "-name=é\u200b", "--keep-failed=false"},
		{"--image", seedImage, "--name", "x", "--description", "a\rb<"},
		{"--image", seedImage, "--name", "x", "--", "--wait"},
		{"--image", seedImage, "--name", "a", "--name", "b"},
		{"--image", seedImage, "--name", "x", "--cmk-id", seedKey, "-cmk-id="},
		{"--image", seedImage, "--name", "--name"},
		{"--image", seedImage, "--name", " x"},
		{"--image", seedImage, "extra"},
		{"--name", "x"}, {"--image", seedImage}, {"-h"}, {"--nope"}, {"--image"}, {"---image", "x"}, {""}, {},
	} {
		f.Add(strings.Join(args, argSep))
	}
	cfg := config.Starter{Region: "cn-north-4"}
	f.Fuzz(func(t *testing.T, line string) {
		var args []string
		if line != "" {
			args = strings.Split(line, argSep)
		}
		var stderr bytes.Buffer
		r, err := parseCopy(args, cfg, &stderr)
		if err != nil {
			requireRefusal(t, err, &stderr)
			return
		}
		require.NoError(t, r.in.Validate())
		requireTakenID(t, r.id)

		given := givenFlags(t, args)
		region, ok := given["region"]
		if !ok {
			region = cfg.Region
		}
		assert.Equal(t, copyimage.Input{Region: region, SourceImageID: given["image"], Name: given["name"],
			Description: given["description"], CMKID: given["cmk-id"], EnterpriseProjectID: given["enterprise-project-id"],
			KeepFailedImages: given["keep-failed"] == "true", TargetRegion: given["target-region"], AgencyName: given["agency-name"]},
			r.in, "the request holds every value given, as given")
		assert.Equal(t, given["wait"] == "true", r.wait)
		assert.Equal(t, given["json"] == "true", r.jsonOut)
		if id := given["id"]; id != "" {
			assert.Equal(t, id, r.id)
		} else {
			assert.Equal(t, copyimage.WorkflowID(r.in), r.id)
		}
		// The worker reads the input from its JSON: the same input arrives.
		in, err := copyimage.DecodeInput(mustJSON(t, r.in))
		require.NoError(t, err)
		assert.Equal(t, r.in, in)
	})
}

// FuzzParsePromote: any plan file and argument list give a promotion of exactly the plan the file
// holds, with workflow IDs Temporal takes, or a refusal naming the flag (and the plan's field);
// never a panic.
func FuzzParsePromote(f *testing.F) {
	files, err := filepath.Glob("../../testdata/plans/*")
	require.NoError(f, err)
	for _, file := range files {
		data, err := os.ReadFile(file)
		require.NoError(f, err)
		f.Add(data, "--wait")
	}
	const src = "source: {region: cn-north-4, image_id: 465076de-dc36-4aec-80f5-ef9d8009428f}\n"
	for _, c := range []struct{ plan, args string }{
		{"name: " + strings.Repeat("镜", 128) + "\n" + src + "targets: [{region: cn-north-4}]\n", ""},
		{"name: g\n" + src + "targets: [{region: cn-north-4}]\n", "--id" + argSep + "金色"},
		{"name: g\n" + src + "targets: [{region: cn-north-4}]\n", "--id=" + strings.Repeat("i", 1001)},
		{"name: g\n" + src + "targets: [{region: cn-north-4}]\n", "--keep-failed" + argSep + "--json" + argSep + "extra"},
		{"name: g\n" + src + "targets: [{region: cn-north-4, cmk_id: k}]\n", ""},
		{"name: g\n" + src + "targets: [{region: cn-north-4}]\n", "--wait" + argSep + "--wait=false"},
		{"name: g\n" + src + "targets: [{region: cn-north-4}]\n", "--plan" + argSep + "other.yaml"},
		{"", ""}, {"name: [", "-h"}, {"{}", "--plan"},
	} {
		f.Add([]byte(c.plan), c.args)
	}
	// One file, rewritten for each input: a fuzzing process runs one input at a time.
	path := filepath.Join(f.TempDir(), "plan.yaml")
	f.Fuzz(func(t *testing.T, plan []byte, line string) {
		require.NoError(t, os.WriteFile(path, plan, 0o600))
		var args []string
		if line != "" {
			args = strings.Split(line, argSep)
		}
		// The plan's flag goes first: a later --plan in the fuzzed words is refused as given twice.
		args = append([]string{"--plan", path}, args...)
		var stderr bytes.Buffer
		r, err := parsePromote(args, &stderr)
		if err != nil {
			requireRefusal(t, err, &stderr)
			return
		}
		given := givenFlags(t, args)
		want, err := planfile.Load(given["plan"])
		require.NoError(t, err, "the plan taken is the plan --plan names")
		assert.Equal(t, want, r.in.Plan)
		assert.Equal(t, given["keep-failed"] == "true", r.in.KeepFailedImages)
		assert.Equal(t, given["wait"] == "true", r.wait)
		assert.Equal(t, given["json"] == "true", r.jsonOut)
		requireTakenID(t, r.id)
		if id := given["id"]; id != "" {
			assert.Equal(t, id, r.id)
		} else {
			assert.Equal(t, promote.ID(r.in.Plan), r.id)
		}
		for _, target := range r.in.Plan.Targets {
			requireTakenID(t, promote.TargetID(r.id, r.in.Plan, target)+"/reencrypt")
		}
		in, err := promote.DecodeInput(mustJSON(t, r.in))
		require.NoError(t, err, "the worker reads the promotion's input back")
		assert.Equal(t, mustJSON(t, r.in), mustJSON(t, in))
	})
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	require.NoError(t, err)
	return data
}
