package registry

import (
	"github.com/multitrack/multitrack/sinks/noop"
	"github.com/multitrack/multitrack/sinks/stdout"
	"github.com/multitrack/multitrack/tracker"
)

// The built-in sinks register themselves here, not in their own packages:
// sinks never import the registry.
func init() {
	Register("noop", newNoop)
	Register("stdout", newStdout)
}

// newNoop builds a sink that discards every event. It has no settings.
func newNoop(Config) (tracker.Sink, error) { return noop.New(), nil }

// newStdout builds a stdout sink writing to cfg.Stdout().
// MULTITRACK_STDOUT_FORMAT: json, pretty or auto (default: pretty on a
// terminal, else json).
func newStdout(cfg Config) (tracker.Sink, error) {
	format := Parse(cfg, "FORMAT", stdout.FormatAuto, stdout.ParseFormat)
	if err := cfg.Err(); err != nil {
		return nil, err
	}
	return stdout.New(stdout.WithWriter(cfg.Stdout()), stdout.WithFormat(format))
}
