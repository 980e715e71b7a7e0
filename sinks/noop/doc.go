// Package noop provides a sink that discards every event: the sink for tests
// and for configurations that must send nothing, while the tracker still
// samples, validates and counts.
package noop
