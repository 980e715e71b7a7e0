package nats

import (
	"github.com/multitrack/multitrack/eventline"
	"github.com/multitrack/multitrack/tracker"
)

// appendLine appends e as one event line: the one place that names the
// event-line codec.
func appendLine(dst []byte, e *tracker.Event) ([]byte, error) { return eventline.Append(dst, e) }
