package imsemu

import (
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestListImagesFilters(t *testing.T) {
	f := newFixture(t)
	c := f.client(home)
	c.startCopy("alpha")
	c.startCopy("alpha")
	c.startCopy("alpha beta")
	names := func(query url.Values) []string {
		r := c.do("GET", "/v2/cloudimages?"+query.Encode(), nil)
		require.Equal(t, 200, r.status, "body: %s", r.raw)
		var out []string
		for _, img := range r.json(t)["images"].([]any) {
			out = append(out, img.(map[string]any)["name"].(string))
		}
		return out
	}
	assert.Equal(t, []string{"alpha", "alpha"}, names(url.Values{"name": {"alpha"}}), "name is an exact match")
	assert.Len(t, names(url.Values{"owner": {home.ProjectID}, "__imagetype": {"private"}}), 4)
	assert.Equal(t, []string{SeedImageName}, names(url.Values{"status": {"active"}}))
	assert.Len(t, names(url.Values{"status": {"queued"}}), 3)
	assert.Equal(t, []string{SeedImageName}, names(url.Values{"id": {SeedImageID}}))
	assert.Empty(t, names(url.Values{"owner": {east.ProjectID}}))
	assert.Empty(t, names(url.Values{"__imagetype": {"gold"}}))
	assert.Empty(t, f.client(east).do("GET", "/v2/cloudimages", nil).json(t)["images"], "images belong to their region")
}

func TestListImagesPaging(t *testing.T) {
	f := newFixture(t)
	c := f.client(home)
	for i := range 5 {
		c.startCopy(fmt.Sprintf("page-%d", i))
		f.clock.Advance(time.Second) // distinct creation times
	}
	var seen []string
	marker := ""
	for range 10 {
		q := url.Values{"limit": {"2"}, "sort_key": {"name"}, "sort_dir": {"asc"}}
		if marker != "" {
			q.Set("marker", marker)
		}
		page := c.do("GET", "/v2/cloudimages?"+q.Encode(), nil).json(t)["images"].([]any)
		if len(page) == 0 {
			break
		}
		for _, img := range page {
			seen = append(seen, img.(map[string]any)["name"].(string))
			marker = img.(map[string]any)["id"].(string)
		}
	}
	assert.Equal(t, []string{SeedImageName, "page-0", "page-1", "page-2", "page-3", "page-4"}, seen)

	newest := c.do("GET", "/v2/cloudimages?limit=1", nil).json(t)["images"].([]any)
	assert.Equal(t, "page-4", newest[0].(map[string]any)["name"], "newest first by default")

	for _, bad := range []string{"limit=0", "limit=x", "sort_key=owner", "sort_dir=up", "marker=00000000-0000-4000-8000-000000000000"} {
		r := c.do("GET", "/v2/cloudimages?"+bad, nil)
		assert.Equal(t, 400, r.status, bad)
		assert.Equal(t, "IMG.0001", r.code(t), bad)
	}
}
