package ingest

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// AckMode says when a request is answered.
type AckMode uint8

const (
	// AckDelivered answers once every sink has delivered the request's
	// events (with the nats sink: once JetStream acknowledged them), and
	// 503 when one did not, so that the SDK retries.
	AckDelivered AckMode = iota
	// AckQueued answers once the events are captured: fastest; an event
	// lost later (a sink failing past its retries) is dead-lettered and
	// counted, but the SDK is not told.
	AckQueued
)

// String returns the mode as MULTITRACK_SERVE_ACK spells it.
func (m AckMode) String() string {
	switch m {
	case AckDelivered:
		return "delivered"
	case AckQueued:
		return "queued"
	}
	return fmt.Sprintf("AckMode(%d)", uint8(m))
}

// ParseAckMode reads "delivered" or "queued".
func ParseAckMode(s string) (AckMode, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "delivered", "":
		return AckDelivered, nil
	case "queued":
		return AckQueued, nil
	}
	return 0, fmt.Errorf("ack mode %q: want delivered or queued", s)
}

// The environment variables EnvConfig reads.
const (
	EnvAPIKeys = "MULTITRACK_SERVE_API_KEYS"
	EnvAck     = "MULTITRACK_SERVE_ACK"
	EnvRate    = "MULTITRACK_SERVE_RATE"
)

// EnvConfig is the server's configuration from the environment.
type EnvConfig struct {
	// APIKeys are the accepted project keys (MULTITRACK_SERVE_API_KEYS, a
	// comma list).
	APIKeys []string
	// Ack is MULTITRACK_SERVE_ACK: delivered (the default) or queued.
	Ack AckMode
	// Rate is MULTITRACK_SERVE_RATE, each key's limit, e.g. 1000/s or
	// 1000/s:burst=5000; none by default.
	Rate Rate
}

// ConfigFromEnv reads the process environment; see ConfigFromLookup.
func ConfigFromEnv() (EnvConfig, error) { return ConfigFromLookup(os.LookupEnv) }

// ConfigFromLookup reads MULTITRACK_SERVE_API_KEYS, MULTITRACK_SERVE_ACK and
// MULTITRACK_SERVE_RATE through lookup (as os.LookupEnv). Every problem is
// returned at once, each naming its variable.
func ConfigFromLookup(lookup func(string) (string, bool)) (EnvConfig, error) {
	var c EnvConfig
	var errs []error
	if v, ok := lookup(EnvAPIKeys); ok {
		for k := range strings.SplitSeq(v, ",") {
			if k = strings.TrimSpace(k); k != "" {
				c.APIKeys = append(c.APIKeys, k)
			}
		}
	}
	if v, ok := lookup(EnvAck); ok {
		m, err := ParseAckMode(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", EnvAck, err))
		}
		c.Ack = m
	}
	if v, ok := lookup(EnvRate); ok {
		r, err := ParseRate(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", EnvRate, err))
		}
		c.Rate = r
	}
	return c, errors.Join(errs...)
}
