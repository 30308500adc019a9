package imsemu

import (
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"
)

// BenchmarkShowJobProgressSigned measures the emulator's job-status throughput with signature
// checking on, over loopback, with 1,000 jobs in flight as in the project's benchmarks:
//
//	go test -run '^$' -bench ShowJobProgressSigned -benchtime 5s ./imsapi/imsemu
func BenchmarkShowJobProgressSigned(b *testing.B) {
	srv, err := Start(Config{
		JobDuration: time.Hour, Seed: 1,
		Faults: Faults{ThrottlePerSecond: -1},
		Limits: Limits{PrivateImagesPerProject: -1, RunningJobsPerProject: -1},
	})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	c := &client{t: b, base: srv.Endpoints()[home.Name], project: home.ProjectID,
		ak: DefaultAK, sk: DefaultSK, now: time.Now}
	var jobIDs []string
	for i := range 1000 {
		jobIDs = append(jobIDs, c.startCopy(fmt.Sprintf("bench-%d", i)))
	}
	// Pre-signed requests: signing is the client's cost, not the emulator's.
	templates := make([]*http.Request, len(jobIDs))
	for i, id := range jobIDs {
		templates[i] = c.request("GET", "/v1/cloudimages/job/"+id, nil)
	}
	transport := &http.Transport{MaxIdleConnsPerHost: 256}
	defer transport.CloseIdleConnections()
	httpClient := &http.Client{Transport: transport}

	b.ReportAllocs()
	b.SetParallelism(8)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			tpl := templates[i%len(templates)]
			i++
			req, _ := http.NewRequest(tpl.Method, tpl.URL.String(), nil)
			req.Header = tpl.Header
			resp, err := httpClient.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("job status answered %d", resp.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
}
