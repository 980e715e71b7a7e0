package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/multitrack/multitrack/registry"
)

// configCommand prints the configuration the environment gives, secrets
// redacted, and every problem in it.
type configCommand struct{ main *Main }

func (c *configCommand) Run(_ context.Context, args []string) error {
	fs := flag.NewFlagSet("config", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: multitrack config

Prints the configuration that the environment variables give (sinks, sampling,
queues, dead letter, …), with secrets redacted, and every problem in it. Exits
1 when there is a problem. Building the configuration opens its sinks, as a
real run would (a file sink creates its file), and closes them again.
`)
	}
	if err := parseFlags(fs, args, c.main.Stdout, c.main.Stderr); err != nil {
		return err
	}
	text, err := c.main.env().Describe()
	fmt.Fprint(c.main.Stdout, text)
	if err != nil {
		return fmt.Errorf("config: the configuration has problems (listed above)")
	}
	return nil
}

// env is the environment the CLI's commands build their tracker from: with
// no sinks configured, events go to stdout. Warnings (a misspelt variable)
// go to stderr, whatever MULTITRACK_LOG_LEVEL says.
func (m *Main) env() registry.Env {
	return registry.Env{
		Lookup: m.Lookup, Environ: m.Environ, Stdout: m.Stdout, Stderr: m.Stderr, DefaultSinks: "stdout",
		OnWarning: func(err error) { fmt.Fprintln(m.Stderr, "multitrack: warning:", err) },
	}
}
