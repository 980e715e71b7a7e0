package eventline

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	ijson "github.com/multitrack/multitrack/internal/json"
	"github.com/multitrack/multitrack/internal/line"
	"github.com/multitrack/multitrack/tracker"
)

// ErrTornLine is the error of a last line that has no trailing newline and is
// not valid JSON: what a process killed mid-write leaves. A Reader skips it
// and keeps it as a warning.
var ErrTornLine = errors.New("torn last line (no trailing newline)")

// LineError is an error about one line of an event file.
type LineError struct {
	File string // the name given to NewReader
	Line int    // 1-based line number
	Err  error  // what is wrong with the line
}

// Error returns "file:line: problem".
func (e *LineError) Error() string {
	if e.File == "" {
		return fmt.Sprintf("line %d: %v", e.Line, e.Err)
	}
	return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
}

// Unwrap returns the underlying error.
func (e *LineError) Unwrap() error { return e.Err }

// Reader reads event lines one event at a time.
//
// Numbers decode as int64 when they are integers that fit, as uint64 when
// they fit only that, else as float64; objects as map[string]any, arrays as
// []any. Blank lines are skipped. A last line that has no trailing newline
// and is not valid JSON is torn: Next skips it and Warnings reports it.
// Every other bad line is an error.
type Reader struct {
	br       *bufio.Reader
	name     string
	line     int
	read     int64
	buf      []byte
	warnings []*LineError
	err      error // sticky: I/O error or io.EOF
}

// NewReader returns a reader of the event lines in r. name (usually the
// file's path) prefixes every error.
func NewReader(r io.Reader, name string) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, 64<<10), name: name}
}

// Next returns the next event, or io.EOF after the last one.
//
// A bad line gives a *LineError naming the file and line; Next can be called
// again to continue with the following line. A read error from the
// underlying reader (also wrapped in a *LineError) is final, as is io.EOF.
func (r *Reader) Next() (tracker.Event, error) {
	for r.err == nil {
		text, complete, err := r.readLine()
		switch {
		case err == line.ErrTooLong:
			if !complete {
				r.err = io.EOF
			}
			return tracker.Event{}, r.lineError(err)
		case err == io.EOF:
			r.err = io.EOF
			if text == nil {
				return tracker.Event{}, io.EOF
			}
		case err != nil:
			r.err = r.lineError(err)
			return tracker.Event{}, r.err
		}
		if len(bytes.TrimSpace(text)) == 0 {
			continue
		}
		e, perr := Parse(text)
		switch {
		case perr == nil:
			return e, nil
		case !complete && errors.Is(perr, errNotJSON):
			r.warnings = append(r.warnings, r.lineError(fmt.Errorf("%w, skipped: %v", ErrTornLine, perr)))
			return tracker.Event{}, io.EOF
		default:
			return tracker.Event{}, r.lineError(perr)
		}
	}
	return tracker.Event{}, r.err
}

// Line returns the number of the line last read (the line of the event Next
// last returned, or of its error).
func (r *Reader) Line() int { return r.line }

// BytesRead returns how many bytes of the input have been consumed, for
// progress reports.
func (r *Reader) BytesRead() int64 { return r.read }

// Err returns the read error that ended the input, as Next returned it, or
// nil while reading goes on and after a clean io.EOF. A *LineError from Next
// is a bad line to skip when Err is nil, and final when it is not.
func (r *Reader) Err() error {
	if r.err == io.EOF {
		return nil
	}
	return r.err
}

// Warnings returns the lines skipped so far that were not errors: a torn last
// line.
func (r *Reader) Warnings() []*LineError { return r.warnings }

func (r *Reader) lineError(err error) *LineError {
	return &LineError{File: r.name, Line: r.line, Err: err}
}

// readLine returns the next line without its newline, and whether it had
// one. A line over the limit (1 MiB) is consumed to its end and reported as
// line.ErrTooLong, without being held in memory. At the end of the input it
// returns the unterminated rest (possibly nil) with io.EOF.
func (r *Reader) readLine() (text []byte, complete bool, err error) {
	r.line++
	r.buf = r.buf[:0]
	tooLong := false
	for {
		chunk, err := r.br.ReadSlice('\n')
		r.read += int64(len(chunk))
		if !tooLong {
			if len(r.buf)+len(chunk) > line.Max {
				tooLong = true
				r.buf = r.buf[:0]
			} else {
				r.buf = append(r.buf, chunk...)
			}
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == nil && tooLong:
			return nil, true, line.ErrTooLong
		case err == nil:
			return r.buf[:len(r.buf)-1], true, nil
		case tooLong && err == io.EOF:
			return nil, false, line.ErrTooLong
		case len(r.buf) == 0 && err == io.EOF:
			r.line--
			return nil, false, io.EOF
		default:
			return r.buf, false, err
		}
	}
}

// errNotJSON marks a line that is not syntactically a JSON object, as
// opposed to valid JSON that is not a valid event.
var errNotJSON = errors.New("not a JSON object")

// wire is the JSON shape of an event line.
type wire struct {
	UUID       string            `json:"uuid"`
	Event      *string           `json:"event"`
	DistinctID string            `json:"distinct_id"`
	Timestamp  string            `json:"timestamp"`
	Groups     map[string]string `json:"groups"`
	Properties map[string]any    `json:"properties"`
}

// Parse decodes one event line, with or without its newline.
func Parse(text []byte) (tracker.Event, error) {
	if !json.Valid(text) {
		var v any
		err := json.Unmarshal(text, &v)
		return tracker.Event{}, fmt.Errorf("%w: %v", errNotJSON, err)
	}
	var w wire
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	if err := dec.Decode(&w); err != nil {
		return tracker.Event{}, fmt.Errorf("not an event line: %v", err)
	}
	if w.Event == nil || *w.Event == "" {
		return tracker.Event{}, errors.New(`not an event line: no "event" name`)
	}
	e := tracker.Event{Name: *w.Event, DistinctID: w.DistinctID, UUID: w.UUID}
	if w.Timestamp != "" {
		ts, err := time.Parse(time.RFC3339Nano, w.Timestamp)
		if err != nil {
			return tracker.Event{}, fmt.Errorf("timestamp %q is not RFC 3339", w.Timestamp)
		}
		if ijson.CheckTimestamp(ts) != nil {
			return tracker.Event{}, fmt.Errorf("timestamp %q is outside years 0–9999 in UTC", w.Timestamp)
		}
		e.Timestamp = ts.UTC()
	}
	if len(w.Groups) > 0 {
		e.Groups = w.Groups
	}
	if len(w.Properties) > 0 {
		for k, v := range w.Properties {
			nv, err := numbers(v)
			if err != nil {
				return tracker.Event{}, fmt.Errorf("property %q: %v", k, err)
			}
			w.Properties[k] = nv
		}
		e.Properties = w.Properties
	}
	return e, nil
}

// numbers replaces the json.Numbers in v: integers that fit become int64
// (uint64 above its range), other numbers float64.
func numbers(v any) (any, error) {
	switch x := v.(type) {
	case json.Number:
		return number(string(x))
	case map[string]any:
		for k, e := range x {
			n, err := numbers(e)
			if err != nil {
				return nil, err
			}
			x[k] = n
		}
	case []any:
		for i, e := range x {
			n, err := numbers(e)
			if err != nil {
				return nil, err
			}
			x[i] = n
		}
	}
	return v, nil
}

func number(s string) (any, error) {
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return i, nil
	}
	if u, err := strconv.ParseUint(s, 10, 64); err == nil {
		return u, nil // above MaxInt64: a uint64 round-trips as one
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, fmt.Errorf("number %s out of range", s)
	}
	return f, nil
}

// ReadFile reads every event of the event file at path (a file sink's
// output, a dead letter). It returns the events, the warnings (a torn last
// line), and the first error, a *LineError naming path and line; the events
// before it are returned too.
func ReadFile(path string) ([]tracker.Event, []*LineError, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	r := NewReader(f, path)
	var events []tracker.Event
	for {
		e, err := r.Next()
		if err == io.EOF {
			return events, r.Warnings(), nil
		}
		if err != nil {
			return events, r.Warnings(), err
		}
		events = append(events, e)
	}
}
