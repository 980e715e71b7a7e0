package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/multitrack/multitrack/plan"
)

// genCommand writes typed Go constructors for a plan's events.
type genCommand struct {
	main *Main

	planPath, pkg, out string
}

func (c *genCommand) Run(_ context.Context, args []string) error {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	fs.StringVar(&c.planPath, "plan", "", "the tracking plan, YAML or JSON (required)")
	fs.StringVar(&c.pkg, "package", "", "the generated code's package name (required)")
	fs.StringVar(&c.out, "o", "", "write to this file instead of stdout")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: multitrack gen --plan FILE --package NAME [-o FILE]

Writes Go code with one type per planned event, whose Event method builds the
tracker.Event:

	tr.Capture(ctx, events.QueryFailed{SQLState: "42P01", ErrorCategory: events.ErrorCategoryUndefinedTable}.Event())

Required properties are fields, optional ones pointers; enums are typed
constants; so a misspelled property or a wrong type is a compile error. Exits
2 when the plan has problems.

Flags:
`)
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, c.main.Stdout, c.main.Stderr); err != nil {
		return err
	}
	if c.planPath == "" || c.pkg == "" {
		return usageErrorf("gen: --plan and --package are required")
	}
	checker, err := plan.Load(c.planPath)
	if err != nil {
		return usageErrorf("gen: %v", err)
	}
	src, err := plan.Generate(checker.Plan(), c.pkg)
	if err != nil {
		return usageErrorf("gen: %v", err)
	}
	if c.out == "" {
		_, err = c.main.Stdout.Write(src)
		return err
	}
	return writeFileAtomic(c.out, src)
}

// writeFileAtomic writes data to path through a temporary file in the same
// directory, so that a reader (a build) never sees half a file.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("gen: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename, nothing to remove
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("gen: %w", err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("gen: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("gen: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("gen: %w", err)
	}
	return nil
}
