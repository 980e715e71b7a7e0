// Package tracker is the core of multitrack: it captures product-analytics
// events on a service's hot path and fans them out to sinks.
//
// A Tracker samples each event, resolves who it belongs to (the organization
// from the context, PostHog group analytics), checks it against a tracking
// plan when it has one (WithPlan), strips secret-looking properties, and
// hands it to every registered Sink, each behind its own
// bounded queue and worker goroutine. Capture never blocks and never returns
// an error; what could not be kept is counted in Stats.
//
// Where things are: capture.go is the hot path (identity, sampling, the
// one-walk validation of validate.go, redaction in redact.go); queue.go is
// what happens when a sink's queue is full; worker.go runs a sink's worker
// and the Flush barrier; shutdown.go is how Close's deadline works;
// deadletter.go reports what a sink did not deliver (the undelivered hook,
// then the dead-letter file); plan.go enforces a tracking plan, which
// package plan provides. Event lines are package eventline.
package tracker
