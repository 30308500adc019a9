package deploy

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// imsAPIHeading is a numbered heading of docs/ims-api.md: "## 8. Errors..." or "### 8.2 The codes...".
var imsAPIHeading = regexp.MustCompile(`(?m)^#{2,4} (\d+(?:\.\d+)*)\.? `)

// imsAPICitation is a citation of docs/ims-api.md in Go code, with the sections it names:
// "docs/ims-api.md section 5.3", "docs/ims-api.md sections 2, 3 and 6", "docs/ims-api.md §8".
var imsAPICitation = regexp.MustCompile(`docs/ims-api\.md,? (?:sections?|§) ?(\d+(?:\.\d+)*(?:(?:, | and |, and )\d+(?:\.\d+)*)*)`)

var sectionNumber = regexp.MustCompile(`\d+(?:\.\d+)*`)

// outsideDoc matches a reference to a document that is not in the repository: the shared folder the
// IMS contract and the design were first written in, the design file, or ims-api.md without docs/.
var outsideDoc = regexp.MustCompile(`\.\./shared|/shared/|DESIGN\.md|(?:^|[^/])ims-api\.md`)

// goSources maps every .go file of the module (path from the module root) to its text, except this
// file, whose patterns would match themselves.
func goSources(t *testing.T) map[string]string {
	t.Helper()
	self, err := filepath.Abs("citations_test.go")
	require.NoError(t, err)
	files := map[string]string{}
	err = filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != ".." && (strings.HasPrefix(name, ".") || name == "bin" || name == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		if abs, err := filepath.Abs(path); err == nil && abs == self {
			return nil
		}
		text, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files[filepath.ToSlash(strings.TrimPrefix(path, "../"))] = string(text)
		return nil
	})
	require.NoError(t, err)
	require.NotEmpty(t, files, "found no Go files under the module root")
	return files
}

// Every section of docs/ims-api.md that the code cites is a heading there, so a reader who follows a
// comment lands on the fact it rests on; and no comment sends the reader outside the repository.
func TestCodeCitesIMSAPISectionsThatExist(t *testing.T) {
	doc := read(t, "../docs/ims-api.md")
	headings := map[string]bool{}
	for _, m := range imsAPIHeading.FindAllStringSubmatch(doc, -1) {
		headings[m[1]] = true
	}
	require.NotEmpty(t, headings, "docs/ims-api.md has no numbered headings such as \"## 2. In-region copy\"")

	cited := 0
	for path, text := range goSources(t) {
		for i, line := range strings.Split(text, "\n") {
			for _, m := range imsAPICitation.FindAllStringSubmatch(line, -1) {
				for _, section := range sectionNumber.FindAllString(m[1], -1) {
					cited++
					assert.True(t, headings[section], "%s:%d cites docs/ims-api.md section %s, which has no heading there", path, i+1, section)
				}
			}
			for _, ref := range outsideDoc.FindAllString(line, -1) {
				assert.Fail(t, "a citation leaves the repository",
					"%s:%d cites %q: cite docs/ims-api.md with its section, or the docs/ page that holds the subject",
					path, i+1, strings.TrimLeft(ref, " (\"'`"))
			}
		}
	}
	assert.NotZero(t, cited, "no Go file cites a section of docs/ims-api.md: the citation pattern no longer matches the comments")
}
