package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/imscopy/imscopy/internal/testkit"
)

func TestExitCodeFollowsTheAnswer(t *testing.T) {
	var healthy atomic.Bool
	healthy.Store(true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if !healthy.Load() {
			http.Error(w, "not ready: the worker is not polling", http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()

	var out bytes.Buffer
	assert.Equal(t, 0, run([]string{srv.URL}, &out))
	healthy.Store(false)
	assert.Equal(t, 1, run([]string{srv.URL}, &out))
	assert.Contains(t, out.String(), "503")
	assert.Contains(t, out.String(), "not polling", "the answer's body says why")

	closed := "http://" + testkit.FreeAddr(t)
	assert.Equal(t, 1, run([]string{closed}, &out), "nobody listening")

	assert.Equal(t, 2, run(nil, &out))
	assert.Equal(t, 2, run([]string{"-timeout", "0s", srv.URL}, &out))
	assert.Equal(t, 0, run([]string{"-h"}, &out))
}
