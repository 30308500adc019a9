package imsemu

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"time"
)

// AdminImage is one image as the admin API shows it: every region and project, deleted ones
// included, with the lineage tests use to count copies.
type AdminImage struct {
	ID                  string        `json:"id"`
	Name                string        `json:"name"`
	Region              string        `json:"region"`
	Owner               string        `json:"owner"`
	Status              string        `json:"status"`
	OriginalImageName   string        `json:"original_image_name"`
	DataOrigin          string        `json:"data_origin"`
	CMKID               string        `json:"cmk_id"`
	Description         string        `json:"description"`
	Visibility          string        `json:"visibility"`
	MinDisk             int           `json:"min_disk"`
	MinRAM              int           `json:"min_ram"`
	OSType              string        `json:"os_type"`
	OSVersion           string        `json:"os_version"`
	Platform            string        `json:"platform"`
	Architecture        string        `json:"architecture"`
	SizeBytes           int64         `json:"size_bytes"`
	EnterpriseProjectID string        `json:"enterprise_project_id"`
	JobID               string        `json:"job_id"`
	CreatedAt           time.Time     `json:"created_at"`
	VisibleAt           time.Time     `json:"visible_at"`
	DeletedAt           time.Time     `json:"deleted_at,omitzero"`
	Members             []AdminMember `json:"members,omitempty"`
}

// AdminMember is one share of an image, as the admin API shows it.
type AdminMember struct {
	ProjectID string `json:"project_id"`
	Status    string `json:"status"`
}

// AdminJob is one job as the admin API shows it.
type AdminJob struct {
	ID            string              `json:"id"`
	Type          string              `json:"type"`
	Region        string              `json:"region"`
	Project       string              `json:"project"`
	Status        string              `json:"status"`
	ImageID       string              `json:"image_id"`
	ImageName     string              `json:"image_name"`
	SourceImageID string              `json:"source_image_id"`
	TargetRegion  string              `json:"target_region"`
	ErrorCode     string              `json:"error_code"`
	FailReason    string              `json:"fail_reason"`
	Begin         time.Time           `json:"begin"`
	End           time.Time           `json:"end,omitzero"`
	Duration      time.Duration       `json:"duration_ns"`
	Percent       float64             `json:"percent"`
	Results       []AdminMemberResult `json:"results,omitempty"`
	// AnswerLost: the answer to the request that created the job was lost on purpose, so the
	// caller never learned the job ID (nor, if it fails, IMS's reason).
	AnswerLost bool `json:"answer_lost,omitempty"`
}

// AdminMemberResult is one pair of a member job.
type AdminMemberResult struct {
	ImageID   string `json:"image_id"`
	ProjectID string `json:"project_id"`
	Status    string `json:"status"`
}

// RouteCount is how many requests one route of one region answered with one status; Status 0
// counts responses lost on purpose, 499 requests whose client left during injected latency. AK
// is the access key whose signature the gateway verified, so that a test can tell which account
// sent what; it is empty for token requests and for requests whose credentials were refused.
type RouteCount struct {
	Region string `json:"region"`
	Route  string `json:"route"`
	Status int    `json:"status"`
	AK     string `json:"ak,omitempty"`
	Count  int    `json:"count"`
}

// Images returns every image of every region and project, deleted ones included, oldest first.
func (e *Emulator) Images() []AdminImage {
	now := e.now()
	e.mu.RLock()
	defer e.mu.RUnlock()
	out := make([]AdminImage, 0, len(e.allImages))
	for _, img := range e.allImages {
		a := AdminImage{
			ID: img.ID, Name: img.Name, Region: img.Region, Owner: img.Owner, Status: img.status(now),
			OriginalImageName: img.OriginalImageName, DataOrigin: img.DataOrigin, CMKID: img.CMKID,
			Description: img.Description, Visibility: img.Visibility, MinDisk: img.MinDisk, MinRAM: img.MinRAM,
			OSType: img.OSType, OSVersion: img.OSVersion, Platform: img.Platform, Architecture: img.Architecture,
			SizeBytes: img.SizeBytes, EnterpriseProjectID: img.EnterpriseProjectID, JobID: img.JobID,
			CreatedAt: img.CreatedAt, VisibleAt: img.VisibleAt, DeletedAt: img.DeletedAt,
		}
		for p, m := range e.members[img.ID] {
			a.Members = append(a.Members, AdminMember{ProjectID: p, Status: m.Status})
		}
		sort.Slice(a.Members, func(i, j int) bool { return a.Members[i].ProjectID < a.Members[j].ProjectID })
		out = append(out, a)
	}
	return out
}

// Jobs returns every job, oldest first, in its state at the current clock.
func (e *Emulator) Jobs() []AdminJob {
	now := e.now()
	e.mu.RLock()
	defer e.mu.RUnlock()
	out := make([]AdminJob, 0, len(e.allJobs))
	for _, j := range e.allJobs {
		v := j.view(now)
		a := AdminJob{ID: j.ID, Type: j.Type, Region: j.Region, Project: j.Project, Status: v.Status,
			ImageID: j.ImageID, ImageName: j.ImageName, SourceImageID: j.SourceImageID, TargetRegion: j.TargetRegion,
			Begin: j.Begin, End: v.End, Duration: j.Duration, Percent: v.Percent, AnswerLost: j.AnswerLost}
		if v.Status == jobFail {
			a.ErrorCode, a.FailReason = codeJobFailed, failReason
		}
		for _, r := range j.Results {
			a.Results = append(a.Results, AdminMemberResult(r))
		}
		out = append(out, a)
	}
	return out
}

// markAnswerLost records that the answer naming a new job was lost on purpose.
func (e *Emulator) markAnswerLost(jobID string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if j, ok := e.jobs[jobID]; ok {
		j.AnswerLost = true
		e.changed()
	}
}

// Counts returns the request counts, sorted by region, route, status and access key.
func (e *Emulator) Counts() []RouteCount {
	e.counts.mu.Lock()
	out := make([]RouteCount, 0, len(e.counts.m))
	for k, n := range e.counts.m {
		out = append(out, RouteCount{Region: k.region, Route: k.route, Status: k.status, AK: k.ak, Count: n})
	}
	e.counts.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Region != b.Region {
			return a.Region < b.Region
		}
		if a.Route != b.Route {
			return a.Route < b.Route
		}
		if a.Status != b.Status {
			return a.Status < b.Status
		}
		return a.AK < b.AK
	})
	return out
}

// serveAdmin is the /_emulator/ API. It has no authentication: local use only.
func (e *Emulator) serveAdmin(w http.ResponseWriter, r *http.Request) {
	send := func(status int, v any) {
		b, _ := json.Marshal(v)
		w.WriteHeader(status)
		w.Write(b)
	}
	fail := func(status int, format string, args ...any) {
		send(status, map[string]string{"error": fmt.Sprintf(format, args...)})
	}
	switch r.Method + " " + r.URL.Path {
	case "GET " + adminPrefix + "images":
		send(http.StatusOK, e.Images())
	case "GET " + adminPrefix + "jobs":
		send(http.StatusOK, e.Jobs())
	case "GET " + adminPrefix + "counts":
		send(http.StatusOK, e.Counts())
	case "GET " + adminPrefix + "peaks":
		send(http.StatusOK, map[string]int{"cross_region_copies": e.PeakCrossRegionCopies()})
	case "GET " + adminPrefix + "faults":
		send(http.StatusOK, e.Faults())
	case "PUT " + adminPrefix + "faults":
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			fail(http.StatusBadRequest, "reading the body: %v", err)
			return
		}
		var f Faults
		if err := json.Unmarshal(body, &f); err != nil {
			fail(http.StatusBadRequest, "the faults must be a JSON object like {\"routes\":{\"*\":{\"error_rate\":0.1,\"error_status\":503}},\"retry_after\":\"2s\"}: %v", err)
			return
		}
		if err := f.Validate(); err != nil {
			fail(http.StatusBadRequest, "%v", err)
			return
		}
		e.SetFaults(f)
		send(http.StatusOK, e.Faults())
	default:
		fail(http.StatusNotFound, "no admin API %s %s; use GET %[3]simages, GET %[3]sjobs, GET %[3]scounts, GET %[3]speaks, GET or PUT %[3]sfaults", r.Method, r.URL.Path, adminPrefix)
	}
}

// PeakConcurrent is the most of jobs that ran at the same time, from each job's begin and end on
// the emulator's clock. A job still running counts as running from its begin on; where one job
// ends as another begins, the end comes first, as IMS frees the slot.
func PeakConcurrent(jobs []AdminJob) int {
	type edge struct {
		at    time.Time
		delta int
	}
	edges := make([]edge, 0, 2*len(jobs))
	for _, j := range jobs {
		edges = append(edges, edge{j.Begin, 1})
		if !j.End.IsZero() {
			edges = append(edges, edge{j.End, -1})
		}
	}
	sort.Slice(edges, func(a, b int) bool {
		if !edges[a].at.Equal(edges[b].at) {
			return edges[a].at.Before(edges[b].at)
		}
		return edges[a].delta < edges[b].delta
	})
	peak, n := 0, 0
	for _, e := range edges {
		n += e.delta
		peak = max(peak, n)
	}
	return peak
}
