package imsemu

import (
	"net/http"
	"strings"
)

// route is one IMS API: method, path pattern ("{name}" segments are parameters) and handler.
type route struct {
	method, name string
	segments     []string
	handle       func(*Emulator, *call) reply
}

var routes = []route{
	{http.MethodPost, RouteCopyInRegion, split("/v1/cloudimages/{image_id}/copy"), (*Emulator).copyInRegion},
	{http.MethodPost, RouteCopyCrossRegion, split("/v1/cloudimages/{image_id}/cross_region_copy"), (*Emulator).copyCrossRegion},
	{http.MethodGet, RouteShowJobProgress, split("/v1/cloudimages/job/{job_id}"), (*Emulator).showJobProgress},
	{http.MethodGet, RouteShowJob, split("/v1/{project_id}/jobs/{job_id}"), (*Emulator).showJob},
	{http.MethodGet, RouteListImages, split("/v2/cloudimages"), (*Emulator).listImages},
	{http.MethodGet, RouteGlanceShowImage, split("/v2/images/{image_id}"), (*Emulator).showImage},
	{http.MethodDelete, RouteGlanceDeleteImage, split("/v2/images/{image_id}"), (*Emulator).deleteImage},
	{http.MethodPost, RouteBatchAddMembers, split("/v1/cloudimages/members"), (*Emulator).addMembers},
	{http.MethodPut, RouteBatchUpdateMembers, split("/v1/cloudimages/members"), (*Emulator).updateMembers},
	{http.MethodDelete, RouteBatchDeleteMembers, split("/v1/cloudimages/members"), (*Emulator).deleteMembers},
	{http.MethodGet, RouteGlanceListImageMembers, split("/v2/images/{image_id}/members"), (*Emulator).listMembers},
}

func split(path string) []string { return strings.Split(strings.Trim(path, "/"), "/") }

// params are a route's path parameters (at most two), kept off the heap.
type params struct {
	names, values [2]string
	n             int
}

func (p *params) get(name string) string {
	for i := range p.n {
		if p.names[i] == name {
			return p.values[i]
		}
	}
	return ""
}

// matchRoute finds the route of a request. Literal segments win over parameters because the
// table lists /v1/cloudimages/... before /v1/{project_id}/...; the patterns do not overlap.
func matchRoute(method, path string) (*route, params) {
	segs := split(path)
	for i := range routes {
		rt := &routes[i]
		if rt.method != method || len(rt.segments) != len(segs) {
			continue
		}
		var p params
		matched := true
		for j, pat := range rt.segments {
			if strings.HasPrefix(pat, "{") {
				if segs[j] == "" || p.n == len(p.names) {
					matched = false
					break
				}
				p.names[p.n], p.values[p.n] = strings.Trim(pat, "{}"), segs[j]
				p.n++
				continue
			}
			if pat != segs[j] {
				matched = false
				break
			}
		}
		if matched {
			return rt, p
		}
	}
	return nil, params{}
}
