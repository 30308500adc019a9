// Command healthcheck is the container image's health probe: the image has no shell, curl or
// wget, so Compose and Kubernetes health checks run this instead. It GETs one URL and exits 0 when
// the answer is 2xx, 1 when it is anything else or none comes, and 2 on a wrong command line.
//
//	healthcheck [-timeout 3s] http://127.0.0.1:9090/healthz
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	flags := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	flags.SetOutput(stderr)
	timeout := flags.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	flags.Usage = func() {
		fmt.Fprintln(stderr, "usage: healthcheck [-timeout 3s] URL\n\nExits 0 when GET URL answers 2xx, 1 otherwise.")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if flags.NArg() != 1 || *timeout <= 0 {
		flags.Usage()
		return 2
	}
	if err := probe(flags.Arg(0), *timeout); err != nil {
		fmt.Fprintln(stderr, "healthcheck:", err)
		return 1
	}
	return 0
}

func probe(url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("%s answered %s: %s", url, resp.Status, body)
	}
	return nil
}
