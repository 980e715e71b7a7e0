package posthog

import (
	"fmt"
	"strings"

	ph "github.com/posthog/posthog-go"
	"github.com/rs/zerolog"

	"github.com/multitrack/multitrack/internal/secret"
)

// redacted replaces the API key wherever posthog-go's messages would show it
// (a server's error body can echo the key it was sent).
const redacted = secret.Marker

// zlogger adapts a zerolog.Logger to posthog-go's Logger interface.
type zlogger struct {
	log zerolog.Logger
	key string
}

func newLogger(l zerolog.Logger, apiKey string) zlogger {
	return zlogger{log: l.With().Str("component", "posthog").Logger(), key: apiKey}
}

// Debugf drops the message: posthog-go's debug lines print whole events, and
// property values must never reach a log.
func (zlogger) Debugf(string, ...any) {}

// responseFormat is how posthog-go logs a batch's error answer, body last.
const responseFormat = "response %d %s – %s"

// attemptFormats are posthog-go's messages about one attempt, or about
// stopping, that the sink reports better itself: it decides on retries, and
// says which events it gave up on and why.
var attemptFormats = map[string]bool{
	"sending request - %s":                                 true,
	"%d messages dropped after %d attempts":                true,
	"%d messages dropped: shutdown timeout":                true,
	"shutdown timeout exceeded, some messages may be lost": true,
	"shutdown timeout: %d batches still in flight":         true,
}

// Logf logs at info level. The body of an error answer is left out: a server
// may echo what it was sent, property values included.
func (l zlogger) Logf(format string, args ...any) {
	if format == responseFormat && len(args) == 3 {
		format, args = "response %d %s (body not logged)", args[:2]
	}
	l.emit(l.log.Info(), format, args)
}

// Warnf logs at warn level.
func (l zlogger) Warnf(format string, args ...any) { l.emit(l.log.Warn(), format, args) }

// Errorf logs at error level.
func (l zlogger) Errorf(format string, args ...any) { l.emit(l.log.Error(), format, args) }

func (l zlogger) emit(e *zerolog.Event, format string, args []any) {
	if !e.Enabled() || attemptFormats[format] {
		return
	}
	e.Msg(strings.ReplaceAll(fmt.Sprintf(format, args...), l.key, redacted))
}

var _ ph.Logger = zlogger{}
