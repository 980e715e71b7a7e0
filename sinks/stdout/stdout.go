package stdout

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/multitrack/multitrack/eventline"
	"github.com/multitrack/multitrack/internal/terminal"
	"github.com/multitrack/multitrack/tracker"
)

// Format is how the sink writes events.
type Format int

const (
	// FormatAuto is FormatPretty when the writer is a terminal, else
	// FormatJSON. It is the default.
	FormatAuto Format = iota
	// FormatJSON writes event lines (eventline.Append), one JSON object a line: what
	// the file sink writes and replay reads.
	FormatJSON
	// FormatPretty writes one short coloured line per event for humans, with
	// zerolog's ConsoleWriter.
	FormatPretty
)

// String returns the format's name as ParseFormat accepts it.
func (f Format) String() string {
	switch f {
	case FormatAuto:
		return "auto"
	case FormatJSON:
		return "json"
	case FormatPretty:
		return "pretty"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// ParseFormat parses "auto" (or ""), "json" or "pretty", ignoring case, as in
// MULTITRACK_STDOUT_FORMAT.
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "auto":
		return FormatAuto, nil
	case "json":
		return FormatJSON, nil
	case "pretty":
		return FormatPretty, nil
	}
	return FormatAuto, fmt.Errorf("stdout format %q: want auto, json or pretty", s)
}

// DefaultTimeFormat is the layout of the time in pretty lines.
const DefaultTimeFormat = "15:04:05.000"

// maxPending bounds the bytes a Write encodes before it writes them out.
const maxPending = 64 << 10

type config struct {
	w        io.Writer
	format   Format
	color    *bool
	location *time.Location
}

// Option configures a Sink.
type Option func(*config)

// WithWriter sets where events go (default os.Stdout). The sink never closes
// it.
func WithWriter(w io.Writer) Option { return func(c *config) { c.w = w } }

// WithFormat sets the format (default FormatAuto).
func WithFormat(f Format) Option { return func(c *config) { c.format = f } }

// WithColor turns colours in pretty lines on or off. By default they are on
// when the writer is a terminal, the NO_COLOR environment variable is empty
// and TERM is not "dumb".
func WithColor(on bool) Option { return func(c *config) { c.color = &on } }

// WithLocation sets the time zone of the times in pretty lines (default
// time.Local). JSON lines are always in UTC.
func WithLocation(loc *time.Location) Option { return func(c *config) { c.location = loc } }

// Sink writes events to an io.Writer, by default the process's standard
// output. Each Write call writes its batch with as few writes as it can
// (one per 64 KiB); the sink buffers nothing between calls. Like every Sink
// it expects one Write at a time (the tracker's worker makes them); it
// reuses its encoding buffer from one to the next.
type Sink struct {
	w           io.Writer
	format      Format
	pretty      *prettyPrinter
	buf         []byte
	undelivered tracker.UndeliveredFunc
}

// New returns a Sink. The format FormatAuto is resolved here: pretty when
// the writer is a terminal, else JSON.
func New(opts ...Option) (*Sink, error) {
	c := config{w: os.Stdout, location: time.Local}
	for _, o := range opts {
		o(&c)
	}
	if c.w == nil {
		return nil, errors.New("stdout sink: WithWriter(nil): a writer is required")
	}
	if c.location == nil {
		return nil, errors.New("stdout sink: WithLocation(nil): a location is required")
	}
	onTerminal := terminal.Is(c.w)
	s := &Sink{w: c.w, format: c.format}
	switch c.format {
	case FormatAuto:
		s.format = FormatJSON
		if onTerminal {
			s.format = FormatPretty
		}
	case FormatJSON, FormatPretty:
	default:
		return nil, fmt.Errorf("stdout sink: unknown %v: want FormatAuto, FormatJSON or FormatPretty", c.format)
	}
	if s.format == FormatPretty {
		color := onTerminal && terminal.ColorAllowed(nil)
		if c.color != nil {
			color = *c.color
		}
		s.pretty = newPrettyPrinter(c.w, color, c.location)
	}
	return s, nil
}

// Format returns the format in use: FormatJSON or FormatPretty, never
// FormatAuto.
func (s *Sink) Format() Format { return s.format }

// SetUndelivered implements tracker.UndeliveredReporter: an event that
// cannot be encoded is reported to f, and the rest of its batch written. It
// must be called before the first Write, as the tracker does.
func (s *Sink) SetUndelivered(f tracker.UndeliveredFunc) { s.undelivered = f }

// Write writes the events, one line each. An event that cannot be encoded is
// skipped: it is reported to the tracker's UndeliveredFunc when there is one
// (SetUndelivered), else named in the returned error; the others are
// written.
//
// A write error from the writer stops the batch, and each event is
// accounted for once: when the writer took none of the batch, Write returns
// the error (naming the sink) for all of it; when it took the first lines,
// the events it did not take whole are reported to the UndeliveredFunc and
// Write returns nil, or, without one, Write returns an error that counts
// them.
func (s *Sink) Write(ctx context.Context, events []tracker.Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var bad []badEvent
	written := 0 // events whose lines the writer has taken whole
	from := 0    // the first event whose line is not yet with the writer
	taken := 0   // lines the failed write took whole, from there on
	var werr error
	s.buf = s.buf[:0]
	for i := range events {
		line, err := eventline.Append(s.buf, &events[i])
		if err != nil {
			bad = append(bad, badEvent{i, fmt.Errorf("stdout sink: event %q not written: %w", events[i].Name, err)})
			continue
		}
		if s.pretty != nil {
			s.buf = line[:0]
			if err := s.pretty.print(line, &events[i]); err != nil {
				werr = fmt.Errorf("stdout sink: %w", err)
				break
			}
			written++
			from = i + 1
			continue
		}
		s.buf = line
		if len(s.buf) >= maxPending {
			n, err := s.flush()
			written += n
			if err != nil {
				werr, taken = err, n
				break
			}
			from = i + 1
		}
	}
	if werr == nil && len(s.buf) > 0 {
		n, err := s.flush()
		written += n
		werr, taken = err, n
	}
	if werr != nil && written == 0 {
		// Nothing of the batch was written: the error stands for all of it.
		return errors.Join(append(badErrors(bad), werr)...)
	}
	var errs []error
	for _, b := range bad {
		if s.undelivered != nil {
			s.undelivered(events[b.i:b.i+1], b.err)
		} else {
			errs = append(errs, b.err)
		}
	}
	if werr != nil {
		lost := notWritten(events, from, taken, bad)
		if s.undelivered != nil {
			s.undelivered(lost, werr)
		} else {
			errs = append(errs, fmt.Errorf("%d of %d events not written: %w", len(lost), len(events), werr))
		}
	}
	return errors.Join(errs...)
}

// badEvent is an event of a batch that could not be encoded, and why.
type badEvent struct {
	i   int
	err error
}

func badErrors(bad []badEvent) []error {
	errs := make([]error, 0, len(bad)+1)
	for _, b := range bad {
		errs = append(errs, b.err)
	}
	return errs
}

// notWritten returns, after a write error, the events from index from on
// that are not bad and not among the first taken ones: the lines of the
// failed write that the writer took whole.
func notWritten(events []tracker.Event, from, taken int, bad []badEvent) []tracker.Event {
	var lost []tracker.Event
	for i := from; i < len(events); i++ {
		switch {
		case isBad(bad, i):
		case taken > 0:
			taken--
		default:
			lost = append(lost, events[i])
		}
	}
	return lost
}

func isBad(bad []badEvent, i int) bool {
	for _, b := range bad {
		if b.i == i {
			return true
		}
	}
	return false
}

// flush writes the pending lines and says how many of them the writer took
// whole.
func (s *Sink) flush() (int, error) {
	if len(s.buf) == 0 {
		return 0, nil
	}
	n, err := s.w.Write(s.buf)
	if err == nil && n < len(s.buf) {
		err = io.ErrShortWrite
	}
	lines := bytes.Count(s.buf[:max(min(n, len(s.buf)), 0)], []byte{'\n'})
	s.buf = s.buf[:0]
	if err != nil {
		return lines, fmt.Errorf("stdout sink: write: %w", err)
	}
	return lines, nil
}

// Close does nothing: every Write has written its batch, and the writer is
// not the sink's to close.
func (s *Sink) Close(context.Context) error { return nil }

var (
	_ tracker.UndeliveredReporter = (*Sink)(nil)
	_ tracker.Sink                = (*Sink)(nil)
)
