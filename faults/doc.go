// Package faults holds multitrack's fault suite: tests, and nothing else,
// that break what the tracker depends on while several goroutines capture
// events, through the real tracker and the real sinks, and then account
// for every event by its UUID.
//
// Each scenario ends with the same audit: every event captured is
// delivered, written to the dead-letter file (once), or counted by reason in
// Stats (and named to the undelivered hook); with a dead letter and no
// queue overflow, none is only counted; and replaying the dead letter into
// a healthy destination delivers the rest. The scenarios:
//
//   - PostHog answering 500, answering 429 with Retry-After, hanging, and
//     refusing connections, each followed by its recovery
//     (posthog_test.go);
//   - the file sink's disk full, on a small tmpfs (Linux, as root), and
//     its file deleted or renamed under it (file_test.go, disk_linux_test.go);
//   - a panicking sink and a stalled sink beside a healthy one
//     (sinks_test.go);
//   - Close with a short deadline in the middle of an outage
//     (close_test.go);
//   - kill -9 of a process writing a file sink and a dead letter, then
//     replay (kill_test.go);
//   - a burst against a stalled sink, whose heap stays within the queue's
//     bound (burst_test.go).
//
// A bounded version runs in plain "go test ./...". The long one, with more
// events, longer outages and a burst of 5,000,000 events, runs with
//
//	MULTITRACK_FAULTS=long go test -race -timeout 30m ./faults/
//
// or with the build tag: go test -tags=faults ./faults/.
package faults
