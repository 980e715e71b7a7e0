package registry_test

import (
	"context"
	"io"
	"testing"

	"github.com/multitrack/multitrack/registry"
)

// BenchmarkFromLookup measures building a tracker from a typical environment
// (two sinks, default properties) and closing it: the cost paid once at
// start-up, and by every `multitrack` command.
func BenchmarkFromLookup(b *testing.B) {
	env := registry.Env{
		Lookup: mapLookup(map[string]string{
			"MULTITRACK_SINKS":         "stdout,noop",
			"MULTITRACK_STDOUT_FORMAT": "json",
			"MULTITRACK_PROPERTIES":    "service=api,region=eu,version=1.4.2",
			"MULTITRACK_QUEUE_SIZE":    "4096",
		}),
		Stdout: io.Discard,
	}
	b.ReportAllocs()
	for b.Loop() {
		t, err := env.Tracker()
		if err != nil {
			b.Fatal(err)
		}
		if err := t.Close(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFromLookupErrors measures a bad environment: every problem
// collected, nothing started.
func BenchmarkFromLookupErrors(b *testing.B) {
	lookup := mapLookup(map[string]string{
		"MULTITRACK_SINKS":      "stdout,kafka",
		"MULTITRACK_QUEUE_SIZE": "lots",
		"MULTITRACK_OVERFLOW":   "sideways",
		"MULTITRACK_PROPERTIES": "a=1,a=2",
	})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := registry.FromLookup(lookup); err == nil {
			b.Fatal("no error")
		}
	}
}
