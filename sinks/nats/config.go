package nats

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	natsgo "github.com/nats-io/nats.go"
)

// Defaults, as the registry documents them for MULTITRACK_NATS_URL,
// MULTITRACK_NATS_STREAM and MULTITRACK_NATS_SUBJECT.
const (
	DefaultURL             = "nats://127.0.0.1:4222"
	DefaultStream          = "MULTITRACK"
	DefaultSubject         = "multitrack.events"
	DefaultReplicas        = 1
	DefaultDuplicateWindow = 2 * time.Minute // JetStream's own default
	DefaultConnectTimeout  = 5 * time.Second
	DefaultReconnectWait   = time.Second
)

// Config says where the stream is and, for a stream that does not exist
// yet, how to create it. The zero Config is the defaults: a server on
// 127.0.0.1:4222, stream MULTITRACK, subjects multitrack.events.>.
type Config struct {
	// URL is one server's URL or a comma-separated list (a cluster's
	// seeds), e.g. "nats://a:4222,nats://b:4222". Default DefaultURL.
	URL string
	// Stream is the JetStream stream's name. Default DefaultStream.
	Stream string
	// Subject is the subject prefix: an event named e is published to
	// Subject.e, and a stream created here takes Subject.>. Default
	// DefaultSubject.
	Subject string

	// Replicas, MaxAge, MaxBytes and DuplicateWindow are used when the
	// stream is created here (an existing stream is used as it is): its
	// copies (1, 3 or 5 in a cluster), the age and total size past which
	// events are removed (0: no limit; at MaxBytes new events are refused
	// rather than old ones dropped), and the window inside which a second
	// publish of the same UUID is dropped.
	Replicas        int
	MaxAge          time.Duration
	MaxBytes        int64
	DuplicateWindow time.Duration

	// CredsFile is a NATS credentials file (a user JWT and its NKey seed).
	CredsFile string
	// Token is an authentication token: a secret, never shown in errors.
	Token string
	// TLSCA, TLSCert and TLSKey are PEM files: the CA that signed the
	// servers' certificates, and the client's certificate and key (both or
	// neither).
	TLSCA, TLSCert, TLSKey string

	// Name names the connection in the server's monitoring. Default
	// "multitrack".
	Name string
	// ConnectTimeout bounds connecting at startup and each API call (stream
	// lookup and creation). Default DefaultConnectTimeout.
	ConnectTimeout time.Duration
	// ReconnectWait is the pause between reconnect attempts; the
	// connection reconnects for ever. Default DefaultReconnectWait.
	ReconnectWait time.Duration
}

func (c Config) url() string            { return or(c.URL, DefaultURL) }
func (c Config) stream() string         { return or(c.Stream, DefaultStream) }
func (c Config) subject() string        { return or(c.Subject, DefaultSubject) }
func (c Config) replicas() int          { return max(c.Replicas, DefaultReplicas) }
func (c Config) name() string           { return or(c.Name, "multitrack") }
func (c Config) timeout() time.Duration { return orDuration(c.ConnectTimeout, DefaultConnectTimeout) }
func (c Config) duplicateWindow() time.Duration {
	return orDuration(c.DuplicateWindow, DefaultDuplicateWindow)
}

// StreamName returns the stream's name, the default filled in.
func (c Config) StreamName() string { return c.stream() }

// SubjectPrefix returns the subject prefix, the default filled in.
func (c Config) SubjectPrefix() string { return c.subject() }

// ServerURLs returns the servers' URLs with any credentials in them removed,
// for messages.
func (c Config) ServerURLs() string { return RedactURL(c.url()) }

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func orDuration(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// check reports every invalid field.
func (c Config) check() error {
	var errs []error
	if _, err := ParseURL(c.url()); err != nil {
		errs = append(errs, fmt.Errorf("URL: %w", err))
	}
	if _, err := ParseStream(c.stream()); err != nil {
		errs = append(errs, fmt.Errorf("stream: %w", err))
	}
	if _, err := ParseSubject(c.subject()); err != nil {
		errs = append(errs, fmt.Errorf("subject: %w", err))
	}
	if c.Replicas < 0 || c.Replicas > 5 {
		errs = append(errs, fmt.Errorf("replicas %d: want 1 to 5", c.Replicas))
	}
	if c.MaxAge < 0 || c.MaxBytes < 0 || c.DuplicateWindow < 0 {
		errs = append(errs, errors.New("max age, max bytes and duplicate window cannot be negative"))
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, errors.New("a TLS client certificate needs its key, and a key its certificate"))
	}
	return errors.Join(errs...)
}

// ParseURL checks a server URL or a comma-separated list of them
// (nats://, tls://, ws:// or wss://, or host:port) and returns it with
// spaces around the commas removed. Its errors never include a password
// or token.
func ParseURL(s string) (string, error) {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		u, err := url.Parse(item)
		if err != nil || u.Host == "" || u.Opaque != "" {
			// "host:port" parses as scheme "host", opaque "port".
			if u2, err2 := url.Parse("nats://" + item); err2 == nil && u2.Host != "" && !strings.Contains(item, "://") {
				out = append(out, item)
				continue
			}
			return "", fmt.Errorf("%s is not a server URL such as nats://127.0.0.1:4222", RedactURL(item))
		}
		switch u.Scheme {
		case "nats", "tls", "ws", "wss":
		default:
			return "", fmt.Errorf("%s: unknown scheme %q: want nats, tls, ws or wss", RedactURL(item), u.Scheme)
		}
		out = append(out, item)
	}
	if len(out) == 0 {
		return "", errors.New("no server URL")
	}
	return strings.Join(out, ","), nil
}

// RedactURL returns a server URL, or a comma-separated list, with the user
// information (user and password, or token) of each replaced by "***".
func RedactURL(s string) string {
	items := strings.Split(s, ",")
	for i, item := range items {
		item = strings.TrimSpace(item)
		if at := strings.LastIndex(item, "@"); at >= 0 {
			start := 0
			if k := strings.Index(item, "://"); k >= 0 && k < at {
				start = k + 3
			}
			item = item[:start] + "***" + item[at:]
		}
		items[i] = item
	}
	return strings.Join(items, ",")
}

// ParseStream checks a stream name: not empty, without spaces, '.', '*',
// '>', path separators or control characters.
func ParseStream(s string) (string, error) {
	if s == "" {
		return "", errors.New("empty stream name")
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f || strings.ContainsRune(`.*>/\`, r) {
			return "", fmt.Errorf("stream name %q: want letters, digits, '-' and '_' (no '.', '*', '>', slashes or spaces)", s)
		}
	}
	return s, nil
}

// ParseSubject checks a subject prefix: dot-separated tokens, none empty,
// without wildcards ('*', '>') or white space.
func ParseSubject(s string) (string, error) {
	if s == "" {
		return "", errors.New("empty subject")
	}
	for tok := range strings.SplitSeq(s, ".") {
		if tok == "" || tok == "*" || tok == ">" || strings.ContainsAny(tok, " \t\r\n*>") {
			return "", fmt.Errorf("subject %q: want dot-separated tokens such as multitrack.events, none empty, without wildcards or spaces", s)
		}
	}
	return s, nil
}

// Connect connects to the servers of c, with credentials, TLS and a
// reconnect policy (reconnect for ever, ReconnectWait apart). extra options
// (handlers, say) apply on top. When no server can be reached it returns an
// error naming the URLs without their credentials.
func (c Config) Connect(extra ...natsgo.Option) (*natsgo.Conn, error) {
	if err := c.check(); err != nil {
		return nil, fmt.Errorf("nats: %w", err)
	}
	opts := []natsgo.Option{
		natsgo.Name(c.name()),
		natsgo.Timeout(c.timeout()),
		natsgo.MaxReconnects(-1),
		natsgo.ReconnectWait(orDuration(c.ReconnectWait, DefaultReconnectWait)),
		natsgo.ReconnectJitter(100*time.Millisecond, time.Second),
	}
	if c.CredsFile != "" {
		opts = append(opts, natsgo.UserCredentials(c.CredsFile))
	}
	if c.Token != "" {
		opts = append(opts, natsgo.Token(c.Token))
	}
	if c.TLSCA != "" {
		opts = append(opts, natsgo.RootCAs(c.TLSCA))
	}
	if c.TLSCert != "" {
		opts = append(opts, natsgo.ClientCert(c.TLSCert, c.TLSKey))
	}
	opts = append(opts, extra...)
	nc, err := natsgo.Connect(c.url(), opts...)
	if err != nil {
		if c.Token != "" && strings.Contains(err.Error(), c.Token) {
			return nil, fmt.Errorf("nats: cannot connect to %s: %s", c.ServerURLs(), strings.ReplaceAll(err.Error(), c.Token, "[redacted]"))
		}
		return nil, fmt.Errorf("nats: cannot connect to %s: %w", c.ServerURLs(), err)
	}
	return nc, nil
}
