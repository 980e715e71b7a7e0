package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/multitrack/multitrack/internal/plural"
	"github.com/multitrack/multitrack/plan"
)

// lintCommand checks event lines against a tracking plan.
type lintCommand struct {
	main *Main

	planPath string
}

func (c *lintCommand) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("lint", flag.ContinueOnError)
	fs.StringVar(&c.planPath, "plan", "", "the tracking plan, YAML or JSON (required)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: multitrack lint --plan FILE EVENTS...

Checks event lines (a file sink's output, a dead-letter file; - for stdin)
against a tracking plan. Prints one line per violation, as
"file:line: event: problem", never a property's value, then a summary on
stderr. Exits 1 on any violation or bad line, 2 when the plan itself has
problems (each is listed with its file, line and field).

Flags:
`)
		fs.PrintDefaults()
	}
	files, err := parseArgs(fs, args, c.main.Stdout, c.main.Stderr)
	switch {
	case err != nil:
		return err
	case c.planPath == "":
		return usageErrorf("lint: --plan is required")
	case len(files) == 0:
		return usageErrorf("lint: no event files given (- reads stdin)")
	}
	checker, err := plan.Load(c.planPath)
	if err != nil {
		return usageErrorf("lint: %v", err)
	}

	var total plan.LintResult
	var failures []error
	for _, name := range files {
		if ctx.Err() != nil {
			break
		}
		res, err := c.lintFile(checker, name)
		total.Add(res)
		if err != nil {
			failures = append(failures, err)
		}
	}
	fmt.Fprintf(c.main.Stderr, "%s in %d %s\n", total, len(files), plural.Of(len(files), "file", "files"))
	switch {
	case len(failures) > 0:
		return fmt.Errorf("lint: %w", errors.Join(failures...))
	case total.Failed():
		return errLintFailed
	}
	return ctx.Err()
}

// errLintFailed says lint found violations, already printed: exit status 1.
var errLintFailed = errors.New("lint: the events do not follow the plan")

func (c *lintCommand) lintFile(checker *plan.Checker, name string) (plan.LintResult, error) {
	if name == "-" {
		return checker.Lint(c.main.Stdout, c.main.stdin(), "stdin")
	}
	f, err := os.Open(name)
	if err != nil {
		return plan.LintResult{}, err
	}
	defer f.Close()
	return checker.Lint(c.main.Stdout, f, name)
}
