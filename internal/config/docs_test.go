package config

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// workerTable is docs/operations.md's table of the worker's variables: for each row, its first
// cell (the variables) and its second (the default).
func workerTable(t *testing.T) [][2]string {
	t.Helper()
	doc, err := os.ReadFile("../../docs/operations.md")
	require.NoError(t, err)
	_, section, ok := strings.Cut(string(doc), "## Configuration (worker)")
	require.True(t, ok, "docs/operations.md has no section \"## Configuration (worker)\"")
	section, _, _ = strings.Cut(section, "\n## ")
	var rows [][2]string
	for _, line := range strings.Split(section, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 4 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`") {
			continue
		}
		rows = append(rows, [2]string{cells[1], cells[2]})
	}
	require.NotEmpty(t, rows, "docs/operations.md's worker section has no table of variables")
	return rows
}

// Every variable the worker reads is in the operations page's table, with the default it has.
// The Temporal connection's variables are in its own section, "Temporal Cloud and TLS".
func TestOperationsDocumentsEveryWorkerVariable(t *testing.T) {
	rows := workerTable(t)
	typ := reflect.TypeOf(Worker{})
	for i := range typ.NumField() {
		f := typ.Field(i)
		name := f.Tag.Get("envconfig")
		if name == "" {
			continue
		}
		var row *[2]string
		for i := range rows {
			if strings.Contains(rows[i][0], "`"+name+"`") {
				row = &rows[i]
				break
			}
		}
		if !assert.NotNil(t, row, "docs/operations.md's table of worker variables lacks %s", name) {
			continue
		}
		if def := f.Tag.Get("default"); def != "" {
			assert.Contains(t, row[1], "`"+def+"`", "docs/operations.md gives %s another default than the code's %q", name, def)
		}
	}
}
