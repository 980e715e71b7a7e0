package stdout

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/mattn/go-isatty"

	"github.com/multitrack/multitrack/tracker"
)

// Format is how the sink writes events.
type Format int

const (
	// FormatAuto is FormatPretty when the writer is a terminal, else
	// FormatJSON. It is the default.
	FormatAuto Format = iota
	// FormatJSON writes event lines (DESIGN.md), one JSON object a line: what
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
// when the writer is a terminal and the NO_COLOR environment variable is
// empty.
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
	terminal := isTerminal(c.w)
	s := &Sink{w: c.w, format: c.format}
	switch c.format {
	case FormatAuto:
		s.format = FormatJSON
		if terminal {
			s.format = FormatPretty
		}
	case FormatJSON, FormatPretty:
	default:
		return nil, fmt.Errorf("stdout sink: unknown %v: want FormatAuto, FormatJSON or FormatPretty", c.format)
	}
	if s.format == FormatPretty {
		color := terminal && os.Getenv("NO_COLOR") == ""
		if c.color != nil {
			color = *c.color
		}
		s.pretty = newPrettyPrinter(c.w, color, c.location)
	}
	return s, nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
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
// written. A write error from the writer is returned, naming the sink.
func (s *Sink) Write(ctx context.Context, events []tracker.Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var errs []error
	s.buf = s.buf[:0]
	for i := range events {
		line, err := tracker.AppendEventLine(s.buf, &events[i])
		if err != nil {
			err = fmt.Errorf("stdout sink: event %q not written: %w", events[i].Name, err)
			if s.undelivered != nil {
				s.undelivered(events[i:i+1], err)
			} else {
				errs = append(errs, err)
			}
			continue
		}
		if s.pretty != nil {
			s.buf = line[:0]
			if err := s.pretty.print(line, &events[i]); err != nil {
				return errors.Join(append(errs, fmt.Errorf("stdout sink: %w", err))...)
			}
			continue
		}
		s.buf = line
		if len(s.buf) >= maxPending {
			if err := s.flush(); err != nil {
				return errors.Join(append(errs, err)...)
			}
		}
	}
	if err := s.flush(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (s *Sink) flush() error {
	if len(s.buf) == 0 {
		return nil
	}
	_, err := s.w.Write(s.buf)
	s.buf = s.buf[:0]
	if err != nil {
		return fmt.Errorf("stdout sink: write: %w", err)
	}
	return nil
}

// Close does nothing: every Write has written its batch, and the writer is
// not the sink's to close.
func (s *Sink) Close(context.Context) error { return nil }

var (
	_ tracker.UndeliveredReporter = (*Sink)(nil)
	_ tracker.Sink                = (*Sink)(nil)
)
