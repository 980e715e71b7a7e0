package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
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

	sink       string
	timeout    time.Duration
	quiet      bool
	historical bool
}

// replayChunk is how many events replay captures before it asks the sinks
// to send what they hold. It reads the next chunk while they send one, and
// waits for them before starting another, so that a sink's queue holds at
// most two chunks: replay never overflows it.
const replayChunk = 1024

// Variables replay reads itself.
const (
	varDeadLetter = "MULTITRACK_DEAD_LETTER_PATH"
	varHistorical = "MULTITRACK_POSTHOG_HISTORICAL"
)

func (c *replayCommand) flags() *flag.FlagSet {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.StringVar(&c.sink, "sink", "", `replay only the events a dead-letter file names for this sink ("$multitrack_sink"), and those it names for none`)
	fs.DurationVar(&c.timeout, "timeout", 30*time.Second, "how long to wait, at the end, for delivery")
	fs.BoolVar(&c.quiet, "q", false, "no progress bar")
	fs.BoolVar(&c.historical, "historical", false, "send to PostHog as a backfill (historical_migration; as MULTITRACK_POSTHOG_HISTORICAL=true)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: multitrack replay [flags] FILE... (- reads standard input)

Reads event lines (one JSON object a line, as the file sink and the dead-letter
file write them) and sends them through the sinks the environment configures,
with their UUIDs and timestamps kept, so that PostHog drops any it already
has (best-effort), and without sampling them again (MULTITRACK_SAMPLE is not
applied). The "$multitrack_sink" property a dead-letter file adds is removed.
A torn last line is skipped with a warning; a bad line elsewhere is reported
with its file and line, and the rest is still replayed.

It refuses to read the dead-letter file itself (MULTITRACK_DEAD_LETTER_PATH):
what fails again would be appended to the file being read; move it aside
first. Ctrl-C stops reading, and delivers (or dead-letters) what was read;
a second Ctrl-C quits at once. Exits 1 when a line was bad, an event was not
delivered, or it was interrupted.

Flags (before or after the files):
`)
		fs.PrintDefaults()
	}
	return fs
}

func (c *replayCommand) Run(ctx context.Context, args []string) error {
	fs := c.flags()
	files, err := parseArgs(fs, args, c.main.Stdout, c.main.Stderr)
	switch {
	case err != nil:
		return err
	case len(files) == 0:
		return usageFailed(fs, c.main.Stderr, errors.New("no files given (- reads standard input)"))
	case c.timeout <= 0:
		return usageErrorf("replay: -timeout must be positive, got %v", c.timeout)
	}
	inputs, err := c.open(files)
	if err != nil {
		return err
	}
	defer func() {
		for _, in := range inputs {
			in.close()
		}
	}()
	tr, err := c.tracker()
	if err != nil {
		return err
	}

	r := &replayer{cmd: c, tr: tr, flush: &flusher{ctx: ctx, tr: tr}}
	var total int64
	for _, in := range inputs {
		total += in.size
	}
	r.bar = newProgress(c.main.Stderr, total, c.quiet)
	for _, in := range inputs {
		if !r.replay(ctx, in) {
			break
		}
	}
	if err := r.flush.wait(); err != nil && ctx.Err() == nil {
		r.problems = append(r.problems, err)
	}
	r.bar.done()
	if r.stoppedAt != "" {
		fmt.Fprintf(c.main.Stderr, "interrupted: stopped reading after %s; delivering the %d %s read (Ctrl-C again quits at once)\n",
			r.stoppedAt, r.n, plural.Of(r.n, "event", "events"))
	}
	closeCtx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	if err := tr.Close(closeCtx); err != nil {
		r.problems = append(r.problems, err)
	}
	st := tr.Stats()
	if err := notDelivered(st); err != nil && r.n > 0 {
		r.problems = append(r.problems, fmt.Errorf("not every event was delivered: %w", err))
	}
	fmt.Fprintf(c.main.Stderr, "replayed %d %s from %d %s%s\n", r.n, plural.Of(r.n, "event", "events"),
		len(inputs), plural.Of(len(inputs), "file", "files"), outcome(st))
	if r.stoppedAt != "" {
		r.problems = append(r.problems, fmt.Errorf("interrupted: nothing after %s was read", r.stoppedAt))
	}
	if len(r.problems) > 0 {
		return fmt.Errorf("replay: %w", errors.Join(r.problems...))
	}
	return nil
}

// lookup reads the environment as the CLI's commands do.
func (m *Main) lookup() func(string) (string, bool) {
	if m.Lookup != nil {
		return m.Lookup
	}
	return os.LookupEnv
}

// stdin is what the CLI's commands read for "-": Stdin, or os.Stdin.
func (m *Main) stdin() io.Reader {
	if m.Stdin != nil {
		return m.Stdin
	}
	return os.Stdin
}

// tracker builds the tracker the events go through: the environment's
// sinks, with --historical, and no sampling (the events were sampled when
// first captured, a kept one carries its $sample_rate).
func (c *replayCommand) tracker() (*tracker.Tracker, error) {
	m := *c.main
	if c.historical {
		lookup := c.main.lookup()
		m.Lookup = func(k string) (string, bool) {
			if k == varHistorical {
				return "true", true
			}
			return lookup(k)
		}
	}
	return m.newTracker(tracker.WithSampler(nil))
}

// outcome sums up, for the last line, what each sink did with the events.
func outcome(st tracker.Stats) string {
	var b strings.Builder
	for _, name := range slices.Sorted(maps.Keys(st.Sinks)) {
		ss := st.Sinks[name]
		lost := ss.Failed + ss.Undelivered + ss.Dropped.Total()
		fmt.Fprintf(&b, "; %s: %d delivered", name, ss.Delivered-ss.Undelivered)
		if lost > 0 {
			fmt.Fprintf(&b, ", %d not delivered (%d written to the dead letter)", lost, ss.DeadLettered)
		}
	}
	return b.String()
}

// input is one file to replay, or standard input ("-").
type input struct {
	name string // for messages
	r    io.Reader
	size int64 // 0 when unknown
	info os.FileInfo
	file *os.File // closed at the end; nil for standard input
}

func (in *input) close() {
	if in.file != nil {
		in.file.Close()
	}
}

// open opens every file, and refuses (a usage error) to read the dead-letter
// file: what fails again would be appended to the file being read.
func (c *replayCommand) open(names []string) ([]*input, error) {
	var inputs []*input
	fail := func(err error) ([]*input, error) {
		for _, in := range inputs {
			in.close()
		}
		return nil, err
	}
	for _, name := range names {
		in := &input{name: name}
		if name == "-" {
			in.name, in.r = "stdin", c.main.stdin()
			if f, ok := in.r.(*os.File); ok {
				in.info, _ = f.Stat()
			}
		} else {
			f, err := os.Open(name)
			if err != nil {
				return fail(fmt.Errorf("replay: %w", err))
			}
			in.r, in.file = f, f
			if in.info, err = f.Stat(); err != nil {
				f.Close()
				return fail(fmt.Errorf("replay: %w", err))
			}
		}
		if in.info != nil && in.info.Mode().IsRegular() {
			in.size = in.info.Size()
		}
		inputs = append(inputs, in)
	}
	dl, _ := c.main.lookup()(varDeadLetter)
	if dl = strings.TrimSpace(dl); dl == "" {
		return inputs, nil
	}
	dlInfo, err := os.Stat(dl)
	if err != nil {
		return inputs, nil // not there yet: it is none of the inputs
	}
	for _, in := range inputs {
		if in.info != nil && os.SameFile(in.info, dlInfo) {
			return fail(usageErrorf("replay: %s is the dead-letter file (%s): what fails again would be appended to the file being read; move it aside first (mv %s %s.replay) and replay that",
				in.name, varDeadLetter, dl, dl))
		}
	}
	return inputs, nil
}

// replayer captures the events of the inputs into the tracker.
type replayer struct {
	cmd       *replayCommand
	tr        *tracker.Tracker
	flush     *flusher
	bar       *progress
	n         int    // events captured
	read      int64  // bytes of the inputs done
	stoppedAt string // where Ctrl-C stopped the reading
	problems  []error
}

// replay captures the events of one input; it returns false when replay
// must stop (interrupted, or the input could not be read).
func (r *replayer) replay(ctx context.Context, in *input) bool {
	// Ctrl-C closes the input, so that a read waiting on a pipe returns.
	stop := context.AfterFunc(ctx, func() {
		if c, ok := in.r.(io.Closer); ok {
			c.Close()
		}
	})
	defer stop()
	rd := eventline.NewReader(in.r, in.name)
	defer func() { r.read += rd.BytesRead() }()
	last := 0 // the last line read
	for {
		if ctx.Err() != nil {
			r.stoppedAt = fmt.Sprintf("%s line %d", in.name, last)
			return false
		}
		e, err := rd.Next()
		if err == io.EOF {
			break
		}
		var le *eventline.LineError
		switch {
		case err != nil && ctx.Err() != nil:
			continue // the input closed by Ctrl-C
		case errors.As(err, &le) && rd.Err() == nil:
			last = rd.Line()
			r.problems = append(r.problems, err) // a bad line: go on with the next
			continue
		case err != nil:
			r.problems = append(r.problems, err)
			return false
		}
		last = rd.Line()
		if sink, ok := e.Properties[tracker.PropSink]; ok {
			if r.cmd.sink != "" && sink != r.cmd.sink {
				continue
			}
			e.Properties = maps.Clone(e.Properties)
			delete(e.Properties, tracker.PropSink)
		}
		r.tr.Capture(context.Background(), e)
		r.n++
		if r.n%replayChunk == 0 {
			if err := r.flush.next(); err != nil && ctx.Err() == nil {
				r.problems = append(r.problems, err)
			}
			r.bar.update(r.read+rd.BytesRead(), r.n)
		}
	}
	r.bar.update(r.read+rd.BytesRead(), r.n)
	if len(rd.Warnings()) > 0 {
		r.bar.done()
	}
	for _, w := range rd.Warnings() {
		fmt.Fprintf(r.cmd.main.Stderr, "warning: %v\n", w)
	}
	return true
}

// flusher runs the tracker's Flush in the background, one at a time: the
// sinks send one chunk while replay reads the next.
type flusher struct {
	ctx  context.Context
	tr   *tracker.Tracker
	done chan error // the Flush under way, if any
}

// next waits for the Flush under way, returning its error, and starts one.
func (f *flusher) next() error {
	err := f.wait()
	f.done = make(chan error, 1)
	go func(done chan<- error) { done <- f.tr.Flush(f.ctx) }(f.done)
	return err
}

// wait waits for the Flush under way, if any, and returns its error.
func (f *flusher) wait() error {
	if f.done == nil {
		return nil
	}
	err := <-f.done
	f.done = nil
	return err
}
