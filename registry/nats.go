package registry

import (
	"fmt"
	"strings"

	"github.com/multitrack/multitrack/relay"
	natssink "github.com/multitrack/multitrack/sinks/nats"
	"github.com/multitrack/multitrack/tracker"
)

// The relay's own variables.
const (
	varRelayConsumer   = "MULTITRACK_RELAY_CONSUMER"
	varRelayMaxDeliver = "MULTITRACK_RELAY_MAX_DELIVER"
)

// natsKeys are the nats sink's settings, MULTITRACK_NATS_<KEY>, which the
// relay reads too (Env.Relay).
var natsKeys = []string{"URL", "STREAM", "SUBJECT", "REPLICAS", "MAX_AGE", "MAX_BYTES", "DUPLICATE_WINDOW",
	"CREDS", "TOKEN", "TLS_CA", "TLS_CERT", "TLS_KEY"}

// newNATS builds a JetStream sink: MULTITRACK_NATS_URL (default
// nats://127.0.0.1:4222, comma-separated servers), MULTITRACK_NATS_STREAM
// (MULTITRACK), MULTITRACK_NATS_SUBJECT (multitrack.events), and the
// settings natsConfig reads. Its diagnostics go to the MULTITRACK_LOG_LEVEL
// logger.
func newNATS(cfg Config) (tracker.Sink, error) {
	c := natsConfig(cfg)
	if err := cfg.Err(); err != nil {
		return nil, err
	}
	return sinkOrNil(natssink.New(natssink.WithConfig(c), natssink.WithLogger(cfg.Logger())))
}

// natsConfig reads the MULTITRACK_NATS_* variables, which the nats sink and
// the relay share.
func natsConfig(cfg Config) natssink.Config {
	c := natssink.Config{
		URL:     Parse(cfg, "URL", natssink.DefaultURL, natssink.ParseURL),
		Stream:  Parse(cfg, "STREAM", natssink.DefaultStream, natssink.ParseStream),
		Subject: Parse(cfg, "SUBJECT", natssink.DefaultSubject, natssink.ParseSubject),
		// For a stream created here; an existing stream is used as it is.
		Replicas:        cfg.IntRange("REPLICAS", natssink.DefaultReplicas, 1, 5),
		MaxAge:          cfg.Duration("MAX_AGE", 0),
		MaxBytes:        cfg.Size("MAX_BYTES", 0),
		DuplicateWindow: cfg.Duration("DUPLICATE_WINDOW", natssink.DefaultDuplicateWindow),
		CredsFile:       cfg.Get("CREDS"),
		Token:           cfg.Secret("TOKEN"),
		TLSCA:           cfg.Get("TLS_CA"),
		TLSCert:         cfg.Get("TLS_CERT"),
		TLSKey:          cfg.Get("TLS_KEY"),
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		cfg.Invalid(cfg.Var("TLS_KEY"), fmt.Errorf("%s and %s go together", cfg.Var("TLS_CERT"), cfg.Var("TLS_KEY")))
	}
	return c
}

// RelaySettings are the variables `multitrack relay` reads beside the
// tracker's: where the stream is (MULTITRACK_NATS_*, as the nats sink reads
// them), its durable consumer (MULTITRACK_RELAY_CONSUMER, default
// multitrack-relay), how many deliveries a message gets before it goes to
// the dead letter (MULTITRACK_RELAY_MAX_DELIVER, default 10), and the dead
// letter (MULTITRACK_DEAD_LETTER_PATH).
type RelaySettings struct {
	NATS       natssink.Config
	Consumer   string
	MaxDeliver int
	DeadLetter string
}

// Relay reads the relay's settings from e's variables, every problem at
// once. MULTITRACK_SINKS must not list nats: the relay would publish what it
// reads back into the stream.
func (e Env) Relay() (RelaySettings, error) {
	l := e.newLoader()
	nc := Config{l: l, name: "nats"}
	s := RelaySettings{
		NATS:       natsConfig(nc),
		Consumer:   relay.DefaultConsumer,
		MaxDeliver: l.intVar(varRelayMaxDeliver, "", relay.DefaultMaxDeliver, 1, 1000),
	}
	if v, ok := l.read(varRelayConsumer, "", relay.DefaultConsumer, false); ok {
		if _, err := natssink.ParseStream(v); err != nil { // a consumer's name follows a stream's rules
			l.invalid(varRelayConsumer, "", v, "a durable consumer name: letters, digits, '-' and '_'")
		}
		s.Consumer = v
	}
	s.DeadLetter, _ = l.read(varDeadLetter, "", "none", false)
	if v, ok := l.read(varSinks, "", "", false); ok {
		for item := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(item), "nats") {
				l.report("", &VarError{Var: varSinks, Err: fmt.Errorf("%w: the relay cannot deliver to nats: it would publish what it reads back into the stream", ErrInvalid)})
			}
		}
	}
	if len(l.problems) > 0 {
		return s, l.err()
	}
	return s, nil
}
