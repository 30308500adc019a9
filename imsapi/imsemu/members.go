package imsemu

import (
	"net/http"
	"sort"
	"time"
)

// Member statuses, as the recipient sets them.
const (
	memberPending  = "pending"
	memberAccepted = "accepted"
	memberRejected = "rejected"
)

type membersBody struct {
	Images        []string `json:"images"`
	Projects      []string `json:"projects"`
	Domains       []string `json:"domains"`
	Organizations []string `json:"organizations"`
}

type updateMembersBody struct {
	Images    []string `json:"images"`
	ProjectID string   `json:"project_id"`
	Status    string   `json:"status"`
	VaultID   string   `json:"vault_id"`
}

// addMembers is POST /v1/cloudimages/members: share images with projects (pending until the
// recipients accept). Asynchronous: the answer is a job whose results list every pair.
func (e *Emulator) addMembers(c *call) reply {
	var b membersBody
	if rep, ok := e.checkMembersBody(c, &b); !ok {
		return rep
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	images, rep, ok := e.ownedImages(c, b.Images, true)
	if !ok {
		return rep
	}
	for _, img := range images {
		if n := len(e.members[img.ID]) + len(b.Projects); n > maxMembersPerImage {
			return badRequest(codeShareQuota, "image %s would be shared with %d projects; at most %d are allowed", img.ID, n, maxMembersPerImage)
		}
	}
	failRate := e.currentFaults().MemberFailureRate
	var results []memberResult
	for _, img := range images {
		for _, p := range b.Projects {
			if e.faultRand.chance(failRate) {
				results = append(results, memberResult{img.ID, p, "failed"})
				continue
			}
			if e.members[img.ID][p] == nil {
				e.putMember(&member{ImageID: img.ID, ProjectID: p, Status: memberPending, CreatedAt: c.now, UpdatedAt: c.now})
			}
			results = append(results, memberResult{img.ID, p, "success"})
		}
	}
	return okReply(jobIDResponse{e.startMemberJob(c, jobTypeAddMembers, results)})
}

// updateMembers is PUT /v1/cloudimages/members: the recipient accepts or rejects shares.
func (e *Emulator) updateMembers(c *call) reply {
	var b updateMembersBody
	if rep, ok := decodeBody(c.body, &b); !ok {
		return rep
	}
	switch {
	case len(b.Images) == 0:
		return badRequest(codeBadFormat, "images must list at least one image ID")
	case b.ProjectID != c.project:
		return badRequest(codeBadFormat, "project_id %q must be the caller's own project %s: only the recipient accepts or rejects a share", b.ProjectID, c.project)
	case b.Status != memberAccepted && b.Status != memberRejected:
		return badRequest(codeBadFormat, "status %q must be accepted or rejected", b.Status)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	var images []*image
	for _, id := range b.Images {
		if rep, ok := checkImageID(id); !ok {
			return rep
		}
		img := e.visibleImage(c, id)
		if img == nil {
			return notFoundImage(id)
		}
		images = append(images, img)
	}
	failRate := e.currentFaults().MemberFailureRate
	var results []memberResult
	for _, img := range images {
		m := e.members[img.ID][c.project]
		if m == nil || e.faultRand.chance(failRate) {
			results = append(results, memberResult{img.ID, c.project, "failed"})
			continue
		}
		m.Status, m.UpdatedAt = b.Status, c.now
		results = append(results, memberResult{img.ID, c.project, "success"})
	}
	return okReply(jobIDResponse{e.startMemberJob(c, jobTypeUpdateMember, results)})
}

// deleteMembers is DELETE /v1/cloudimages/members: the owner stops sharing; removing a share
// that does not exist succeeds.
func (e *Emulator) deleteMembers(c *call) reply {
	var b membersBody
	if rep, ok := e.checkMembersBody(c, &b); !ok {
		return rep
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	images, rep, ok := e.ownedImages(c, b.Images, false)
	if !ok {
		return rep
	}
	var results []memberResult
	for _, img := range images {
		for _, p := range b.Projects {
			e.removeMember(img.ID, p)
			results = append(results, memberResult{img.ID, p, "success"})
		}
	}
	return okReply(jobIDResponse{e.startMemberJob(c, jobTypeDelMembers, results)})
}

// checkMembersBody validates the add/delete body: image and project IDs, no self-sharing.
func (e *Emulator) checkMembersBody(c *call, b *membersBody) (reply, bool) {
	if rep, ok := decodeBody(c.body, b); !ok {
		return rep, false
	}
	switch {
	case len(b.Images) == 0:
		return badRequest(codeBadFormat, "images must list at least one image ID"), false
	case len(b.Domains) > 0 || len(b.Organizations) > 0:
		return badRequest(codeBadFormat, "the emulator shares with projects only; list them in projects"), false
	case len(b.Projects) == 0:
		return badRequest(codeBadFormat, "projects must list at least one project ID"), false
	}
	for _, id := range b.Images {
		if rep, ok := checkImageID(id); !ok {
			return rep, false
		}
	}
	for _, p := range b.Projects {
		if !projectIDRE.MatchString(p) {
			return badRequest(codeBadFormat, "project %q is not a project ID (32 lower-case hex characters)", p), false
		}
		if p == c.project {
			return badRequest(codeShareWithSelf, "an image cannot be shared with its own project %s", p), false
		}
	}
	return reply{}, true
}

// ownedImages resolves image IDs the caller owns; for adding, the images must also be
// shareable (active and not encrypted). The caller holds e.mu.
func (e *Emulator) ownedImages(c *call, ids []string, forAdding bool) ([]*image, reply, bool) {
	var out []*image
	for _, id := range ids {
		img := e.visibleImage(c, id)
		switch {
		case img == nil:
			return nil, notFoundImage(id), false
		case img.Owner != c.project:
			return nil, badRequest(codeNotOwner, "image %s belongs to another project; only its owner can change its members", id), false
		case forAdding && img.CMKID != "":
			return nil, badRequest(codeShareEncrypted, "image %s is encrypted with KMS; encrypted images cannot be shared", id), false
		case forAdding && img.status(c.now) != statusActive:
			return nil, badRequest(codeImageUnavailable, "image %s is %s; only active images can be shared", id, img.status(c.now)), false
		}
		out = append(out, img)
	}
	return out, reply{}, true
}

// startMemberJob records a member job; its effects are already applied, the job only reports
// them once it ends. The caller holds e.mu.
func (e *Emulator) startMemberJob(c *call, jobType string, results []memberResult) string {
	j := &job{ID: e.newJobID(), Type: jobType, Region: c.region.Name, Project: c.project, SubJobID: e.ids.hex32(),
		Begin: c.now, Duration: min(e.cfg.JobDuration/memberJobShare, maxMemberJobLength), Results: results}
	e.addJob(j)
	e.changed()
	return j.ID
}

// putMember indexes a membership; the caller holds e.mu.
func (e *Emulator) putMember(m *member) {
	if e.members[m.ImageID] == nil {
		e.members[m.ImageID] = map[string]*member{}
	}
	e.members[m.ImageID][m.ProjectID] = m
	if e.sharedWith[m.ProjectID] == nil {
		e.sharedWith[m.ProjectID] = map[string]*image{}
	}
	if img := e.images[m.ImageID]; img != nil {
		e.sharedWith[m.ProjectID][m.ImageID] = img
	}
}

func (e *Emulator) removeMember(imageID, project string) {
	delete(e.members[imageID], project)
	delete(e.sharedWith[project], imageID)
}

type memberJSON struct {
	Status    string `json:"status"`
	CreatedAt string `json:"created_at"`
	UpdatedAt string `json:"updated_at"`
	ImageID   string `json:"image_id"`
	MemberID  string `json:"member_id"`
	Schema    string `json:"schema"`
}

type membersResponse struct {
	Members []memberJSON `json:"members"`
	Schema  string       `json:"schema"`
}

// listMembers is GET /v2/images/{image_id}/members (Glance): the owner sees every member, a
// member sees itself.
func (e *Emulator) listMembers(c *call) reply {
	id := c.params.get("image_id")
	e.mu.RLock()
	defer e.mu.RUnlock()
	img := e.visibleImage(c, id)
	if img == nil {
		return notFoundImage(id)
	}
	out := []memberJSON{}
	for p, m := range e.members[id] {
		if img.Owner == c.project || p == c.project {
			out = append(out, memberJSON{Status: m.Status, CreatedAt: formatImageTime(m.CreatedAt),
				UpdatedAt: formatImageTime(m.UpdatedAt), ImageID: id, MemberID: p, Schema: "/v2/schemas/member"})
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].MemberID < out[b].MemberID })
	return reply{status: http.StatusOK, body: membersResponse{Members: out, Schema: "/v2/schemas/members"}}
}

func formatImageTime(t time.Time) string { return t.UTC().Format(imageTime) }
