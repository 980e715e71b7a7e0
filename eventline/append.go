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

// Append appends e to dst as one event line and returns the extended buffer:
// fields uuid, event, distinct_id, timestamp (UTC, microseconds), groups
// (omitted when empty), properties, in that order; object keys sorted, so
// the same event always gives the same bytes; integral floats as 3.0, so
// that a reader tells them from integers. The common types cost no
// allocation. An event JSON cannot carry (NaN, a func, nesting deeper than
// 32, a year outside 0–9999, a line over 1 MiB) leaves dst unchanged, with
// an error naming the property (matching ErrUnencodable) or the size.
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
