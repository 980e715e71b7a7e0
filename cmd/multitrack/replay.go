package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"time"

	"github.com/multitrack/multitrack/eventline"
	"github.com/multitrack/multitrack/internal/plural"
	"github.com/multitrack/multitrack/tracker"
)

// replayCommand sends event lines (a dead-letter file, a file sink's
// output) through the configured sinks, keeping each event's UUID and
// timestamp so that the destination can drop duplicates.
type replayCommand struct {
	main *Main

	sink    string
	timeout time.Duration
	quiet   bool
}

// replayFlushEvery bounds how many events are captured before waiting for
// the sinks to take them, so that replay never overflows a queue.
const replayFlushEvery = 1024

func (c *replayCommand) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.StringVar(&c.sink, "sink", "", `replay only the events a dead-letter file names for this sink ("$multitrack_sink"), and those it names for none`)
	fs.DurationVar(&c.timeout, "timeout", 30*time.Second, "how long to wait, at the end, for delivery")
	fs.BoolVar(&c.quiet, "q", false, "no progress on stderr")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: multitrack replay [flags] FILE...

Reads event lines (one JSON object a line, as the file sink and the dead-letter
file write them) and sends them through the sinks the environment configures,
with their UUIDs and timestamps kept, so that PostHog drops any it already
has, and without sampling them again (MULTITRACK_SAMPLE is not applied). The "$multitrack_sink" property a dead-letter file adds is removed. A torn
last line is skipped with a warning; a bad line elsewhere is reported with its
file and line, and the rest is still replayed. Exits 1 when a line was bad or
an event was not delivered.

Flags:
`)
		fs.PrintDefaults()
	}
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fs.SetOutput(c.main.Stdout)
		fs.Usage()
		return errHelp
	case err != nil:
		fs.SetOutput(c.main.Stderr)
		fs.Usage()
		return usageErrorf("replay: %v", err)
	case fs.NArg() == 0:
		fs.SetOutput(c.main.Stderr)
		fs.Usage()
		return usageErrorf("replay: no files given")
	case c.timeout <= 0:
		return usageErrorf("replay: -timeout must be positive, got %v", c.timeout)
	}
	files := fs.Args()
	var total int64
	for _, name := range files {
		fi, err := os.Stat(name)
		if err != nil {
			return fmt.Errorf("replay: %w", err)
		}
		total += fi.Size()
	}

	// The events were sampled when they were first captured (a kept one
	// carries its $sample_rate): replaying them must not sample them again.
	tr, err := c.main.newTracker(tracker.WithSampler(nil))
	if err != nil {
		return err
	}
	p := &progress{w: c.main.Stderr, total: total, quiet: c.quiet}
	var problems []error
	replayed := 0
	for _, name := range files {
		n, errs := c.replayFile(ctx, tr, name, p)
		replayed += n
		problems = append(problems, errs...)
		if ctx.Err() != nil {
			break
		}
	}
	p.done()
	closeCtx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	if err := tr.Close(closeCtx); err != nil {
		problems = append(problems, err)
	}
	if err := notDelivered(tr.Stats()); err != nil && replayed > 0 {
		problems = append(problems, fmt.Errorf("not every event was delivered: %w", err))
	}
	fmt.Fprintf(c.main.Stderr, "replayed %d %s from %d %s\n", replayed, plural.Of(replayed, "event", "events"), len(files), plural.Of(len(files), "file", "files"))
	if len(problems) > 0 {
		return fmt.Errorf("replay: %w", errors.Join(problems...))
	}
	return ctx.Err()
}

// replayFile captures the events of one file; it returns how many, and the
// problems with its lines.
func (c *replayCommand) replayFile(ctx context.Context, tr *tracker.Tracker, name string, p *progress) (int, []error) {
	f, err := os.Open(name)
	if err != nil {
		return 0, []error{err}
	}
	defer f.Close()
	r := eventline.NewReader(f, name)
	var problems []error
	n := 0
	base := p.read
	for ctx.Err() == nil {
		e, err := r.Next()
		if err == io.EOF {
			break
		}
		var le *eventline.LineError
		if errors.As(err, &le) {
			problems = append(problems, err) // a bad line: go on with the next
			continue
		}
		if err != nil {
			problems = append(problems, err)
			break
		}
		if sink, ok := e.Properties[tracker.PropSink]; ok {
			if c.sink != "" && sink != c.sink {
				continue
			}
			e.Properties = maps.Clone(e.Properties)
			delete(e.Properties, tracker.PropSink)
		}
		tr.Capture(context.Background(), e)
		n++
		p.events++
		if n%replayFlushEvery == 0 {
			if err := tr.Flush(ctx); err != nil {
				problems = append(problems, err)
				break
			}
			p.update(base + r.BytesRead())
		}
	}
	p.update(base + r.BytesRead())
	p.read = base + r.BytesRead()
	if len(r.Warnings()) > 0 {
		p.done()
	}
	for _, w := range r.Warnings() {
		fmt.Fprintf(c.main.Stderr, "warning: %v\n", w)
	}
	return n, problems
}

// progress draws a one-line progress bar on stderr.
type progress struct {
	w      io.Writer
	total  int64 // bytes in all the files
	read   int64 // bytes of the files before the current one
	events int
	quiet  bool
	drawn  bool
}

func (p *progress) update(read int64) {
	if p.quiet || p.total == 0 {
		return
	}
	const width = 30
	done := int(read * width / p.total)
	bar := make([]byte, width)
	for i := range bar {
		bar[i] = ' '
		if i < done {
			bar[i] = '='
		}
	}
	fmt.Fprintf(p.w, "\r[%s] %3d%%  %d events", bar, read*100/p.total, p.events)
	p.drawn = true
}

// done ends the progress line.
func (p *progress) done() {
	if p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}
