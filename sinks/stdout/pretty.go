package stdout

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/rs/zerolog"

	"github.com/multitrack/multitrack/tracker"
)

// prettyPrinter renders event lines with zerolog's ConsoleWriter:
//
//	10:15:03.123 query_initiated distinct_id=org_42 organization=org_42 rows=1042 user=alice
//
// The time (in the configured zone) and the event name lead, then the
// distinct_id, the groups by type, and the properties sorted by key. A
// property whose key is taken by one of those is shown as properties.<key>.
type prettyPrinter struct {
	console zerolog.ConsoleWriter
}

const (
	ansiBold     = "\x1b[1m"
	ansiDarkGray = "\x1b[90m"
	ansiReset    = "\x1b[0m"
)

func newPrettyPrinter(w io.Writer, color bool, loc *time.Location) *prettyPrinter {
	paint := func(code, s string) string {
		if !color {
			return s
		}
		return code + s + ansiReset
	}
	return &prettyPrinter{console: zerolog.ConsoleWriter{
		Out:        w,
		NoColor:    !color,
		PartsOrder: []string{zerolog.TimestampFieldName, zerolog.MessageFieldName},
		FormatTimestamp: func(v any) string {
			s, _ := v.(string)
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				return paint(ansiDarkGray, s)
			}
			return paint(ansiDarkGray, t.In(loc).Format(DefaultTimeFormat))
		},
		FormatMessage: func(v any) string { return paint(ansiBold, printableName(fmt.Sprint(v))) },
	}}
}

// print writes one pretty line for e, whose event line is line.
func (p *prettyPrinter) print(line []byte, e *tracker.Event) error {
	groupTypes := make([]string, 0, len(e.Groups))
	for g := range e.Groups {
		groupTypes = append(groupTypes, g)
	}
	slices.Sort(groupTypes)
	cw := p.console
	cw.FieldsOrder = []string{"distinct_id"}
	for _, g := range groupTypes {
		cw.FieldsOrder = append(cw.FieldsOrder, fieldName("groups.", g))
	}
	cw.FormatPrepare = func(evt map[string]any) error {
		flatten(evt, groupTypes)
		return nil
	}
	_, err := cw.Write(line)
	return err
}

// flatten turns a decoded event line into the fields ConsoleWriter shows.
func flatten(evt map[string]any, groupTypes []string) {
	name, ts := evt["event"], evt["timestamp"]
	groups, _ := evt["groups"].(map[string]any)
	props, _ := evt["properties"].(map[string]any)
	for k := range evt {
		if k != "distinct_id" {
			delete(evt, k)
		}
	}
	evt[zerolog.TimestampFieldName] = ts
	evt[zerolog.MessageFieldName] = name
	for _, g := range groupTypes {
		evt[fieldName("groups.", g)] = groups[g]
	}
	for k, v := range props {
		if _, taken := evt[k]; taken {
			evt["properties."+k] = v
		} else {
			evt[fieldName("properties.", k)] = v
		}
	}
}

// fieldName returns key, or prefix+key when key is a name ConsoleWriter
// reserves or the line's own.
func fieldName(prefix, key string) string {
	switch key {
	case "distinct_id", zerolog.TimestampFieldName, zerolog.MessageFieldName, zerolog.LevelFieldName, zerolog.CallerFieldName:
		return prefix + key
	}
	return key
}

// printableName quotes an event name holding control characters (a
// newline, an escape sequence), so that one event stays one line and cannot
// drive the terminal.
func printableName(s string) string {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return strconv.Quote(s)
		}
	}
	return s
}
