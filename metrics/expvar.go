package metrics

import (
	"expvar"

	"github.com/multitrack/multitrack/tracker"
)

// PublishExpvar publishes t's Stats as the expvar variable name, read each
// time /debug/vars is served. Like expvar.Publish, it panics when name is
// already published.
func PublishExpvar(name string, t *tracker.Tracker) {
	expvar.Publish(name, expvar.Func(func() any { return t.Stats() }))
}
