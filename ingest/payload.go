package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// payload is what a capture request carries once decoded: its events, each
// still raw, and what the request says about all of them.
type payload struct {
	apiKey string            // the body's api_key or token; "" when none
	sentAt json.RawMessage   // when the SDK sent the request, for clock-skew correction
	events []json.RawMessage // one per event
	single bool              // a lone event object rather than a batch or an array
}

// wireBody is the top level of a batch: {"api_key", "batch": [...], "sent_at"}.
// A lone event has "event" and no "batch".
type wireBody struct {
	APIKey json.RawMessage   `json:"api_key"`
	Token  json.RawMessage   `json:"token"`
	Batch  []json.RawMessage `json:"batch"`
	SentAt json.RawMessage   `json:"sent_at"`
	Event  json.RawMessage   `json:"event"`
}

// parsePayload reads the JSON of a request: a batch object, an array of
// events, or one event.
func parsePayload(data []byte) (payload, *requestError) {
	trimmed := bytes.TrimLeft(data, " \t\r\n\ufeff")
	if len(trimmed) == 0 {
		return payload{}, badRequest(codeInvalidPayload, "the payload is empty")
	}
	switch trimmed[0] {
	case '[':
		var events []json.RawMessage
		if err := json.Unmarshal(trimmed, &events); err != nil {
			return payload{}, badRequest(codeInvalidPayload, "%s", jsonProblem("payload", err))
		}
		return payload{events: events}, nil
	case '{':
	default:
		return payload{}, badRequest(codeInvalidPayload, "the payload is not JSON: want an object {\"batch\": [...]}, an event object or an array of events")
	}
	var body wireBody
	if err := json.Unmarshal(trimmed, &body); err != nil {
		return payload{}, badRequest(codeInvalidPayload, "%s", jsonProblem("payload", err))
	}
	p := payload{sentAt: body.SentAt}
	key, rerr := keyField("api_key", body.APIKey)
	if rerr != nil {
		return payload{}, rerr
	}
	if key == "" {
		if key, rerr = keyField("token", body.Token); rerr != nil {
			return payload{}, rerr
		}
	}
	p.apiKey = key
	switch {
	case body.Batch != nil:
		p.events = body.Batch
	case len(body.Event) > 0:
		p.events, p.single = []json.RawMessage{trimmed}, true
	default:
		return payload{}, badRequest(codeInvalidPayload, "no events: want {\"batch\": [...]}, an event object with \"event\", or an array of events")
	}
	return p, nil
}

// keyField reads a project API key field: a string, or absent.
func keyField(name string, raw json.RawMessage) (string, *requestError) {
	s, kind := rawString(raw)
	switch kind {
	case kindString, kindMissing:
		return s, nil
	}
	return "", badRequest(codeInvalidPayload, "%s: want a string, got %s", name, kind)
}

// wireEvent is one event as PostHog's capture API takes it.
type wireEvent struct {
	Event      json.RawMessage `json:"event"`
	DistinctID json.RawMessage `json:"distinct_id"`
	Properties map[string]any  `json:"properties"`
	UUID       json.RawMessage `json:"uuid"`
	Timestamp  json.RawMessage `json:"timestamp"`
	SentAt     json.RawMessage `json:"sent_at"`
	Offset     json.RawMessage `json:"offset"`
	Set        map[string]any  `json:"$set"`
	SetOnce    map[string]any  `json:"$set_once"`
	APIKey     json.RawMessage `json:"api_key"`
	Token      json.RawMessage `json:"token"`
}

// decodeEvent decodes one event, numbers as json.Number so that integers
// stay integers and every number keeps its digits.
func decodeEvent(raw json.RawMessage) (wireEvent, error) {
	var e wireEvent
	if t := bytes.TrimLeft(raw, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		_, kind := rawString(raw)
		return e, fmt.Errorf("want an event object, got %s", kind)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&e); err != nil {
		return e, errors.New(jsonProblem("", err))
	}
	return e, nil
}

// JSON value kinds, as messages name them.
const (
	kindMissing = "nothing"
	kindNull    = "null"
	kindString  = "a string"
	kindNumber  = "a number"
	kindBool    = "a boolean"
	kindObject  = "an object"
	kindArray   = "an array"
)

// rawString returns the string a raw JSON value holds, and the value's kind;
// a number's text is returned too.
func rawString(raw json.RawMessage) (string, string) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", kindMissing
	}
	switch c := raw[0]; {
	case c == '"':
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return "", kindString
		}
		return s, kindString
	case c == '-' || c >= '0' && c <= '9':
		return string(raw), kindNumber
	case c == 'n':
		return "", kindNull
	case c == 't' || c == 'f':
		return "", kindBool
	case c == '{':
		return "", kindObject
	}
	return "", kindArray
}

// jsonProblem says in a sentence what encoding/json found wrong, naming the
// field (within what) or the byte offset.
func jsonProblem(what string, err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("%s is not valid JSON: %v (at byte %d)", orPayload(what), se, se.Offset)
	case errors.As(err, &te):
		field := te.Field
		if what != "" && field != "" {
			field = what + "." + field
		} else if field == "" {
			field = orPayload(what)
		}
		return fmt.Sprintf("%s: want %s, got %s", field, kindOf(te.Type), jsonKind(te.Value))
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return fmt.Sprintf("%s is not valid JSON: it ends too early", orPayload(what))
	}
	return fmt.Sprintf("%s: %v", orPayload(what), err)
}

func orPayload(what string) string {
	if what == "" {
		return "the event"
	}
	return what
}

// kindOf names the JSON kind a Go type decodes from.
func kindOf(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Map, reflect.Struct:
		return kindObject
	case reflect.Slice, reflect.Array:
		return kindArray
	case reflect.String:
		return kindString
	case reflect.Bool:
		return kindBool
	}
	return kindNumber
}

// jsonKind names the kind encoding/json's UnmarshalTypeError.Value describes.
func jsonKind(v string) string {
	switch {
	case v == "string":
		return kindString
	case v == "bool":
		return kindBool
	case v == "array":
		return kindArray
	case v == "object":
		return kindObject
	case strings.HasPrefix(v, "number"):
		return kindNumber
	}
	return v
}
