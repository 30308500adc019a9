package main

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// sdkPrefix is the Huawei Cloud SDK's module: only the worker's side (package activities, through
// imsapi/imsclient) may link it.
const sdkPrefix = "github.com/huaweicloud/"

// The starter is a client of the workflows: it reads their contracts (activityapi, imsapi, the
// workflow packages' api.go) and must not link the Huawei Cloud SDK. An import that pulls it back
// in fails here, showing the chain of imports that does.
func TestStarterDoesNotLinkTheHuaweiSDK(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}{{range .Imports}} {{.}}{{end}}", ".").CombinedOutput()
	require.NoError(t, err, "go list: %s", out)
	imports := map[string][]string{}
	var starter string // -deps lists the package itself last
	linked := 0
	for line := range strings.Lines(string(out)) {
		fields := strings.Fields(line)
		starter, imports[fields[0]] = fields[0], fields[1:]
		if strings.HasPrefix(fields[0], sdkPrefix) {
			linked++
		}
	}
	if linked > 0 {
		t.Fatalf("the starter links %d packages of the Huawei Cloud SDK, by %s", linked, strings.Join(chainTo(starter, imports), " -> "))
	}
}

// chainTo is the shortest chain of imports from pkg to an SDK package.
func chainTo(pkg string, imports map[string][]string) []string {
	from := map[string]string{pkg: ""}
	for queue := []string{pkg}; len(queue) > 0; queue = queue[1:] {
		p := queue[0]
		if strings.HasPrefix(p, sdkPrefix) {
			var chain []string
			for ; p != ""; p = from[p] {
				chain = append([]string{p}, chain...)
			}
			return chain
		}
		for _, next := range imports[p] {
			if _, seen := from[next]; !seen {
				from[next] = p
				queue = append(queue, next)
			}
		}
	}
	return nil
}
