// Command multitrack runs multitrack's tools: demo (a simulated service
// emitting events through the configured sinks), emit (one event), config
// (the configuration the environment gives), replay (event lines, such as
// a dead-letter file, into the configured sinks), lint (event lines checked
// against a tracking plan) and gen (typed Go constructors for a plan's
// events).
//
// Usage:
//
//	multitrack <command> [flags]
//
// Every command answers --help. Exit status: 0 on success, 1 on failure,
// 2 on a usage error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// The first signal asks the command to stop and deliver what it has; a
	// second one kills the process, as without the handler.
	context.AfterFunc(ctx, stop)
	err := NewMain(os.Stdout, os.Stderr).Run(ctx, os.Args[1:])
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// Main holds the CLI's output streams and environment, so that tests can
// call Run directly.
type Main struct {
	// Stdin is what lint reads for "-" (nothing when nil).
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Lookup reads the environment (os.LookupEnv by default).
	Lookup func(string) (string, bool)
}

// NewMain returns a Main writing to the given streams and reading the
// process environment.
func NewMain(stdout, stderr io.Writer) *Main {
	return &Main{Stdin: os.Stdin, Stdout: stdout, Stderr: stderr, Lookup: os.LookupEnv}
}

// command is one subcommand.
type command interface {
	Run(ctx context.Context, args []string) error
}

// Run runs the subcommand named by args[0].
func (m *Main) Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		m.usage(m.Stderr)
		return usageErrorf("no command given")
	}
	var cmd command
	switch args[0] {
	case "demo":
		cmd = &demoCommand{main: m}
	case "emit":
		cmd = &emitCommand{main: m}
	case "config":
		cmd = &configCommand{main: m}
	case "replay":
		cmd = &replayCommand{main: m}
	case "lint":
		cmd = &lintCommand{main: m}
	case "gen":
		cmd = &genCommand{main: m}
	case "help", "-h", "-help", "--help":
		m.usage(m.Stdout)
		return nil
	default:
		m.usage(m.Stderr)
		return usageErrorf("unknown command %q", args[0])
	}
	return cmd.Run(ctx, args[1:])
}

func (m *Main) usage(w io.Writer) {
	fmt.Fprint(w, `multitrack: product-analytics events for Go services.

Usage:
	multitrack <command> [flags]

Commands:
	demo    a simulated service emitting events through the configured sinks
	emit    one event through the configured sinks; exit 1 if not delivered
	config  the configuration the environment gives, secrets redacted
	replay  event lines (a dead-letter file, say) into the configured sinks
	lint    event lines checked against a tracking plan
	gen     typed Go constructors for a tracking plan's events

Run "multitrack <command> --help" for a command's flags. With no
configuration (MULTITRACK_SINKS, POSTHOG_API_KEY) events go to stdout.
`)
}

// usageError is a mistake in the command line: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// parseFlags parses args with fs. --help prints the usage on stdout and
// returns errHelp; a mistake prints the usage on stderr and returns a usage
// error (printed once, by main).
func parseFlags(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) error {
	fs.SetOutput(io.Discard) // the flag package would print the error and usage itself
	err := fs.Parse(args)
	if err == nil && fs.NArg() > 0 {
		err = fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, flag.ErrHelp):
		fs.SetOutput(stdout)
		fs.Usage()
		return errHelp
	default:
		fs.SetOutput(stderr)
		fs.Usage()
		return usageErrorf("%s: %v", fs.Name(), err)
	}
}

// errHelp says --help was answered: exit status 0.
var errHelp = errors.New("help requested")

func exitCode(err error, stderr io.Writer) int {
	var ue *usageError
	switch {
	case err == nil, errors.Is(err, errHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintln(stderr, "multitrack:", err)
		return 2
	default:
		fmt.Fprintln(stderr, "multitrack:", err)
		return 1
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
