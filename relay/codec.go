package relay

import (
	"github.com/multitrack/multitrack/eventline"
	"github.com/multitrack/multitrack/tracker"
)

// parseLine decodes one event line: the one place that names the
// event-line codec.
func parseLine(line []byte) (tracker.Event, error) { return eventline.Parse(line) }
