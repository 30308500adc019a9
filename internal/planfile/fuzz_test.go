package planfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"github.com/imscopy/imscopy/imsapi"
	"github.com/imscopy/imscopy/workflows/promote"
)

// planField is every field a refused plan's ValidationError may name: a plan's own, or a
// target's after its index and region.
var planField = regexp.MustCompile(`^(name|description|source\.region|source\.image_id|agency_name|targets|` +
	`targets\[\d+\]( \(\S+\))? (region|name|description|cmk_id|enterprise_project_id|share_with(\[\d+\])?|accept|accept_queue))$`)

// decodeError is how every other refusal begins or what it says: each names the key, the place
// or the plan's shape.
var decodeError = regexp.MustCompile(`^(not valid YAML or JSON: |the plan is empty|unknown key "|` +
	`more than one JSON value|the input must be |empty input|the JSON ends early|not valid JSON at byte |` +
	`\S+ must be |\S+ is given twice)`)

// FuzzParse: any bytes give a plan that passes every rule or an error naming a field, never a
// panic; a plan holds every value the file gave (no key dropped, none read twice), reads back the
// same from its own JSON, and its workflow IDs are ones Temporal takes.
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob("../../testdata/plans/*")
	require.NoError(f, err)
	for _, file := range files {
		data, err := os.ReadFile(file)
		require.NoError(f, err)
		f.Add(data)
	}
	const src = "source: {region: cn-north-4, image_id: 465076de-dc36-4aec-80f5-ef9d8009428f}\n"
	for _, seed := range []string{
		"", "# nothing yet\n", "null", "[]", "{}", `"x"`, "name: [", "{} {}", "---\nname: a\n---\nname: b\n",
		"name: 金色镜像 2026.12\n" + src + "targets: [{region: cn-north-4}]\n",
		"name: " + strings.Repeat("镜", 128) + "\n" + src + "targets: [{region: cn-north-4}]\n",
		"name: " + strings.Repeat("a", 129) + "\n" + src + "targets: [{region: cn-north-4}]\n",
		"name: golden\n" + src + "targets: [{region: cn-north-4, name: \"é\u200b\"}]\n",
		"name: golden\n" + src + "targets: [{region: cn-north-4, cmk_id: bd66288c-9081-460a-8227-4cbd0c814cb4, cmk_id: \"\"}]\n",
		"name: golden\n" + src + "targets: [{region: cn-north-4, cmk_id: bd66288c-9081-460a-8227-4cbd0c814cb4, CMK_ID: \"\"}]\n",
		"name: golden\n" + src + "targets: [{region: cn-north-4, cmk_id: ~}]\n",
		"name: golden\n" + src + "targets: [~]\n",
		"name: 2026.12\n" + src + "targets: [{region: cn-north-4}]\n",
		"<<: {name: x}\n" + src + "targets: [{region: cn-north-4}]\n",
		"name: golden\n" + src + "agency_name: a\ntargets: [{region: cn-east-3, share_with: [5c2e8f0d4a7b4e1f9c3d2b6a8e0f1a24], accept_queue: \" q\"}]\n",
		"name: golden\n" + src + "agency_name: a\ntargets: [{region: cn-east-3, share_with: [5c2e8f0d4a7b4e1f9c3d2b6a8e0f1a24, 5c2e8f0d4a7b4e1f9c3d2b6a8e0f1a24]}]\n",
		"name: golden\n" + src + "targets: [{region: cn-north-4}, {region: cn-north-4}]\n",
		"name: golden\ndescription: \"a\\rb\"\n" + src + "targets: [{region: cn-north-4}]\n",
		`{"name":"golden","source":{"region":"cn-north-4","image_id":"465076de-dc36-4aec-80f5-ef9d8009428f"},"targets":[{"region":"cn-north-4","Name":"x","name":"y"}]}`,
		"name: \"\\xff\"\n" + src + "targets: [{region: cn-north-4}]\n",
		"\xef\xbb\xbfname: golden\n" + src + "targets: [{region: cn-north-4}]\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(data)
		if err != nil {
			msg := err.Error()
			var v *imsapi.ValidationError
			if errors.As(err, &v) {
				require.Regexp(t, planField, v.Field, "a refusal names a field of the plan: %s", msg)
				require.NotEmpty(t, v.Rule, msg)
			} else {
				require.Regexp(t, decodeError, msg, "a refusal says what is wrong")
			}
			return
		}
		require.NoError(t, p.Validate())
		js, err := yaml.YAMLToJSON(data)
		require.NoError(t, err)
		var given any
		require.NoError(t, json.Unmarshal(js, &given))
		out, err := json.Marshal(p)
		require.NoError(t, err)
		var decoded any
		require.NoError(t, json.Unmarshal(out, &decoded))
		sameValues(t, "", given, decoded)

		again, err := Parse(out)
		require.NoError(t, err, "a plan reads back from its own JSON")
		out2, err := json.Marshal(again)
		require.NoError(t, err)
		require.JSONEq(t, string(out), string(out2))

		id := promote.ID(p)
		workflowIDTaken(t, id)
		for _, target := range p.Targets {
			workflowIDTaken(t, promote.TargetID(id, p, target))
		}
	})
}

// sameValues checks that decoded holds every value given holds, under the key that matched it; a
// zero value given may be left out (omitempty), and nothing else.
func sameValues(t *testing.T, at string, given, decoded any) {
	t.Helper()
	switch g := given.(type) {
	case map[string]any:
		d, _ := decoded.(map[string]any)
		for key, v := range g {
			var got any
			found := false
			for dk, dv := range d {
				if bytes.EqualFold([]byte(key), []byte(dk)) {
					got, found = dv, true
				}
			}
			if !found {
				require.True(t, isZero(v), "%s.%s: %v was given and dropped", at, key, v)
				continue
			}
			sameValues(t, at+"."+key, v, got)
		}
	case []any:
		d, _ := decoded.([]any)
		require.Len(t, d, len(g), "%s: a list keeps every item", at)
		for i := range g {
			sameValues(t, at, g[i], d[i])
		}
	case nil:
		require.True(t, decoded == nil || isZero(decoded), "%s: null became %v", at, decoded)
	default:
		assert.Equal(t, given, decoded, "%s: the value given is the value read", at)
	}
}

func isZero(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case string:
		return v == ""
	case bool:
		return !v
	case []any:
		return len(v) == 0
	case map[string]any:
		for _, x := range v {
			if !isZero(x) {
				return false
			}
		}
		return true
	}
	return false
}

// maxWorkflowIDLen is the Temporal server's default limit.maxIDLength, in bytes.
const maxWorkflowIDLen = 1000

// workflowIDTaken checks that Temporal takes id: printable ASCII (it travels in a gRPC header)
// and within the server's length limit.
func workflowIDTaken(t *testing.T, id string) {
	t.Helper()
	require.LessOrEqual(t, len(id), maxWorkflowIDLen, "workflow ID %q is longer than Temporal takes", id)
	for _, r := range id {
		require.True(t, r >= ' ' && r <= '~', "workflow ID %q holds %q", id, r)
	}
}
