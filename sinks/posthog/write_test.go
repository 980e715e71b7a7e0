package posthog

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	ph "github.com/posthog/posthog-go"
	"github.com/rs/zerolog"

	"github.com/multitrack/multitrack/internal/posthogtest"
	"github.com/multitrack/multitrack/internal/uuidv7"
	"github.com/multitrack/multitrack/tracker"
)

func TestNewRejectsBadInput(t *testing.T) {
	cases := []struct {
		name string
		key  string
		opts []Option
		want []string // each must appear in the error
	}{
		{"empty key", "", nil, []string{"empty API key"}},
		{"blank key", "  \t", nil, []string{"empty API key"}},
		{"endpoint scheme", testKey, []Option{WithEndpoint("ftp://example.com")}, []string{"WithEndpoint", "scheme"}},
		{"endpoint no host", testKey, []Option{WithEndpoint("http://")}, []string{"WithEndpoint", "no host"}},
		{"endpoint empty", testKey, []Option{WithEndpoint("")}, []string{"WithEndpoint", "empty"}},
		{"endpoint query", testKey, []Option{WithEndpoint("https://x.test/?a=1")}, []string{"WithEndpoint", "query"}},
		{"endpoint credentials redacted", testKey, []Option{WithEndpoint("ftp://user:hunter2@x.test")}, []string{"WithEndpoint", "xxxxx"}},
		{"batch size", testKey, []Option{WithBatchSize(0)}, []string{"WithBatchSize(0)"}},
		{"interval", testKey, []Option{WithInterval(-time.Second)}, []string{"WithInterval(-1s)"}},
		{"retries", testKey, []Option{WithMaxRetries(10)}, []string{"WithMaxRetries(10)", "[0, 9]"}},
		{"backoff", testKey, []Option{WithRetryBackoff(time.Second, time.Millisecond)}, []string{"WithRetryBackoff"}},
		{"nil transport", testKey, []Option{WithTransport(nil)}, []string{"WithTransport"}},
		{"group type", testKey, []Option{WithGroupProperties("", "plan")}, []string{"WithGroupProperties", "empty group type"}},
		{"group keys", testKey, []Option{WithGroupProperties("organization")}, []string{`WithGroupProperties("organization")`, "no property keys"}},
		{"person profiles", testKey, []Option{WithPersonProfiles(7)}, []string{"WithPersonProfiles(7)"}},
		{"all at once", "", []Option{WithBatchSize(-1), WithMaxRetries(-1)}, []string{"empty API key", "WithBatchSize(-1)", "WithMaxRetries(-1)"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(tc.key, tc.opts...)
			if err == nil {
				s.Close(context.Background())
				t.Fatal("New succeeded, want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if strings.Contains(err.Error(), testKey) || strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error leaks a secret: %q", err)
			}
		})
	}
}

func TestWireFormat(t *testing.T) {
	for _, gz := range []bool{true, false} {
		t.Run(map[bool]string{true: "gzip", false: "plain"}[gz], func(t *testing.T) {
			f := posthogtest.NewServer(t, nil)
			s, c := newTestSink(t, f.URL+"/", WithGzip(gz)) // a trailing slash is fine
			ts := time.Date(2026, 11, 28, 10, 15, 3, 123456000, time.UTC)
			org := tracker.Event{
				Name:       "query_failed",
				DistinctID: "org_42",
				Groups:     map[string]string{"organization": "org_42"},
				Properties: map[string]any{"sqlstate": "42P01", "error_category": "undefined_table", "rows": 3},
				Timestamp:  ts,
				UUID:       "0190f3c4-1b2c-7d3e-8f40-0123456789ab",
			}
			standalone := tracker.Event{
				Name:       "cli_started",
				DistinctID: "standalone",
				Properties: map[string]any{"version": "1.2.3"},
				Timestamp:  ts.In(time.FixedZone("CET", 3600)),
				UUID:       "0190F3C4-1B2C-7D3E-8F40-0123456789AC", // upper case: sent canonical
			}
			if err := s.Write(context.Background(), []tracker.Event{org, standalone}); err != nil {
				t.Fatal(err)
			}
			if err := s.Flush(within(t, 10*time.Second)); err != nil {
				t.Fatal(err)
			}

			for _, r := range f.Requests() {
				if r.APIKey != testKey || r.Historical {
					t.Errorf("api_key = %q, historical_migration %v", r.APIKey, r.Historical)
				}
				wantEnc := map[bool]string{true: "gzip", false: ""}[gz]
				if r.ContentEncoding != wantEnc || r.Compression != wantEnc {
					t.Errorf("Content-Encoding %q, compression=%q; want %q", r.ContentEncoding, r.Compression, wantEnc)
				}
			}
			msgs := f.Messages()
			if len(msgs) != 2 {
				t.Fatalf("server accepted %d messages, want 2: %v", len(msgs), msgs)
			}
			o := msgs[org.UUID]
			if o == nil {
				t.Fatalf("org event %s not received; got %v", org.UUID, msgs)
			}
			if o["event"] != "query_failed" || o["distinct_id"] != "org_42" {
				t.Errorf("org event: event=%v distinct_id=%v", o["event"], o["distinct_id"])
			}
			if got, _ := time.Parse(time.RFC3339Nano, o["timestamp"].(string)); !got.Equal(ts) {
				t.Errorf("timestamp = %v, want %v", o["timestamp"], ts)
			}
			props := o["properties"].(map[string]any)
			if !reflect.DeepEqual(props["$groups"], map[string]any{"organization": "org_42"}) {
				t.Errorf("$groups = %#v", props["$groups"])
			}
			for k, want := range map[string]any{"sqlstate": "42P01", "error_category": "undefined_table", "rows": 3.0, "$lib": "posthog-go"} {
				if props[k] != want {
					t.Errorf("properties[%q] = %#v, want %#v", k, props[k], want)
				}
			}
			if _, ok := props[propProcessPersonProfile]; ok {
				t.Errorf("%s sent by default", propProcessPersonProfile)
			}

			sa := msgs[strings.ToLower(standalone.UUID)]
			if sa == nil {
				t.Fatalf("standalone event not received under its canonical UUID; got %v", msgs)
			}
			sp := sa["properties"].(map[string]any)
			if _, ok := sp["$groups"]; ok {
				t.Errorf("standalone event carries $groups: %#v", sp["$groups"])
			}
			if sa["distinct_id"] != "standalone" || sp["version"] != "1.2.3" || sp["$lib"] != "posthog-go" {
				t.Errorf("standalone event = %#v", sa)
			}
			if got, _ := time.Parse(time.RFC3339Nano, sa["timestamp"].(string)); !got.Equal(ts) {
				t.Errorf("standalone timestamp = %v, want the instant %v", sa["timestamp"], ts)
			}
			if st := s.Stats(); st.Sent != 2 || st.Undelivered != 0 || st.Pending != 0 {
				t.Errorf("Stats = %+v, want 2 sent", st)
			}
			if len(c.uuids()) != 0 {
				t.Errorf("undelivered: %v", c.uuids())
			}
		})
	}
}

// With PersonProfilesNever every capture says $process_person_profile:
// false, and the dead letter keeps the event as it was written; with
// WithHistorical every batch carries historical_migration.
func TestPersonProfilesNeverAndHistorical(t *testing.T) {
	f := posthogtest.NewServer(t, posthogtest.FailFirst(1, posthogtest.Answer{Status: http.StatusBadRequest}))
	s, c := newTestSink(t, f.URL, WithPersonProfiles(PersonProfilesNever), WithHistorical(true), WithBatchSize(100), WithInterval(time.Hour))
	events := makeEvents(4)
	// Only Flush sends (an hour's interval): each Write is one request, the
	// first refused.
	for _, batch := range [][]tracker.Event{events[:2], events[2:]} {
		writeAll(t, s, batch, 2)
		if err := s.Flush(within(t, 10*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	if acc, und := assertAccounted(t, events, f, c); acc != 2 || und != 2 {
		t.Fatalf("accepted %d, undelivered %d; want 2 and 2", acc, und)
	}
	for _, m := range f.Messages() {
		if p := m["properties"].(map[string]any); p[propProcessPersonProfile] != false {
			t.Errorf("%s = %v, want false", propProcessPersonProfile, p[propProcessPersonProfile])
		}
	}
	for _, r := range f.Requests() {
		if !r.Historical {
			t.Error("a batch without historical_migration")
		}
	}
	for _, e := range c.events {
		if _, ok := e.Properties[propProcessPersonProfile]; ok {
			t.Errorf("the undelivered event carries %s: %v", propProcessPersonProfile, e.Properties)
		}
	}
}

func TestWriteDoesNotMutateCallerMaps(t *testing.T) {
	f := posthogtest.NewServer(t, nil)
	s, _ := newTestSink(t, f.URL)
	events := makeEvents(6)
	events[1].Properties = nil // posthog-go must not need the caller's map
	before := make([]tracker.Event, len(events))
	for i, e := range events {
		before[i] = e
		before[i].Properties = maps.Clone(e.Properties)
		before[i].Groups = maps.Clone(e.Groups)
	}
	writeAll(t, s, events, 6)
	if err := s.Flush(within(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	for i := range events {
		if !reflect.DeepEqual(events[i].Properties, before[i].Properties) || !reflect.DeepEqual(events[i].Groups, before[i].Groups) {
			t.Errorf("event %d maps changed: %v %v, were %v %v", i, events[i].Properties, events[i].Groups, before[i].Properties, before[i].Groups)
		}
	}
	if got := len(f.Messages()); got != 6 {
		t.Errorf("accepted %d, want 6", got)
	}
}

// setWrap puts w in front of the sink's current and future clients.
func setWrap(s *Sink, w func(enqueuer) enqueuer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.wrap = w
	s.gen.enq = w(s.gen.client)
}

// refuseNamed refuses every Capture named name with err.
type refuseNamed struct {
	next enqueuer
	name string
	err  error
}

func (r refuseNamed) Enqueue(m ph.Message) error {
	if c, ok := m.(ph.Capture); ok && c.Event == r.name {
		return r.err
	}
	return r.next.Enqueue(m)
}

// fullOnce refuses the first Capture any of its copies sees with
// ErrQueueFull.
type fullOnce struct {
	next enqueuer
	done *atomic.Bool
}

func (f fullOnce) Enqueue(m ph.Message) error {
	if f.done.CompareAndSwap(false, true) {
		return ph.ErrQueueFull
	}
	return f.next.Enqueue(m)
}

func TestQueueFull(t *testing.T) {
	f := posthogtest.NewServer(t, nil)
	// A full posthog-go queue is handed over (sent now) and the event goes
	// to a fresh client: nothing is refused.
	t.Run("handed over, not refused", func(t *testing.T) {
		s, c := newTestSink(t, f.URL, WithInterval(time.Hour))
		var done atomic.Bool
		setWrap(s, func(e enqueuer) enqueuer { return fullOnce{next: e, done: &done} })
		events := makeEvents(6)
		writeAll(t, s, events, 6)
		if err := s.Close(within(t, 10*time.Second)); err != nil {
			t.Fatal(err)
		}
		if acc, und := assertAccounted(t, events, f, c); acc != 6 || und != 0 {
			t.Errorf("accepted %d, undelivered %d", acc, und)
		}
		if st := s.Stats(); st.Refused != 0 || st.Handovers < 2 {
			t.Errorf("Stats = %+v; want none refused, a handover for the full queue and one at Close", st)
		}
	})
	refuse := func(e enqueuer) enqueuer { return refuseNamed{next: e, name: "full", err: ph.ErrQueueFull} }
	named := func(n int, full ...int) []tracker.Event {
		events := makeEvents(n)
		for _, i := range full {
			events[i].Name = "full"
		}
		return events
	}
	t.Run("full twice: refused and reported", func(t *testing.T) {
		s, c := newTestSink(t, f.URL)
		setWrap(s, refuse)
		events := named(9, 2, 5, 8)
		if err := s.Write(context.Background(), events); err != nil {
			t.Fatalf("Write = %v, want nil: refused events go to the UndeliveredFunc", err)
		}
		if err := s.Close(within(t, 10*time.Second)); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if acc, und := assertAccounted(t, events, f, c); acc != 6 || und != 3 {
			t.Errorf("accepted %d, undelivered %d; want 6, 3", acc, und)
		}
		for _, r := range c.allReasons() {
			if !errors.Is(r, ph.ErrQueueFull) {
				t.Errorf("reason %v does not wrap ErrQueueFull", r)
			}
		}
		if st := s.Stats(); st.QueueFull != 3 || st.Refused != 3 || st.Undelivered != 3 || st.Sent != 6 {
			t.Errorf("Stats = %+v", st)
		}
	})
	// Without an UndeliveredFunc, Write's error means the whole batch was
	// refused (the tracker's contract); part of a batch refused is logged.
	t.Run("without an UndeliveredFunc, part of the batch", func(t *testing.T) {
		var logs lockedBuffer
		s, err := New(testKey, fastOptions(f.URL, WithLogger(zerolog.New(&logs)))...)
		if err != nil {
			t.Fatal(err)
		}
		closeAtCleanup(t, s)
		setWrap(s, refuse)
		if err := s.Write(context.Background(), named(6, 1, 4)); err != nil {
			t.Errorf("Write = %v, want nil: 4 of 6 events were handed over", err)
		}
		if got := logs.String(); !strings.Contains(got, "2 events refused") || !strings.Contains(got, ph.ErrQueueFull.Error()) {
			t.Errorf("log %q, want the 2 refused events and their cause", got)
		}
		if st := s.Stats(); st.Refused != 2 || st.QueueFull != 2 {
			t.Errorf("Stats = %+v", st)
		}
	})
	t.Run("without an UndeliveredFunc, the whole batch", func(t *testing.T) {
		s, err := New(testKey, fastOptions(f.URL)...)
		if err != nil {
			t.Fatal(err)
		}
		closeAtCleanup(t, s)
		setWrap(s, refuse)
		err = s.Write(context.Background(), named(3, 0, 1, 2))
		if !errors.Is(err, ph.ErrQueueFull) || !strings.Contains(err.Error(), "3 events not delivered") {
			t.Errorf("Write = %v, want 3 events refused with ErrQueueFull", err)
		}
		if st := s.Stats(); st.Refused != 3 || st.Pending != 0 {
			t.Errorf("Stats = %+v", st)
		}
	})
}

func TestAPIKeyAndValuesNeverLogged(t *testing.T) {
	f := posthogtest.NewServer(t, posthogtest.Always(http.StatusBadRequest)) // echoes the key and a value
	var logs lockedBuffer
	s, c := newTestSink(t, f.URL, WithLogger(zerolog.New(&logs).Level(zerolog.DebugLevel)))
	events := makeEvents(3)
	writeAll(t, s, events, 3)
	if err := s.Flush(within(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	err := s.Close(within(t, 10*time.Second))
	out := logs.String()
	for _, leak := range []string{testKey, "alice"} { // the key; a property value
		if strings.Contains(out, leak) {
			t.Errorf("log contains %q: %s", leak, out)
		}
		if err != nil && strings.Contains(err.Error(), leak) {
			t.Errorf("Close error contains %q: %v", leak, err)
		}
		for _, r := range c.allReasons() {
			if strings.Contains(r.Error(), leak) {
				t.Errorf("reason contains %q: %v", leak, r)
			}
		}
	}
	reasons := c.allReasons()
	if len(reasons) != 3 {
		t.Fatalf("%d events reported undelivered, want 3", len(reasons))
	}
	var re *ResponseError
	if !errors.As(reasons[0], &re) || re.StatusCode != http.StatusBadRequest {
		t.Errorf("reason %v does not carry the 400 answer", reasons[0])
	}
}

func TestNonUUIDEventIDsAreSentAsStableUUIDs(t *testing.T) {
	f := posthogtest.NewServer(t, func(n int) posthogtest.Answer { return posthogtest.Answer{Status: []int{200, 400}[n%2]} })
	s, c := newTestSink(t, f.URL, WithBatchSize(1))
	ev := tracker.Event{Name: "order_placed", DistinctID: "org_42", UUID: "order-1"}
	// Twice, in two batches: the first is accepted, the second rejected.
	for range 2 {
		if err := s.Write(context.Background(), []tracker.Event{ev}); err != nil {
			t.Fatal(err)
		}
		if err := s.Flush(within(t, 10*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	want := uuid.NewSHA1(uuidv7.LegacySpace, []byte("order-1")).String()
	if acc := f.Accepted(); acc[want] != 1 || len(acc) != 1 {
		t.Errorf("accepted %v, want %s once", acc, want)
	}
	if got := c.uuids(); got["order-1"] != 1 || len(got) != 1 {
		t.Errorf("undelivered %v, want the event under its own ID order-1", got)
	}
}

// An event written without a UUID (the sink used without a tracker) is sent
// with a new one; if it is reported undelivered, it carries that UUID, so
// that a replay of it is deduplicated against a copy PostHog may have
// received after all.
func TestEventWithoutUUIDIsReportedUnderTheUUIDSent(t *testing.T) {
	f := posthogtest.NewServer(t, func(n int) posthogtest.Answer { return posthogtest.Answer{Status: []int{200, 400}[n%2]} })
	s, c := newTestSink(t, f.URL, WithBatchSize(1))
	for range 2 { // the first is accepted, the second rejected
		if err := s.Write(context.Background(), []tracker.Event{{Name: "order_placed", DistinctID: "org_42"}}); err != nil {
			t.Fatal(err)
		}
		if err := s.Flush(within(t, 10*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	reqs, acc, und := f.Requests(), f.Accepted(), c.uuids()
	if len(reqs) != 2 || len(acc) != 1 || len(und) != 1 {
		t.Fatalf("%d requests, accepted %v, undelivered %v", len(reqs), acc, und)
	}
	if rejected := reqs[1].Batch[0]["uuid"].(string); und[rejected] != 1 {
		t.Errorf("undelivered %v, want the event under the UUID it was sent with, %s", und, rejected)
	}
}

func TestSameUUIDWrittenTwiceIsReportedTwice(t *testing.T) {
	f := posthogtest.NewServer(t, posthogtest.Always(http.StatusBadRequest))
	s, c := newTestSink(t, f.URL)
	ev := makeEvents(1)[0]
	if err := s.Write(context.Background(), []tracker.Event{ev, ev}); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(within(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	if got := c.uuids()[ev.UUID]; got != 2 {
		t.Errorf("event reported undelivered %d times, want 2 (it was written twice)", got)
	}
}

func TestWriteWithDoneContextSendsNothing(t *testing.T) {
	f := posthogtest.NewServer(t, nil)
	s, _ := newTestSink(t, f.URL)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Write(ctx, makeEvents(2)); !errors.Is(err, context.Canceled) {
		t.Errorf("Write = %v, want context.Canceled", err)
	}
	if err := s.Close(within(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	if reqs := f.Requests(); len(reqs) != 0 {
		t.Errorf("server got %d requests", len(reqs))
	}
	for name, err := range map[string]error{
		"second Close":         s.Close(context.Background()),
		"Write after Close":    s.Write(context.Background(), makeEvents(1)),
		"Flush after Close":    s.Flush(context.Background()),
		"identify after Close": s.GroupIdentify(context.Background(), "organization", "org_1", nil),
	} {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s = %v, want ErrClosed", name, err)
		}
	}
}

func TestLoggerRedactsKeyAndDropsDebug(t *testing.T) {
	var buf lockedBuffer
	l := newLogger(zerolog.New(&buf).Level(zerolog.DebugLevel), testKey)
	l.Errorf("creating request - bad key %s", testKey)
	l.Warnf("plain warning %d", 7)
	l.Debugf("buffer %v", map[string]any{"user": "alice"})
	l.Warnf("sending request - %s", "an attempt the sink reports itself")
	out := buf.String()
	if strings.Contains(out, testKey) || !strings.Contains(out, "bad key "+redacted) {
		t.Errorf("key not redacted: %s", out)
	}
	if !strings.Contains(out, `"level":"warn","component":"posthog","message":"plain warning 7"`) {
		t.Errorf("warning not logged as expected: %s", out)
	}
	if strings.Contains(out, "alice") || strings.Contains(out, "an attempt") {
		t.Errorf("debug or attempt line logged: %s", out)
	}
	var quiet lockedBuffer
	newLogger(zerolog.New(&quiet).Level(zerolog.ErrorLevel), testKey).Warnf("x")
	if quiet.String() != "" {
		t.Errorf("warning logged below the logger's level: %s", quiet.String())
	}
}

// posthog-go v1.23.1 merges its own properties ($geoip_disable, $is_server,
// $lib, …) into a new map: the sink relies on that to give it the copy it
// keeps for the dead letter. An upgrade that starts writing into the map it
// is given fails here.
func TestEnqueueLeavesPropertiesAlone(t *testing.T) {
	f := posthogtest.NewServer(t, nil)
	c, err := ph.NewWithConfig(testKey, ph.Config{Endpoint: f.URL, Logger: newLogger(zerolog.Nop(), testKey), Interval: time.Millisecond,
		DefaultEventProperties: ph.Properties{propProcessPersonProfile: false}})
	if err != nil {
		t.Fatal(err)
	}
	props := ph.Properties{"user": "alice"}
	groups := ph.Groups{"organization": "org_42"}
	if err := c.Enqueue(ph.Capture{DistinctId: "org_42", Event: "e", Properties: props, Groups: groups}); err != nil {
		t.Fatal(err)
	}
	if err := c.CloseWithContext(within(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(props, ph.Properties{"user": "alice"}) || !reflect.DeepEqual(groups, ph.Groups{"organization": "org_42"}) {
		t.Errorf("posthog-go changed the maps it was given: %v %v", props, groups)
	}
	if msgs := f.Messages(); len(msgs) != 1 {
		t.Errorf("server got %d messages", len(msgs))
	}
}

// boom is a property value whose encoding panics, inside posthog-go's Enqueue.
type boom struct{}

func (boom) MarshalJSON() ([]byte, error) { panic("boom") }

// writeOneUnencodable writes events, of which events[bad] cannot be encoded,
// in one batch and closes s; it checks that Write and Close succeed, and
// that only events[bad] is reported undelivered, once, the rest accepted.
func writeOneUnencodable(t *testing.T, s *Sink, c *collector, f *posthogtest.Server, events []tracker.Event, bad int) {
	t.Helper()
	if err := s.Write(context.Background(), events); err != nil {
		t.Fatalf("Write = %v, want nil: the unencodable event goes to the UndeliveredFunc", err)
	}
	if err := s.Close(within(t, 10*time.Second)); err != nil {
		t.Errorf("Close = %v", err)
	}
	acc, und := assertAccounted(t, events, f, c)
	if acc != len(events)-1 || und != 1 || c.uuids()[events[bad].UUID] != 1 {
		t.Fatalf("accepted %d, undelivered %v; want all accepted but event %d, undelivered", acc, c.uuids(), bad)
	}
}

// An event whose encoding panics in posthog-go is that event's failure only:
// it is reported undelivered once, naming the property, and the rest of the
// batch is sent.
func TestPanickingPropertyFailsOnlyItsEvent(t *testing.T) {
	f := posthogtest.NewServer(t, nil)
	s, c := newTestSink(t, f.URL)
	events := makeEvents(3)
	events[1].Properties = map[string]any{"fine": 1, "v": boom{}}
	writeOneUnencodable(t, s, c, f, events, 1)
	if r := c.allReasons()[0]; !strings.Contains(r.Error(), `"v"`) || !strings.Contains(r.Error(), "panicked") {
		t.Errorf("reason %v, want it to name property \"v\" and the panic", r)
	}
	if st := s.Stats(); st.Sent != 2 || st.Refused != 1 || st.Undelivered != 1 || st.Pending != 0 {
		t.Errorf("Stats = %+v", st)
	}
}
