package imsemu

import (
	"bytes"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"unicode/utf8"
)

// The server-side checks IMS documents (docs/ims-api.md section 2), answered with IMS's codes, so a
// client that skips its own validation meets the same refusals as in the cloud.
var nameCharsRE = regexp.MustCompile(`^[A-Za-z0-9._\- \x{4E00}-\x{9FFF}]+$`)

const (
	maxNameRunes        = 128
	maxDescriptionRunes = 1024
)

func badRequest(code, format string, args ...any) reply {
	return imsError(http.StatusBadRequest, code, format, args...)
}

// decodeBody parses a JSON request body: empty is IMG.0007, malformed IMG.0001.
func decodeBody(body []byte, v any) (reply, bool) {
	if len(bytes.TrimSpace(body)) == 0 {
		return badRequest(codeEmptyBody, "the request body is empty; send a JSON object"), false
	}
	if err := json.Unmarshal(body, v); err != nil {
		return badRequest(codeBadFormat, "the request body is not valid JSON for this API: %v", err), false
	}
	return reply{}, true
}

// firstFailure runs checks in order and answers with the first that fails; later checks may
// rely on earlier ones (the name is read only once the body has been decoded).
func firstFailure(checks ...func() (reply, bool)) (reply, bool) {
	for _, check := range checks {
		if rep, ok := check(); !ok {
			return rep, false
		}
	}
	return reply{}, true
}

func checkName(name string) (reply, bool) {
	n := utf8.RuneCountInString(name)
	switch {
	case n == 0:
		return badRequest(codeNameEmpty, "the image name is empty; give a name of 1-128 characters"), false
	case n > maxNameRunes:
		return badRequest(codeNameTooLong, "the image name has %d characters; at most 128 are allowed", n), false
	case !nameCharsRE.MatchString(name) || strings.HasPrefix(name, " ") || strings.HasSuffix(name, " "):
		return badRequest(codeNameFormat, "the image name may contain only letters, digits, '-', '.', '_', spaces and Chinese characters, and must not start or end with a space"), false
	}
	return reply{}, true
}

func checkDescription(d string) (reply, bool) {
	if n := utf8.RuneCountInString(d); n > maxDescriptionRunes {
		return badRequest(codeDescriptionTooLong, "the description has %d characters; at most 1024 are allowed", n), false
	}
	if strings.ContainsAny(d, "\r<>") {
		return badRequest(codeDescriptionFormat, "the description must not contain a carriage return, '<' or '>'"), false
	}
	return reply{}, true
}

func checkImageID(id string) (reply, bool) {
	if !uuidRE.MatchString(id) {
		return badRequest(codeBadFormat, "image ID %q is not a UUID such as 465076de-dc36-4aec-80f5-ef9d8009428f", id), false
	}
	return reply{}, true
}

func checkEnterpriseProject(id string) (reply, bool) {
	if id != "" && id != "0" && !uuidRE.MatchString(id) {
		return badRequest(codeBadEnterpriseProj, "enterprise_project_id %q must be \"0\" (the default enterprise project) or a UUID", id), false
	}
	return reply{}, true
}

func notFoundImage(id string) reply {
	return imsError(http.StatusNotFound, codeUnknownImage, "image %s does not exist in this region or is not visible to this project", id)
}
