package imsemu

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
)

type imageListResponse struct {
	Images []imageJSON `json:"images"`
}

// listFilters are the query filters of GET /v2/cloudimages the emulator honours; other
// parameters are accepted and ignored.
var listFilters = map[string]func(img imageJSON) string{
	"id":              func(i imageJSON) string { return i.ID },
	"name":            func(i imageJSON) string { return i.Name },
	"status":          func(i imageJSON) string { return i.Status },
	"owner":           func(i imageJSON) string { return i.Owner },
	"__imagetype":     func(i imageJSON) string { return i.ImageType },
	"visibility":      func(i imageJSON) string { return i.Visibility },
	"__os_type":       func(i imageJSON) string { return i.OSType },
	"__platform":      func(i imageJSON) string { return i.Platform },
	"__os_bit":        func(i imageJSON) string { return i.OSBit },
	"__system__cmkid": func(i imageJSON) string { return i.SystemCMKID },
	"architecture":    func(i imageJSON) string { return i.Architecture },
	"disk_format":     func(i imageJSON) string { return i.DiskFormat },
	"min_disk":        func(i imageJSON) string { return strconv.Itoa(i.MinDisk) },
	"min_ram":         func(i imageJSON) string { return strconv.Itoa(i.MinRAM) },
}

const (
	defaultListLimit = 500
	maxListLimit     = 1000
)

// listImages is GET /v2/cloudimages (docs/ims-api.md section 5.1). Deleted images are never
// listed; new ones only after the visibility delay; shared images only once accepted unless
// member_status asks for another state.
func (e *Emulator) listImages(c *call) reply {
	q := c.query
	limit := defaultListLimit
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxListLimit {
			return badRequest(codeBadFormat, "limit %q must be a whole number from 1 to %d", s, maxListLimit)
		}
		limit = n
	}
	sortKey, sortDir := q.Get("sort_key"), q.Get("sort_dir")
	less, ok := imageOrder(sortKey)
	if !ok {
		return badRequest(codeBadFormat, "sort_key %q must be one of name, status, id, size, created_at", sortKey)
	}
	if sortDir != "" && sortDir != "asc" && sortDir != "desc" {
		return badRequest(codeBadFormat, "sort_dir %q must be asc or desc", sortDir)
	}
	memberStatus := q.Get("member_status")
	if memberStatus == "" {
		memberStatus = memberAccepted
	}

	e.mu.RLock()
	var found []imageJSON
	for _, img := range e.listCandidates(c) {
		if img.Region != c.region.Name || !img.DeletedAt.IsZero() || c.now.Before(img.VisibleAt) {
			continue
		}
		if img.Owner != c.project {
			if m := e.members[img.ID][c.project]; m == nil || m.Status != memberStatus {
				continue
			}
		}
		j := img.render(c.project, c.now)
		if matchesFilters(j, q) {
			found = append(found, j)
		}
	}
	e.mu.RUnlock()

	sort.SliceStable(found, func(a, b int) bool {
		if sortDir == "asc" {
			return less(found[a], found[b])
		}
		return less(found[b], found[a])
	})
	if marker := q.Get("marker"); marker != "" {
		i := indexOfImage(found, marker)
		if i < 0 {
			return badRequest(codeBadFormat, "marker %s is not an image of this listing; start again without a marker", marker)
		}
		found = found[i+1:]
	}
	if len(found) > limit {
		found = found[:limit]
	}
	if found == nil {
		found = []imageJSON{}
	}
	return okReply(imageListResponse{found})
}

// listCandidates narrows the scan with the indexes: by ID, or by exact name. The caller holds
// the read lock; the result is a superset that the filters then cut down.
func (e *Emulator) listCandidates(c *call) []*image {
	q := c.query
	if id := q.Get("id"); id != "" {
		if img := e.images[id]; img != nil {
			return []*image{img}
		}
		return nil
	}
	name := q.Get("name")
	if name == "" {
		return e.regionImages[c.region.Name]
	}
	owner := q.Get("owner")
	if owner == "" {
		owner = c.project
	}
	out := append([]*image(nil), e.byName[ownerKey{c.region.Name, owner}][name]...)
	if q.Get("owner") == "" {
		for _, img := range e.sharedWith[c.project] {
			if img.Name == name {
				out = append(out, img)
			}
		}
	}
	return out
}

func matchesFilters(j imageJSON, q map[string][]string) bool {
	for key, field := range listFilters {
		if want, ok := q[key]; ok && want[0] != "" && field(j) != want[0] {
			return false
		}
	}
	return true
}

// imageOrder returns "a sorts before b" for a sort key; created time (the default) breaks
// ties by ID so pages are stable.
func imageOrder(key string) (func(a, b imageJSON) bool, bool) {
	byCreated := func(a, b imageJSON) bool {
		if a.CreatedAt != b.CreatedAt {
			return a.CreatedAt < b.CreatedAt
		}
		return a.ID < b.ID
	}
	then := func(field func(imageJSON) string) func(a, b imageJSON) bool {
		return func(a, b imageJSON) bool {
			if fa, fb := field(a), field(b); fa != fb {
				return fa < fb
			}
			return byCreated(a, b)
		}
	}
	switch key {
	case "", "created_at":
		return byCreated, true
	case "name":
		return then(func(i imageJSON) string { return i.Name }), true
	case "status":
		return then(func(i imageJSON) string { return i.Status }), true
	case "id":
		return func(a, b imageJSON) bool { return a.ID < b.ID }, true
	case "size":
		return func(a, b imageJSON) bool {
			sa, _ := strconv.ParseInt(a.ImageSize, 10, 64)
			sb, _ := strconv.ParseInt(b.ImageSize, 10, 64)
			if sa != sb {
				return sa < sb
			}
			return byCreated(a, b)
		}, true
	}
	return nil, false
}

func indexOfImage(list []imageJSON, id string) int {
	for i, j := range list {
		if j.ID == id {
			return i
		}
	}
	return -1
}

// visibleImage finds an image of this region the caller may see (owner or member), not
// deleted. The caller holds e.mu.
func (e *Emulator) visibleImage(c *call, id string) *image {
	img := e.images[id]
	if img == nil || img.Region != c.region.Name || !img.DeletedAt.IsZero() || !e.visibleTo(img, c.project) {
		return nil
	}
	return img
}

func (e *Emulator) visibleTo(img *image, project string) bool {
	return img.Owner == project || e.members[img.ID][project] != nil
}

// showImage is GET /v2/images/{image_id}: the bare image object, 404 when unknown or deleted.
func (e *Emulator) showImage(c *call) reply {
	id := c.params.get("image_id")
	e.mu.RLock()
	defer e.mu.RUnlock()
	img := e.visibleImage(c, id)
	if img == nil {
		return notFoundImage(id)
	}
	return okReply(img.render(c.project, c.now))
}

type deleteImageBody struct {
	DeleteBackup *bool `json:"delete_backup"`
}

// deleteImage is DELETE /v2/images/{image_id} (docs/ims-api.md section 7): 204; 204 again for an
// image already deleted; IMG.0090 while its copy job runs.
func (e *Emulator) deleteImage(c *call) reply {
	id := c.params.get("image_id")
	if len(strings.TrimSpace(string(c.body))) > 0 {
		var b deleteImageBody
		if rep, ok := decodeBody(c.body, &b); !ok {
			return rep
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	img := e.images[id]
	switch {
	case img == nil || img.Region != c.region.Name || !e.visibleTo(img, c.project):
		return notFoundImage(id)
	case !img.DeletedAt.IsZero():
		return reply{status: http.StatusNoContent}
	case img.Owner != c.project:
		return imsError(http.StatusForbidden, codeNotOwnerDelete, "only the owner of image %s can delete it; remove the share instead", id)
	case img.building(c.now):
		return badRequest(codeImageBusy, "image %s is still being created; delete it after its job %s ends", id, img.JobID)
	}
	e.markDeleted(img, c.now)
	e.changed()
	return reply{status: http.StatusNoContent}
}
