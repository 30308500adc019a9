package imsapi_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imscopy/imscopy/imsapi"
	"github.com/imscopy/imscopy/imsapi/imsclient"
	"github.com/imscopy/imscopy/imsapi/imsemu"
	"github.com/imscopy/imscopy/internal/testkit/emutest"
)

// emuClient is a client of a fresh emulator, to see which requests reach IMS.
type emuClient struct {
	srv  *imsemu.Server
	home *imsclient.RegionClient
}

func startEmu(t *testing.T) emuClient {
	srv := emutest.Start(t, imsemu.Config{JobDuration: time.Second, Seed: 1})
	return emuClient{srv: srv, home: emutest.Client(t, emutest.ClientConfig(srv)).Home()}
}

// Every rule's invalid side, through every method: a *ValidationError naming the field, and the
// emulator's counters show that nothing arrived.
func TestInvalidInputNeverReachesIMS(t *testing.T) {
	env := startEmu(t)
	ctx := context.Background()
	r := env.home
	copyWith := func(edit func(*imsapi.CopyRequest)) func() error {
		return func() error {
			req := imsapi.CopyRequest{SourceImageID: seedImageID, Name: "valid-name"}
			edit(&req)
			_, err := r.CopyInRegion(ctx, req)
			return err
		}
	}
	crossWith := func(edit func(*imsapi.CrossRegionCopyRequest)) func() error {
		return func() error {
			req := validCrossCopy()
			edit(&req)
			_, err := r.CopyCrossRegion(ctx, req)
			return err
		}
	}
	list := func(f imsapi.ListFilter) func() error {
		return func() error { _, err := r.ListImages(ctx, f); return err }
	}
	add := func(images, projects []string) func() error {
		return func() error { _, err := r.AddMembers(ctx, images, projects); return err }
	}
	update := func(images []string, project string, status imsapi.MemberStatus) func() error {
		return func() error { _, err := r.UpdateMemberStatus(ctx, images, project, status); return err }
	}

	manyProjects := make([]string, 129) // IMS shares an image with at most 128 projects
	for i := range manyProjects {
		manyProjects[i] = projectB
	}

	var cases []validationCase
	for _, c := range nameCases {
		if !c.valid {
			name := c.value
			cases = append(cases, validationCase{"copy/name/" + c.name, copyWith(func(q *imsapi.CopyRequest) { q.Name = name }), "name"})
			cases = append(cases, validationCase{"cross/name/" + c.name, crossWith(func(q *imsapi.CrossRegionCopyRequest) { q.Name = name }), "name"})
		}
	}
	for _, c := range descriptionCases {
		if !c.valid {
			d := c.value
			cases = append(cases, validationCase{"copy/description/" + c.name, copyWith(func(q *imsapi.CopyRequest) { q.Description = d }), "description"})
			cases = append(cases, validationCase{"cross/description/" + c.name, crossWith(func(q *imsapi.CrossRegionCopyRequest) { q.Description = d }), "description"})
		}
	}
	cases = append(cases, []validationCase{
		{"copy/source", copyWith(func(q *imsapi.CopyRequest) { q.SourceImageID = "465076de" }), "image_id"},
		{"copy/cmk_id", copyWith(func(q *imsapi.CopyRequest) { q.CMKID = "my-key" }), "cmk_id"},
		{"copy/enterprise project", copyWith(func(q *imsapi.CopyRequest) { q.EnterpriseProjectID = "default" }), "enterprise_project_id"},
		{"cross/source", crossWith(func(q *imsapi.CrossRegionCopyRequest) { q.SourceImageID = "" }), "image_id"},
		{"cross/region shape", crossWith(func(q *imsapi.CrossRegionCopyRequest) { q.TargetRegion = "east" }), "region"},
		{"cross/same region", crossWith(func(q *imsapi.CrossRegionCopyRequest) { q.TargetRegion = emutest.Home.Name }), "region"},
		{"cross/agency", crossWith(func(q *imsapi.CrossRegionCopyRequest) { q.AgencyName = "" }), "agency_name"},
		{"cross/vault", crossWith(func(q *imsapi.CrossRegionCopyRequest) { q.VaultID = "vault" }), "vault_id"},
		{"job/id", func() error { _, err := r.GetJob(ctx, "job-1"); return err }, "job_id"},
		{"image/id", func() error { _, err := r.GetImage(ctx, "latest"); return err }, "image_id"},
		{"list/id", list(imsapi.ListFilter{ID: "x"}), "id"},
		{"list/name", list(imsapi.ListFilter{Name: "a/b"}), "name"},
		{"list/owner", list(imsapi.ListFilter{Owner: "me"}), "owner"},
		{"list/status", list(imsapi.ListFilter{Status: "ready"}), "status"},
		{"list/image type", list(imsapi.ListFilter{ImageType: "public"}), "__imagetype"},
		{"list/limit", list(imsapi.ListFilter{Limit: -1}), "limit"},
		{"list/marker", list(imsapi.ListFilter{Marker: "2"}), "marker"},
		{"add/no images", add(nil, []string{projectB}), "images"},
		{"add/bad image", add([]string{"img"}, []string{projectB}), "images[0]"},
		{"add/no projects", add([]string{seedImageID}, nil), "projects"},
		{"add/too many projects", add([]string{seedImageID}, manyProjects), "projects"},
		{"add/bad project", add([]string{seedImageID}, []string{projectB, "p"}), "projects[1]"},
		{"update/bad image", update([]string{"img"}, projectB, imsapi.MemberAccepted), "images[0]"},
		{"update/bad project", update([]string{seedImageID}, "p", imsapi.MemberAccepted), "project_id"},
		{"update/pending", update([]string{seedImageID}, projectB, imsapi.MemberPending), "status"},
		{"members/image", func() error { _, err := r.ListMembers(ctx, ""); return err }, "image_id"},
		{"delete/image", func() error { return r.DeleteImage(ctx, "../images") }, "image_id"},
	}...)

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assertValidation(t, tc.check(), tc.wantField)
			assert.Equal(t, 0, emutest.Requests(env.srv, ""), "no request may reach IMS")
		})
	}
}

// Every rule's valid side reaches IMS and IMS agrees.
func TestValidInputReachesIMS(t *testing.T) {
	env := startEmu(t)
	ctx := context.Background()
	sent := 0
	for _, c := range nameCases {
		if c.valid {
			t.Run("name/"+c.name, func(t *testing.T) {
				jobID, err := env.home.CopyInRegion(ctx, imsapi.CopyRequest{SourceImageID: seedImageID, Name: c.value})
				require.NoError(t, err)
				assert.NoError(t, imsapi.ValidateJobID(jobID), "IMS answers a job ID")
				sent++
				assert.Equal(t, sent, emutest.Requests(env.srv, imsemu.RouteCopyInRegion))
			})
		}
	}
	for _, c := range descriptionCases {
		if c.valid {
			t.Run("description/"+c.name, func(t *testing.T) {
				_, err := env.home.CopyInRegion(ctx, imsapi.CopyRequest{SourceImageID: seedImageID, Name: "described", Description: c.value})
				require.NoError(t, err)
				sent++
				assert.Equal(t, sent, emutest.Requests(env.srv, imsemu.RouteCopyInRegion))
			})
		}
	}
	t.Run("enterprise project 0 and a key", func(t *testing.T) {
		_, err := env.home.CopyInRegion(ctx, imsapi.CopyRequest{SourceImageID: seedImageID, Name: "full", CMKID: seedKeyID, EnterpriseProjectID: "0"})
		require.NoError(t, err)
	})
}
