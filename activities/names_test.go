package activities

import (
	"reflect"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Every activity method has its name constant, and every constant names a method: a renamed
// method would otherwise leave the starter and the tests looking for a type no history holds.
func TestActivityNamesAreTheMethods(t *testing.T) {
	names := []string{NameSubmitCopy, NamePollJob, NameVerifyImage, NameCleanupCopy, NameCheckPromotion, NameFindReencrypted,
		NameShareImage, NameListImageMembers, NameAcceptShare, NameRequestPermit, NameClosedHolders}
	var methods []string
	typ := reflect.TypeOf(&Activities{})
	for i := range typ.NumMethod() {
		methods = append(methods, typ.Method(i).Name)
	}
	sort.Strings(names)
	sort.Strings(methods)
	assert.Equal(t, methods, names)
}
