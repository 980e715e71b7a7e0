// Package relay delivers the events that the nats sink published to a
// JetStream stream into a tracker's sinks (PostHog, a file, …): the engine
// of `multitrack relay`.
//
// A Relay is a durable pull consumer on the stream. It fetches a batch,
// captures each event line into its tracker (UUID and timestamp kept, no
// sampling but the tracker's own), waits for the tracker's Flush barrier,
// and then acknowledges each message whose event every sink delivered. A
// message whose event a sink did not deliver is nak'ed with an exponential
// backoff and redelivered; at its MaxDeliver-th delivery it is written to
// the relay's dead letter instead and terminated. A message that is not an
// event line is terminated at once, counted and logged with its stream
// sequence (it stays in the stream until the stream's limits remove it).
// Any number of relays on the same consumer share the work: delivery is
// at least once, and each event's UUID lets the destination drop
// duplicates.
//
// The embedded JetStream server of `multitrack relay --embed` is in the
// subpackage embedded, so that programs that only relay do not link the
// server.
package relay
