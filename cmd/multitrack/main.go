// Command multitrack runs multitrack's tools: demo (a simulated service
// emitting events through the configured sinks), emit (one event), config
// (the configuration the environment gives), replay (event lines, such as
// a dead-letter file, into the configured sinks), relay (the JetStream
// stream the nats sink publishes to, into the configured sinks), serve (a
// PostHog-compatible capture endpoint into the configured sinks), lint
// (event lines checked against a tracking plan), gen (typed Go constructors
// for a plan's events) and version.
//
// Usage:
//
//	multitrack <command> [flags]
//
// Every command answers --help, as "multitrack help <command>" does. Exit
// status: 0 on success, 1 on failure, 2 on a usage error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
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
	Stdout, Stderr io.Writer
	// Stdin is what "multitrack replay -" and "multitrack lint -" read
	// (os.Stdin when nil).
	Stdin io.Reader
	// Lookup reads the environment (os.LookupEnv by default).
	Lookup func(string) (string, bool)
	// Environ lists the environment, as os.Environ, to find misspelt
	// variables; nil checks only the settings sinks declare.
	Environ func() []string

	readBuildInfo func() (*debug.BuildInfo, bool) // debug.ReadBuildInfo; replaced in tests
}

// NewMain returns a Main writing to the given streams and reading the
// process environment.
func NewMain(stdout, stderr io.Writer) *Main {
	return &Main{Stdout: stdout, Stderr: stderr, Lookup: os.LookupEnv, Environ: os.Environ}
}

// command is one subcommand.
type command interface {
	Run(ctx context.Context, args []string) error
}

// commands are the subcommands, in the order usage lists them: each one's
// name, its one-line summary and how to make it.
var commands = []struct {
	name, summary string
	new           func(*Main) command
}{
	{"demo", "a simulated service emitting events through the configured sinks", func(m *Main) command { return &demoCommand{main: m} }},
	{"emit", "one event through the configured sinks; exit 1 if not delivered", func(m *Main) command { return &emitCommand{main: m} }},
	{"config", "the configuration the environment gives, secrets redacted", func(m *Main) command { return &configCommand{main: m} }},
	{"replay", "event lines (a dead-letter file, say) into the configured sinks", func(m *Main) command { return &replayCommand{main: m} }},
	{"relay", "the JetStream stream into the configured sinks (--embed: with its own server)", func(m *Main) command { return &relayCommand{main: m} }},
	{"serve", "a PostHog-compatible capture endpoint into the configured sinks", func(m *Main) command { return &serveCommand{main: m} }},
	{"lint", "event lines checked against a tracking plan", func(m *Main) command { return &lintCommand{main: m} }},
	{"gen", "typed Go constructors for a tracking plan's events", func(m *Main) command { return &genCommand{main: m} }},
	{"version", "the version of multitrack this program was built from", func(m *Main) command { return &versionCommand{main: m} }},
}

// Run runs the subcommand named by args[0].
func (m *Main) Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		m.usage(m.Stderr)
		return usageErrorf("no command given")
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 && args[0] == "help" && !strings.HasPrefix(args[1], "-") {
			return m.Run(ctx, []string{args[1], "--help"}) // help CMD is CMD --help
		}
		m.usage(m.Stdout)
		return nil
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.new(m).Run(ctx, args[1:])
		}
	}
	m.usage(m.Stderr)
	return usageErrorf("unknown command %q", args[0])
}

func (m *Main) usage(w io.Writer) {
	width := 0
	for _, c := range commands {
		width = max(width, len(c.name))
	}
	var b strings.Builder
	b.WriteString(`multitrack: product-analytics events for Go services.

Usage:
	multitrack <command> [flags]

Commands:
`)
	for _, c := range commands {
		fmt.Fprintf(&b, "\t%-*s %s\n", width, c.name, c.summary)
	}
	b.WriteString(`
Run "multitrack help <command>" for a command's flags. With no
configuration (MULTITRACK_SINKS, POSTHOG_API_KEY) events go to stdout.
`)
	io.WriteString(w, b.String())
}

// usageError is a mistake in the command line: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// parseFlags parses args with fs, which must hold flags only. --help prints
// the usage on stdout and returns errHelp; a mistake prints the usage on
// stderr and returns a usage error (printed once, by main).
func parseFlags(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) error {
	rest, err := parseArgs(fs, args, stdout, stderr)
	if err == nil && len(rest) > 0 {
		err = usageFailed(fs, stderr, fmt.Errorf("unexpected argument %q", rest[0]))
	}
	return err
}

// parseArgs is parseFlags for commands that take arguments: flags may come
// before or after them ("replay FILE -q"); "--" ends the flags, and "-" is an
// argument. It returns the arguments.
func parseArgs(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) ([]string, error) {
	fs.SetOutput(io.Discard) // the flag package would print the error and usage itself
	var rest []string
	for {
		err := fs.Parse(args)
		switch {
		case errors.Is(err, flag.ErrHelp):
			fs.SetOutput(stdout)
			fs.Usage()
			return nil, errHelp
		case err != nil:
			return nil, usageFailed(fs, stderr, err)
		}
		left := fs.Args()
		if len(left) == 0 {
			return rest, nil
		}
		if used := len(args) - len(left); used > 0 && args[used-1] == "--" {
			return append(rest, left...), nil
		}
		rest, args = append(rest, left[0]), left[1:]
	}
}

// usageFailed prints fs's usage on stderr and returns err as a usage error.
func usageFailed(fs *flag.FlagSet, stderr io.Writer, err error) error {
	fs.SetOutput(stderr)
	fs.Usage()
	return usageErrorf("%s: %v", fs.Name(), err)
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
