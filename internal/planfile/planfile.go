// Package planfile reads a promotion plan from a file: YAML or JSON, every key known, every rule
// checked, so that a plan is refused before anything starts.
package planfile

import (
	"fmt"
	"os"

	"sigs.k8s.io/yaml"

	"github.com/imscopy/imscopy/internal/strictjson"
	"github.com/imscopy/imscopy/workflows/promote"
)

// Load reads and checks the plan at path.
func Load(path string) (promote.Plan, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return promote.Plan{}, fmt.Errorf("reading the plan: %w", err)
	}
	p, err := Parse(data)
	if err != nil {
		return promote.Plan{}, fmt.Errorf("plan %s: %w", path, err)
	}
	return p, nil
}

// Parse reads a plan from YAML or JSON (JSON is YAML) and checks it. A key given twice is
// refused, by the YAML reader for the same spelling and by strictjson for another case: either
// way one of its values would be dropped without a word.
func Parse(data []byte) (promote.Plan, error) {
	js, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return promote.Plan{}, fmt.Errorf("not valid YAML or JSON: %w", err)
	}
	if string(js) == "null" {
		return promote.Plan{}, fmt.Errorf("the plan is empty: it needs name, source and targets (see testdata/plans)")
	}
	var p promote.Plan
	if err := strictjson.Decode(js, &p); err != nil {
		return promote.Plan{}, err
	}
	if err := p.Validate(); err != nil {
		return promote.Plan{}, err
	}
	return p, nil
}
