// Package nats provides a sink that publishes events to a NATS JetStream
// stream, so that any number of `multitrack relay` processes can deliver
// them from there (see package relay).
//
// Each event goes, as one event line (the format the file sink writes), to
// the subject <Subject>.<event name> with the header Nats-Msg-Id set to the
// event's UUID: JetStream drops a second publish of the same event inside
// the stream's duplicate window. Publishes are asynchronous with a bounded
// number in flight; Write returns once JetStream has acknowledged the batch,
// retrying what was not acknowledged (through reconnects, a leader election)
// until its retry timeout, and reports the events still without an ack
// undelivered, so that the tracker counts them and writes them to its dead
// letter.
//
// New connects (an unreachable server is an error naming the URL, without
// its credentials) and creates the stream when it is missing, with the
// subjects <Subject>.>, the replicas, age, size and duplicate window of the
// Config; an existing stream is used as it is, provided its subjects take
// the sink's. The connection reconnects on its own, for ever.
//
// The package is named nats like github.com/nats-io/nats.go; import it as
// natssink.
package nats
