// Command starter is the CLI for imscopy's copies: it starts a copy workflow, shows its progress,
// waits for its result, and cancels it.
//
//	starter copy --image ID --name NAME [--description D] [--cmk-id K] [--enterprise-project-id E]
//	             [--region R] [--keep-failed] [--id WORKFLOW_ID] [--wait] [--json]
//	starter status [--json] WORKFLOW_ID
//	starter result [--json] WORKFLOW_ID
//	starter cancel WORKFLOW_ID
//
// Results go to stdout, progress and messages to stderr. Exit codes: 0 success, 1 the copy or the
// call failed, 2 the command line or the request is wrong (nothing was started), 130 interrupted
// while waiting (the copy goes on). status exits by how the workflow stands: 0 running or
// succeeded, 3 failed, 4 cancelled, 5 terminated or timed out (docs/copy.md).
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"

	"github.com/imscopy/imscopy/internal/config"
)

const (
	exitOK          = 0
	exitFailed      = 1
	exitUsage       = 2
	exitInterrupted = 130
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, term.IsTerminal(int(os.Stderr.Fd())), stderrWidth)
	stop()
	os.Exit(code)
}

// stderrWidth is the terminal's width, read on every redraw so a resized window still works.
func stderrWidth() int {
	w, _, err := term.GetSize(int(os.Stderr.Fd()))
	if err != nil {
		return 80
	}
	return w
}

func usage(out io.Writer) {
	fmt.Fprint(out, `usage:
  starter copy --image ID --name NAME [--description D] [--cmk-id K] [--enterprise-project-id E]
               [--region R] [--keep-failed] [--id WORKFLOW_ID] [--wait] [--json]
  starter promote --plan FILE [--keep-failed] [--id WORKFLOW_ID] [--wait] [--json]
  starter status [--json] WORKFLOW_ID   one progress snapshot
  starter result [--json] WORKFLOW_ID   wait for the end and print the result
  starter cancel WORKFLOW_ID            cancel a copy (its image is deleted)

'starter copy -h' and 'starter promote -h' list the flags. Environment:
`)
	_ = config.StarterUsage(out)
}

// run is the whole command; terminal says whether stderr, where progress goes, is a terminal.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, terminal bool, width func() int) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	cmd, args := args[0], args[1:]
	if cmd == "help" || cmd == "-h" || cmd == "--help" || cmd == "-help" {
		usage(stdout)
		return exitOK
	}

	cfg, err := config.LoadStarter()
	if err != nil {
		fmt.Fprintf(stderr, "starter: the environment is not right:\n%v\n", err)
		return exitUsage
	}

	// What the flag package writes (a refusal, the usage) is held until it is known whether help
	// was asked for: requested help goes to stdout, like `starter --help`, and exits 0.
	var flagOut bytes.Buffer
	switch cmd {
	case "copy":
		r, err := parseCopy(args, cfg, &flagOut)
		if err != nil {
			return reportUsage(stdout, stderr, &flagOut, err)
		}
		r.terminal = terminal
		return runCopy(ctx, cfg, r, stdout, stderr, width)
	case "promote":
		r, err := parsePromote(args, &flagOut)
		if err != nil {
			return reportUsage(stdout, stderr, &flagOut, err)
		}
		return runPromote(ctx, cfg, r, stdout, stderr)
	case "status", "result", "cancel":
		id, asJSON, err := idCommand(cmd, args, &flagOut, cmd != "cancel")
		if err != nil {
			return reportUsage(stdout, stderr, &flagOut, err)
		}
		switch cmd {
		case "status":
			return runStatus(ctx, cfg, id, asJSON, stdout, stderr)
		case "result":
			return runResult(ctx, cfg, id, asJSON, stdout, stderr)
		}
		return runCancel(ctx, cfg, id, stdout, stderr)
	}
	fmt.Fprintf(stderr, "starter: unknown command %q\n", cmd)
	usage(stderr)
	return exitUsage
}

// reportUsage prints a refused command line, with what the flag package wrote (flagOut). -h is a
// request for help, not a mistake: its usage goes to stdout and the exit is 0.
func reportUsage(stdout, stderr io.Writer, flagOut *bytes.Buffer, err error) int {
	if errors.Is(err, flag.ErrHelp) {
		_, _ = flagOut.WriteTo(stdout)
		return exitOK
	}
	_, _ = flagOut.WriteTo(stderr)
	if !errors.Is(err, errReported) {
		fmt.Fprintln(stderr, "starter:", err)
	}
	return exitUsage
}
