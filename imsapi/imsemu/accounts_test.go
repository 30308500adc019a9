package imsemu

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The second account: its own key pair and one project in each region.
const (
	secondAK   = "SECONDACCOUNTAK00000"
	secondSK   = "second-account-secret-key"
	secondHome = "b0b0b0b0b0b0b0b0b0b0b0b0b0b0b001"
	secondEast = "b0b0b0b0b0b0b0b0b0b0b0b0b0b0b002"
)

func withSecondAccount(c *Config) {
	c.Accounts = []Account{{AK: secondAK, SK: secondSK,
		Projects: map[string][]string{home.Name: {secondHome}, east.Name: {secondEast}}}}
}

// as is a client of region signing with ak/sk and acting in project.
func (f *fixture) as(region Region, ak, sk, project string) *client {
	c := f.client(region)
	c.ak, c.sk, c.project = ak, sk, project
	return c
}

// requestsBy sums the requests of a route in a region whose signature was verified as ak's.
func requestsBy(counts []RouteCount, region, route, ak string) map[int]int {
	out := map[int]int{}
	for _, c := range counts {
		if c.Region == region && c.Route == route && c.AK == ak {
			out[c.Status] += c.Count
		}
	}
	return out
}

// A key acts in its own account's projects only: another account's project is refused by the
// gateway with 403 APIGW.0302 (decisions.go), a project of no account with 401 APIGW.0301.
func TestAccountsActOnlyInTheirProjects(t *testing.T) {
	f := newFixture(t, withSecondAccount)
	list := "/v2/cloudimages"
	cases := []struct {
		name   string
		c      *client
		status int
		code   string
	}{
		{"first account in its project", f.client(home), 200, ""},
		{"second account in its project", f.as(home, secondAK, secondSK, secondHome), 200, ""},
		{"second account without X-Project-Id acts in its own project", f.as(home, secondAK, secondSK, ""), 200, ""},
		{"second account in the first's project", f.as(home, secondAK, secondSK, home.ProjectID), 403, codeOtherAccount},
		{"first account in the second's project", f.as(home, DefaultAK, DefaultSK, secondHome), 403, codeOtherAccount},
		{"second account's project of the other region", f.as(home, secondAK, secondSK, secondEast), 401, codeBadSignature},
		{"second account in a project of no account", f.as(home, secondAK, secondSK, "ffffffffffffffffffffffffffffffff"), 401, codeBadSignature},
		{"second account's AK signed with the first's SK", f.as(home, secondAK, DefaultSK, secondHome), 401, codeBadSignature},
		{"first account's AK signed with the second's SK", f.as(home, DefaultAK, secondSK, home.ProjectID), 401, codeBadSignature},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.c.do("GET", list, nil)
			require.Equal(t, tc.status, r.status, "body: %s", r.raw)
			if tc.code == "" {
				return
			}
			body := r.json(t)
			assert.Equal(t, tc.code, body["error_code"])
			assert.Equal(t, r.header.Get("X-Request-Id"), body["request_id"])
			for _, secret := range []string{DefaultAK, DefaultSK, secondAK, secondSK} {
				assert.NotContains(t, string(r.raw), secret, "a refusal never names a credential")
			}
		})
	}
	// The counts say which key signed what; a refused signature is counted under no key.
	assert.Equal(t, map[int]int{200: 1, 403: 1}, requestsBy(f.srv.Counts(), home.Name, RouteListImages, DefaultAK))
	assert.Equal(t, map[int]int{200: 2, 403: 1, 401: 2}, requestsBy(f.srv.Counts(), home.Name, RouteListImages, secondAK))
	assert.Equal(t, map[int]int{401: 2}, requestsBy(f.srv.Counts(), home.Name, RouteListImages, ""))

	// The second account sees none of the first's images.
	r := f.as(home, secondAK, secondSK, secondHome).do("GET", "/v2/images/"+SeedImageID, nil)
	assert.Equal(t, 404, r.status, "body: %s", r.raw)
}

// An image of the first account shared with a project of the second: only the second account's
// credentials accept it; the first account's, acting in that project, are refused and change
// nothing. The owner's members list then shows the share accepted.
func TestShareAcrossAccounts(t *testing.T) {
	f := newFixture(t, withSecondAccount)
	owner := f.client(home)
	recipientB := f.as(home, secondAK, secondSK, secondHome)
	ownerInB := f.as(home, DefaultAK, DefaultSK, secondHome)

	share := map[string]any{"images": []string{SeedImageID}, "projects": []string{secondHome}}
	r := owner.do("POST", "/v1/cloudimages/members", share)
	require.Equal(t, 200, r.status, "body: %s", r.raw)
	f.clock.Advance(testJobDuration)
	job := owner.do("GET", "/v1/"+home.ProjectID+"/jobs/"+r.json(t)["job_id"].(string), nil).json(t)
	assert.Equal(t, "SUCCESS", job["status"])
	members := func() []any {
		return owner.do("GET", "/v2/images/"+SeedImageID+"/members", nil).json(t)["members"].([]any)
	}
	require.Len(t, members(), 1)
	assert.Equal(t, "pending", members()[0].(map[string]any)["status"])

	accept := map[string]any{"images": []string{SeedImageID}, "project_id": secondHome, "status": "accepted"}
	r = ownerInB.do("PUT", "/v1/cloudimages/members", accept)
	require.Equal(t, 403, r.status, "the owner's credentials cannot accept for another account: %s", r.raw)
	assert.Equal(t, codeOtherAccount, r.code(t))
	assert.Equal(t, "pending", members()[0].(map[string]any)["status"], "the refused accept changed nothing")

	// The recipient sees the pending share, but may not change its members.
	assert.Equal(t, 200, recipientB.do("GET", "/v2/images/"+SeedImageID, nil).status)
	r = recipientB.do("POST", "/v1/cloudimages/members", map[string]any{"images": []string{SeedImageID}, "projects": []string{secondEast}})
	assert.Equal(t, 400, r.status, "body: %s", r.raw)
	assert.Equal(t, codeNotOwner, r.code(t))

	r = recipientB.do("PUT", "/v1/cloudimages/members", accept)
	require.Equal(t, 200, r.status, "body: %s", r.raw)
	jobID := r.json(t)["job_id"].(string)
	f.clock.Advance(testJobDuration)
	job = recipientB.do("GET", "/v1/"+secondHome+"/jobs/"+jobID, nil).json(t)
	assert.Equal(t, "SUCCESS", job["status"])
	assert.Equal(t, []any{map[string]any{"image_id": SeedImageID, "project_id": secondHome, "status": "success"}},
		entities(job)["results"])
	assert.Equal(t, 404, owner.do("GET", "/v1/cloudimages/job/"+jobID, nil).status, "the accept's job is the recipient's")

	require.Len(t, members(), 1)
	m := members()[0].(map[string]any)
	assert.Equal(t, secondHome, m["member_id"])
	assert.Equal(t, "accepted", m["status"])

	assert.Equal(t, map[int]int{403: 1}, requestsBy(f.srv.Counts(), home.Name, RouteBatchUpdateMembers, DefaultAK),
		"the first account's one accept was refused")
	assert.Equal(t, map[int]int{200: 1}, requestsBy(f.srv.Counts(), home.Name, RouteBatchUpdateMembers, secondAK))
}

// A cross-region copy lands in the caller's account's project of the target region, and each
// account has its own five running cross-region copies.
func TestCrossRegionCopyPerAccount(t *testing.T) {
	f := newFixture(t, withSecondAccount)
	owner := f.client(home)
	recipientB := f.as(home, secondAK, secondSK, secondHome)
	r := owner.do("POST", "/v1/cloudimages/members", map[string]any{"images": []string{SeedImageID}, "projects": []string{secondHome}})
	require.Equal(t, 200, r.status, "body: %s", r.raw)
	r = recipientB.do("PUT", "/v1/cloudimages/members", map[string]any{"images": []string{SeedImageID}, "project_id": secondHome, "status": "accepted"})
	require.Equal(t, 200, r.status, "body: %s", r.raw)

	cross := func(c *client, name string) response {
		body := map[string]any{"name": name, "region": east.Name, "project_name": east.Name, "agency_name": "a"}
		return c.do("POST", "/v1/cloudimages/"+SeedImageID+"/cross_region_copy", body)
	}
	for i := range 5 {
		require.Equal(t, 200, cross(owner, fmt.Sprintf("a-%d", i)).status)
	}
	assert.Equal(t, "IMG.0149", cross(owner, "a-sixth").code(t))
	r = cross(recipientB, "b-copy")
	require.Equal(t, 200, r.status, "the first account's copies do not count against the second's: %s", r.raw)

	owners := map[string]string{}
	for _, img := range f.srv.Images() {
		if img.Region == east.Name {
			owners[img.Name] = img.Owner
		}
	}
	assert.Equal(t, east.ProjectID, owners["a-0"])
	assert.Equal(t, secondEast, owners["b-copy"], "the second account's copy is in its own project")
}

func TestAccountsConfig(t *testing.T) {
	ok := Account{AK: secondAK, SK: secondSK, Projects: map[string][]string{home.Name: {secondHome}}}
	cases := map[string]struct {
		accounts []Account
		want     string
	}{
		"no SK":               {[]Account{{AK: secondAK, Projects: ok.Projects}}, "needs both an AK and an SK"},
		"the first's AK":      {[]Account{{AK: DefaultAK, SK: secondSK, Projects: ok.Projects}}, "already another account's"},
		"an AK twice":         {[]Account{ok, ok}, "already another account's"},
		"no project":          {[]Account{{AK: secondAK, SK: secondSK}}, "no project"},
		"unknown region":      {[]Account{{AK: secondAK, SK: secondSK, Projects: map[string][]string{"xx-nowhere-1": {secondHome}}}}, "not in Regions"},
		"bad project ID":      {[]Account{{AK: secondAK, SK: secondSK, Projects: map[string][]string{home.Name: {"B0"}}}}, "32 lower-case hex"},
		"the first's project": {[]Account{{AK: secondAK, SK: secondSK, Projects: map[string][]string{home.Name: {home.ProjectID}}}}, "belongs to one account"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := New(Config{Accounts: tc.accounts})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), secondSK)
		})
	}
	_, err := New(Config{Accounts: []Account{ok}})
	require.NoError(t, err)
}
