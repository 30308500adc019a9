package strictjson

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type inner struct {
	CMKID string `json:"cmk_id"`
}

type outer struct {
	Region  string  `json:"region"`
	Targets []inner `json:"targets"`
	Keep    bool    `json:"keep_failed_images,omitempty"`
}

func TestDecodeAcceptsKnownKeys(t *testing.T) {
	var v outer
	require.NoError(t, Decode([]byte(`{"region":"cn-north-4","targets":[{"cmk_id":"k"}]}`), &v))
	assert.Equal(t, outer{Region: "cn-north-4", Targets: []inner{{CMKID: "k"}}}, v)
}

func TestDecodeRefusesWhatItCannotTakeAsIs(t *testing.T) {
	for name, c := range map[string]struct{ in, says string }{
		"a misspelt nested key":  {`{"targets":[{"cmkid":"k"}]}`, `unknown key "cmkid" (did you mean "cmk_id"?)`},
		"a shortened key":        {`{"keep_failed":true}`, `(did you mean "keep_failed_images"?)`},
		"a key like none":        {`{"colour":"x"}`, `unknown key "colour"`},
		"a wrong type":           {`{"region":5}`, "region must be a string, not a JSON number"},
		"a wrong type in a list": {`{"targets":{}}`, "targets must be a list"},
		"a list for the whole":   {`[]`, "must be an object"},
		"two values":             {`{} {}`, "more than one JSON value"},
		"a stray bracket after":  {`{}}`, "text after it"},
		"nothing":                {``, "empty input"},
		"broken":                 {`{"region":`, "JSON"},
	} {
		t.Run(name, func(t *testing.T) {
			var v outer
			err := Decode([]byte(c.in), &v)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.says)
		})
	}
}

func TestNoSuggestionForAFarKey(t *testing.T) {
	var v outer
	err := Decode([]byte(`{"colour":"x"}`), &v)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "did you mean")
}

type renamed struct {
	SourceImageID string `json:"source_image_id"`
	CMKID         string `json:"cmk_id,omitempty"`
	Wait          int    `json:"-"`
	Name          string
}

func TestGoNamesReadsPayloadsWrittenBeforeTheKeys(t *testing.T) {
	data, err := GoNames([]byte(`{"SourceImageID":"i","CMKID":"k","Name":"n"}`), &renamed{})
	require.NoError(t, err)
	var v renamed
	require.NoError(t, Decode(data, &v))
	assert.Equal(t, renamed{SourceImageID: "i", CMKID: "k", Name: "n"}, v)
}

func TestGoNamesMatchesExactly(t *testing.T) {
	data, err := GoNames([]byte(`{"cmkid":"k"}`), &renamed{})
	require.NoError(t, err)
	var v renamed
	err = Decode(data, &v)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `unknown key "cmkid" (did you mean "cmk_id"?)`)
}

func TestGoNamesRefusesAKeyGivenTwice(t *testing.T) {
	_, err := GoNames([]byte(`{"CMKID":"k","cmk_id":"l"}`), &renamed{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"cmk_id" and under its legacy name "CMKID"`)
}

func TestGoNamesLeavesOtherJSONAlone(t *testing.T) {
	for _, in := range []string{`[]`, `"x"`, `{"cmk_id":`, ``, `{"cmk_id":"k"}`} {
		data, err := GoNames([]byte(in), &renamed{})
		require.NoError(t, err)
		assert.Equal(t, in, string(data))
	}
}

// A key given twice in one object is refused with its path, however it is spelt: encoding/json
// would keep the last value without a word, and an empty cmk_id after a real one makes an
// unencrypted image.
func TestDecodeRefusesAKeyGivenTwice(t *testing.T) {
	for name, c := range map[string]struct{ in, says string }{
		"the same key":          {`{"region":"a","region":"b"}`, `region is given twice: give it once`},
		"another case":          {`{"targets":[{"cmk_id":"k","CMK_ID":""}]}`, `targets[0].cmk_id is given twice, as "cmk_id" and "CMK_ID"`},
		"the Kelvin sign":       {`{"targets":[{},{"cmk_id":"k","cm\u212a_id":""}]}`, `targets[1].cmk_id is given twice`},
		"after a nested object": {`{"targets":[{"cmk_id":"k"}],"targets":[]}`, `targets is given twice`},
	} {
		t.Run(name, func(t *testing.T) {
			var v outer
			err := Decode([]byte(c.in), &v)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.says)
		})
	}
	var v outer
	require.NoError(t, Decode([]byte(`{"region":"a","targets":[{"cmk_id":"k"},{"cmk_id":"l"}]}`), &v),
		"the same key in two objects is no repeat")
	_, err := GoNames([]byte(`{"CMKID":"k","CMKID":""}`), &renamed{})
	require.Error(t, err, "GoNames's rewrite would lose one of the two")
	assert.Contains(t, err.Error(), "CMKID is given twice")
}
