package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"unicode/utf8"
)

// payload is what a capture request carries once decoded: its events and
// what the request says about all of them.
type payload struct {
	apiKey string          // the body's api_key or token; "" when none
	sentAt json.RawMessage // when the SDK sent the request, for clock-skew correction
	events []decodedEvent  // one per event, in order
	single bool            // a lone event object rather than a batch or an array
}

// decodedEvent is one event of a payload, or why it could not be read.
type decodedEvent struct {
	wireEvent
	err error
}

// parsePayload reads the JSON of a request: a batch object {"api_key",
// "batch": [...], "sent_at"}, an array of events, or one event. It reads
// the batch in one pass, each event decoded on its own so that a bad one is
// named by its index; numbers are json.Number. It stops, with 413, at the
// (maxEvents+1)-th event: a body of many tiny events costs no more memory
// than maxEvents of them.
func parsePayload(data []byte, maxEvents int) (payload, *requestError) {
	trimmed := bytes.TrimLeft(data, " \t\r\n\ufeff")
	if len(trimmed) == 0 {
		return payload{}, badRequest(codeInvalidPayload, "the payload is empty")
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.UseNumber()
	var p payload
	var rerr *requestError
	switch trimmed[0] {
	case '[':
		p.events, rerr = decodeEvents(dec, "payload", maxEvents)
		if rerr == nil {
			rerr = expectEnd(dec)
		}
		return p, rerr
	case '{':
	default:
		return payload{}, badRequest(codeInvalidPayload, "the payload is not JSON: want an object {\"batch\": [...]}, an event object or an array of events")
	}
	if _, err := dec.Token(); err != nil { // {
		return payload{}, badRequest(codeInvalidPayload, "%s", jsonProblem("payload", err))
	}
	var hasBatch, hasEvent bool
	var apiKey, token json.RawMessage
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return payload{}, badRequest(codeInvalidPayload, "%s", jsonProblem("payload", err))
		}
		key, _ := tok.(string)
		var target *json.RawMessage
		switch key {
		case "batch":
			if hasBatch {
				return payload{}, badRequest(codeInvalidPayload, "batch: given twice")
			}
			hasBatch = true
			if p.events, rerr = decodeEvents(dec, "batch", maxEvents); rerr != nil {
				return payload{}, rerr
			}
			continue
		case "api_key":
			target = &apiKey
		case "token":
			target = &token
		case "sent_at":
			target = &p.sentAt
		case "event":
			hasEvent = true
		}
		var skip json.RawMessage
		if target == nil {
			target = &skip
		}
		if err := dec.Decode(target); err != nil {
			return payload{}, badRequest(codeInvalidPayload, "%s", jsonProblem("payload", err))
		}
	}
	if _, err := dec.Token(); err != nil { // }
		return payload{}, badRequest(codeInvalidPayload, "%s", jsonProblem("payload", err))
	}
	if rerr := expectEnd(dec); rerr != nil {
		return payload{}, rerr
	}
	key, rerr := keyField("api_key", apiKey)
	if rerr == nil && key == "" {
		key, rerr = keyField("token", token)
	}
	if rerr != nil {
		return payload{}, rerr
	}
	p.apiKey = key
	switch {
	case hasBatch:
	case hasEvent:
		e, err := decodeEvent(trimmed)
		p.events, p.single = []decodedEvent{{wireEvent: e, err: err}}, true
	default:
		return payload{}, badRequest(codeInvalidPayload, "no events: want {\"batch\": [...]}, an event object with \"event\", or an array of events")
	}
	return p, nil
}

// decodeEvents reads an array of at most max events from dec; what names it
// in messages.
func decodeEvents(dec *json.Decoder, what string, max int) ([]decodedEvent, *requestError) {
	tok, err := dec.Token()
	if err != nil {
		return nil, badRequest(codeInvalidPayload, "%s", jsonProblem(what, err))
	}
	if tok != json.Delim('[') {
		return nil, badRequest(codeInvalidPayload, "%s: want an array, got %s", what, tokenKind(tok))
	}
	events := []decodedEvent{}
	for dec.More() {
		if len(events) == max {
			return nil, tooLarge("more than %d events in one request: send smaller batches", max)
		}
		var e decodedEvent
		if err := dec.Decode(&e.wireEvent); err != nil {
			var te *json.UnmarshalTypeError
			if !errors.As(err, &te) {
				return nil, badRequest(codeInvalidPayload, "%s", jsonProblem(what, err)) // the stream is lost
			}
			e.err = eventProblem(te)
		}
		events = append(events, e)
	}
	if _, err := dec.Token(); err != nil { // ]
		return nil, badRequest(codeInvalidPayload, "%s", jsonProblem(what, err))
	}
	return events, nil
}

// expectEnd checks that nothing follows the payload.
func expectEnd(dec *json.Decoder) *requestError {
	if _, err := dec.Token(); err != io.EOF {
		return badRequest(codeInvalidPayload, "the payload is not valid JSON: something follows its end")
	}
	return nil
}

// tokenKind names the kind of value a token starts.
func tokenKind(tok json.Token) string {
	switch x := tok.(type) {
	case json.Delim:
		if x == '{' {
			return kindObject
		}
		return kindArray
	case string:
		return kindString
	case json.Number, float64:
		return kindNumber
	case bool:
		return kindBool
	}
	return kindNull
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

// decodeEvent decodes one event on its own, numbers as json.Number.
func decodeEvent(raw []byte) (wireEvent, error) {
	var e wireEvent
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&e); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return e, eventProblem(te)
		}
		return e, errors.New(jsonProblem("", err))
	}
	return e, nil
}

// eventProblem says what was of the wrong kind in an event.
func eventProblem(te *json.UnmarshalTypeError) error {
	if te.Field == "" {
		return fmt.Errorf("want an event object, got %s", jsonKind(te.Value))
	}
	return fmt.Errorf("%s: want %s, got %s", te.Field, kindOf(te.Type), jsonKind(te.Value))
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
		if len(raw) >= 2 && bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
			return string(raw[1 : len(raw)-1]), kindString // the decoder checked it; no escapes to undo
		}
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
