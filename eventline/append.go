package eventline

import (
	"github.com/multitrack/multitrack/internal/json"
	"github.com/multitrack/multitrack/internal/line"
	"github.com/multitrack/multitrack/tracker"
)

// ErrUnencodable is matched, with errors.Is, by every error Append returns
// for an event it cannot write as JSON. The error names the property (a
// path such as "tags[2].name") and the problem, never a value.
var ErrUnencodable = json.ErrUnencodable

// Append appends e to dst as one event line: a JSON object with the fields
// uuid, event, distinct_id, timestamp (UTC, microseconds), groups (omitted
// when empty) and properties, in that order, followed by '\n'. Object keys
// are sorted, so the same event always gives the same bytes. It returns the
// extended buffer.
//
// Strings, bools, nil, every integer and float kind, json.Number, time.Time,
// map[string]any, []any, map[string]string and []string are written by hand
// without allocating; other values go through encoding/json. A float with an
// integral value is written with a ".0" suffix (3.0, not 3), so that a
// reader can tell it from an integer. Invalid UTF-8 is replaced with U+FFFD.
//
// An event that cannot be encoded (NaN or ±Inf, a func, chan or complex
// value, nesting deeper than 32 levels, a time outside years 0–9999, a line
// over 1 MiB) leaves dst unchanged; the error matches ErrUnencodable, or
// names the line's size.
func Append(dst []byte, e *tracker.Event) ([]byte, error) {
	return line.Append(dst, &line.Fields{
		UUID:       e.UUID,
		Name:       e.Name,
		DistinctID: e.DistinctID,
		Timestamp:  e.Timestamp,
		Groups:     e.Groups,
		Properties: e.Properties,
	})
}
