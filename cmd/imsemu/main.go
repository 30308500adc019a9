// Command imsemu runs the IMS emulator (package imsapi/imsemu): one 127.0.0.1 listener per
// region, for demos, tests and benchmarks. It prints each region's endpoint and the credentials
// to use, then a line "READY", and stops cleanly (saving its state) on SIGINT or SIGTERM.
//
// The admin API under /_emulator/ has no authentication: run the emulator on loopback only.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/imscopy/imscopy/imsapi/imsemu"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "imsemu:", err)
		os.Exit(1)
	}
}

// run starts the emulator and serves until ctx ends.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	opts, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	srv, err := imsemu.Start(opts.config, opts.addrs...)
	if err != nil {
		return err
	}
	printBanner(stdout, srv, opts)
	<-ctx.Done()
	if err := srv.Close(); err != nil {
		return err
	}
	fmt.Fprintln(stderr, "imsemu: stopped")
	return nil
}

// printBanner tells the user where each region listens and which credentials to use, in lines
// a shell can source (KEY=value), then READY for scripts that wait for the emulator.
func printBanner(w io.Writer, srv *imsemu.Server, opts options) {
	endpoints := srv.Endpoints()
	keys := srv.KMSKeys()
	fmt.Fprintln(w, "# imsemu: IMS emulator for local use; the admin API under /_emulator/ has no authentication")
	var pairs, projects []string
	for _, r := range srv.Regions() {
		fmt.Fprintf(w, "# region %-14s project %s  endpoint %s  kms keys %s\n",
			r.Name, r.ProjectID, endpoints[r.Name], strings.Join(keys[r.Name], ","))
		pairs = append(pairs, r.Name+"="+endpoints[r.Name])
		if r.Name != srv.Regions()[0].Name {
			// The worker acts in a region only with its project ID; the home region's is above.
			projects = append(projects, r.Name+"="+r.ProjectID)
		}
	}
	for _, img := range srv.Images() {
		if img.ID == imsemu.SeedImageID && img.Status != "deleted" {
			fmt.Fprintf(w, "# source image %s (%s) in %s\n", img.ID, img.Name, img.Region)
		}
	}
	fmt.Fprintln(w, "HUAWEICLOUD_SDK_AK="+opts.config.AK)
	if opts.defaultSK {
		fmt.Fprintln(w, "HUAWEICLOUD_SDK_SK="+opts.config.SK)
	} else {
		fmt.Fprintln(w, "# HUAWEICLOUD_SDK_SK: the value given with -sk")
	}
	fmt.Fprintln(w, "HUAWEICLOUD_SDK_PROJECT_ID="+srv.Regions()[0].ProjectID)
	fmt.Fprintln(w, "IMS_ENDPOINTS="+strings.Join(pairs, ","))
	if len(projects) > 0 {
		fmt.Fprintln(w, "IMS_PROJECTS="+strings.Join(projects, ","))
	}
	// Further accounts as comments: a second set of KEY=value lines would override the first
	// account's in a shell that sources this. Their SKs are the user's, so never printed.
	for i, a := range opts.config.Accounts {
		var projects []string
		for _, r := range srv.Regions() {
			projects = append(projects, r.Name+"="+strings.Join(a.Projects[r.Name], ","))
		}
		fmt.Fprintf(w, "# -account %d: AK %s (SK: the value given with -account)  projects %s\n", i+1, a.AK, strings.Join(projects, " "))
	}
	fmt.Fprintln(w, "READY")
}
