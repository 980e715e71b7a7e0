package ingest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/multitrack/multitrack/internal/uuidv7"
	"github.com/multitrack/multitrack/tracker"
)

// maxFuture is how far in the future a corrected timestamp may be before it
// is taken as a broken clock and replaced by the time of receipt, as PostHog
// does.
const maxFuture = 23 * time.Hour

// propIgnoreSentAt, when true on an event, turns off clock-skew correction
// (PostHog's $ignore_sent_at).
const propIgnoreSentAt = "$ignore_sent_at"

// eventMapper turns the events of one request into tracker events.
type eventMapper struct {
	now    time.Time // when the request arrived
	sentAt time.Time // the request's sent_at; zero when absent or invalid
	key    string    // the request's project key ("" until an event names one)
	// keyFrom names where key came from, for a message about a mismatch.
	keyFrom string
}

// mapEvent returns the tracker event for e (named where in messages), or
// reports what is wrong with it to probs and returns false.
func (m *eventMapper) mapEvent(e *wireEvent, where string, probs *problems) (tracker.Event, bool) {
	name, kind := rawString(e.Event)
	if kind != kindString || name == "" {
		if kind == kindString {
			kind = "an empty string"
		}
		probs.add("%s: event: want the event's name, got %s", where, kind)
		return tracker.Event{}, false
	}
	props := e.Properties
	if props == nil {
		props = make(map[string]any)
	}

	if !m.checkKey(e, props, where, probs) {
		return tracker.Event{}, false
	}

	id, kind := rawString(e.DistinctID)
	if kind == kindMissing || kind == kindNull {
		if v, ok := props["distinct_id"]; ok {
			id, kind = valueString(v)
		}
	}
	if (kind != kindString && kind != kindNumber) || strings.TrimSpace(id) == "" {
		if kind == kindString {
			kind = "an empty string"
		}
		probs.add("%s: distinct_id: want a string, got %s", where, kind)
		return tracker.Event{}, false
	}

	var groups map[string]string
	if g, ok := props["$groups"]; ok {
		var err error
		if groups, err = groupsOf(g); err != nil {
			probs.add("%s: properties.$groups%s", where, err)
			return tracker.Event{}, false
		}
		delete(props, "$groups") // carried by Groups; sinks write $groups from it
	}

	mergeSet(props, "$set", e.Set)
	mergeSet(props, "$set_once", e.SetOnce)

	return tracker.Event{
		Name:       name,
		DistinctID: id,
		Groups:     groups,
		Properties: props,
		Timestamp:  m.timestamp(e, props),
		UUID:       eventUUID(e.UUID),
	}, true
}

// checkKey takes the project key an event names (api_key, token,
// properties.token or properties.$token), which must agree with the
// request's, and removes it from the properties: it is the project's key,
// not a fact about the event.
func (m *eventMapper) checkKey(e *wireEvent, props map[string]any, where string, probs *problems) bool {
	candidates := [...]struct {
		from string
		raw  json.RawMessage
		prop any
	}{
		{"api_key", e.APIKey, nil},
		{"token", e.Token, nil},
		{"properties.token", nil, props["token"]},
		{"properties.$token", nil, props["$token"]},
	}
	delete(props, "token")
	delete(props, "$token")
	for _, c := range candidates {
		var s, kind string
		if c.raw != nil {
			s, kind = rawString(c.raw)
		} else if c.prop != nil {
			s, kind = valueString(c.prop)
		} else {
			continue
		}
		if kind != kindString || s == "" {
			if kind == kindMissing || kind == kindNull {
				continue
			}
			probs.add("%s: %s: want a string, got %s", where, c.from, kind)
			return false
		}
		switch {
		case m.key == "":
			m.key, m.keyFrom = s, where+"."+c.from
		case s != m.key:
			probs.add("%s: %s names another project API key than %s", where, c.from, m.keyFrom)
			return false
		}
	}
	return true
}

// valueString returns a decoded JSON value as a string and its kind.
func valueString(v any) (string, string) {
	switch x := v.(type) {
	case string:
		return x, kindString
	case json.Number:
		return x.String(), kindNumber
	case nil:
		return "", kindNull
	case bool:
		return "", kindBool
	case map[string]any:
		return "", kindObject
	}
	return "", kindArray
}

// groupsOf reads $groups: group type → key, keys as strings (a number's
// digits); null keys are left out.
func groupsOf(v any) (map[string]string, error) {
	if v == nil {
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		_, kind := valueString(v)
		return nil, fmt.Errorf(": want an object, got %s", kind)
	}
	groups := make(map[string]string, len(m))
	for typ, key := range m {
		s, kind := valueString(key)
		switch kind {
		case kindNull:
			continue
		case kindString, kindNumber:
			groups[typ] = s
		default:
			return nil, fmt.Errorf(".%s: want a string, got %s", typ, kind)
		}
	}
	if len(groups) == 0 {
		return nil, nil
	}
	return groups, nil
}

// mergeSet merges an event's top-level $set (or $set_once) into its
// properties' (the top level wins), as PostHog does.
func mergeSet(props map[string]any, key string, top map[string]any) {
	if len(top) == 0 {
		return
	}
	inner, ok := props[key].(map[string]any)
	if !ok {
		props[key] = top
		return
	}
	merged := maps.Clone(inner)
	maps.Copy(merged, top)
	props[key] = merged
}

// timestamp applies PostHog's rules: with sent_at, timestamp + (now −
// sent_at), so that a client's wrong clock does not move its events; with an
// offset (ms before sending), now − offset; else the timestamp as sent, or
// now. A result more than 23 hours ahead is taken as a broken clock: now.
func (m *eventMapper) timestamp(e *wireEvent, props map[string]any) time.Time {
	ts, hasTS := parseTime(e.Timestamp)
	sentAt := m.sentAt
	if t, ok := parseTime(e.SentAt); ok {
		sentAt = t
	}
	var out time.Time
	switch off, hasOffset := parseOffset(e.Offset); {
	case hasTS && !sentAt.IsZero() && props[propIgnoreSentAt] != true:
		out = ts.Add(m.now.Sub(sentAt))
	case hasOffset:
		out = m.now.Add(-off)
	case hasTS:
		out = ts
	default:
		return m.now
	}
	if out.After(m.now.Add(maxFuture)) || out.Year() < 1 || out.Year() > 9999 {
		return m.now
	}
	return out
}

// timeLayouts are the timestamp forms accepted besides RFC 3339; those
// without a zone are UTC.
var timeLayouts = []string{
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02",
}

// parseTime reads a timestamp: an ISO 8601 string, or a number of
// milliseconds since the epoch.
func parseTime(raw json.RawMessage) (time.Time, bool) {
	s, kind := rawString(raw)
	switch kind {
	case kindString:
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t, true
		}
		for _, layout := range timeLayouts {
			if t, err := time.Parse(layout, s); err == nil {
				return t, true
			}
		}
	case kindNumber:
		if ms, err := strconv.ParseFloat(s, 64); err == nil && ms > 0 && ms < 1e15 {
			return time.UnixMilli(0).Add(time.Duration(ms * float64(time.Millisecond))).UTC(), true
		}
	}
	return time.Time{}, false
}

// parseOffset reads an event's offset: milliseconds between the event and
// the request (posthog-js before 1.100).
func parseOffset(raw json.RawMessage) (time.Duration, bool) {
	s, kind := rawString(raw)
	if kind != kindNumber {
		return 0, false
	}
	ms, err := strconv.ParseFloat(s, 64)
	if err != nil || ms < 0 || ms > float64(100*365*24*time.Hour/time.Millisecond) {
		return 0, false
	}
	return time.Duration(ms * float64(time.Millisecond)), true
}

// eventUUID keeps an event's UUID in canonical form; a uuid that is not a
// UUID becomes a UUIDv5 of it (the same one every time, and the one the
// PostHog sink would send: uuidv7.Canonical), and an event without one gets
// a new UUIDv7.
func eventUUID(raw json.RawMessage) string {
	s, kind := rawString(raw)
	switch {
	case kind == kindMissing || kind == kindNull:
		s = ""
	case kind != kindString && kind != kindNumber:
		s = string(bytes.TrimSpace(raw))
	}
	return uuidv7.Canonical(s)
}
