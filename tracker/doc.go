// Package tracker is the core of multitrack: it captures product-analytics
// events on a service's hot path and fans them out to sinks.
//
// A Tracker samples each event, resolves who it belongs to (the organization
// from the context, PostHog group analytics), strips secret-looking
// properties, and hands it to every registered Sink, each behind its own
// bounded queue and worker goroutine. Capture never blocks and never returns
// an error; what could not be kept is counted in Stats.
package tracker
