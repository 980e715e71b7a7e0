package posthog

import (
	"context"
	"errors"
	"net"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	ph "github.com/posthog/posthog-go"
	"github.com/rs/zerolog"

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
			f := newFakePostHog(t, always(http.StatusOK))
			s, c := newTestSink(t, f.URL()+"/", WithGzip(gz)) // a trailing slash is fine
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

			reqs, _, _ := f.snapshot()
			for _, r := range reqs {
				if r.APIKey != testKey {
					t.Errorf("api_key = %q", r.APIKey)
				}
				wantEnc := map[bool]string{true: "gzip", false: ""}[gz]
				if r.ContentEncoding != wantEnc || r.Compression != wantEnc {
					t.Errorf("Content-Encoding %q, compression=%q; want %q", r.ContentEncoding, r.Compression, wantEnc)
				}
			}
			msgs := f.messages()
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
			if _, ok := props["$lib_version"]; !ok {
				t.Error("no $lib_version")
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

			st := s.Stats()
			if st.Sent != 2 || st.Undelivered != 0 || st.Pending != 0 {
				t.Errorf("Stats = %+v, want 2 sent", st)
			}
			if len(c.uuids()) != 0 {
				t.Errorf("undelivered: %v", c.uuids())
			}
		})
	}
}

func TestWriteDoesNotMutateCallerMaps(t *testing.T) {
	f := newFakePostHog(t, always(http.StatusOK))
	s, _ := newTestSink(t, f.URL())
	events := makeEvents(6)
	events[1].Properties = nil // posthog-go must not need the caller's map
	before := make([]tracker.Event, len(events))
	for i, e := range events {
		before[i] = retained(e)
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
	if got := len(f.messages()); got != 6 {
		t.Errorf("accepted %d, want 6", got)
	}
}

func TestServerErrorThenOKIsRetriedAndDeliveredOnce(t *testing.T) {
	f := newFakePostHog(t, func(n int) int {
		if n < 2 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	s, c := newTestSink(t, f.URL())
	events := makeEvents(12)
	writeAll(t, s, events, 4)
	if err := s.Flush(within(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(within(t, 10*time.Second)); err != nil {
		t.Fatalf("Close: %v", err)
	}
	acc, und := assertAccounted(t, events, f, c)
	if acc != len(events) || und != 0 {
		t.Errorf("accepted %d, undelivered %d; want all %d accepted", acc, und, len(events))
	}
	st := s.Stats()
	if st.Retries < 1 || st.Sent != uint64(len(events)) || st.Undelivered != 0 {
		t.Errorf("Stats = %+v; want retries ≥ 1 and %d sent", st, len(events))
	}
}

func TestUndeliveredIsReportedNeverLost(t *testing.T) {
	refused := func(t *testing.T) string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		return "http://" + addr
	}
	cases := []struct {
		name        string
		policy      func(int) int // nil: nothing listens
		flush       bool          // let posthog-go report before Close
		closeIn     time.Duration
		wantRetries bool
		wantCause   error
	}{
		{name: "always 503", policy: always(http.StatusServiceUnavailable), flush: true, closeIn: 10 * time.Second, wantRetries: true},
		{name: "400 is not retried", policy: always(http.StatusBadRequest), flush: true, closeIn: 10 * time.Second},
		{name: "connection refused", flush: true, closeIn: 10 * time.Second, wantRetries: true},
		{name: "hangs past the close deadline", policy: always(hang), closeIn: 300 * time.Millisecond, wantCause: context.DeadlineExceeded},
		{name: "some batches rejected", policy: func(n int) int { return []int{200, 400}[n%2] }, flush: true, closeIn: 10 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var f *fakePostHog
			var endpoint string
			if tc.policy != nil {
				f = newFakePostHog(t, tc.policy)
				endpoint = f.URL()
			} else {
				f = newFakePostHog(t, always(http.StatusOK)) // receives nothing
				endpoint = refused(t)
			}
			s, c := newTestSink(t, endpoint)
			events := makeEvents(23)
			writeAll(t, s, events, 7)
			if tc.flush {
				if err := s.Flush(within(t, 10*time.Second)); err != nil {
					t.Fatal(err)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), tc.closeIn)
			defer cancel()
			err := s.Close(ctx)
			acc, und := assertAccounted(t, events, f, c)
			if acc+und != len(events) {
				t.Fatalf("accepted %d + undelivered %d != %d written", acc, und, len(events))
			}
			st := s.Stats()
			if st.Sent != uint64(acc) || st.Undelivered != uint64(und) || st.Pending != 0 {
				t.Errorf("Stats = %+v; server accepted %d, collector got %d", st, acc, und)
			}
			if tc.name != "some batches rejected" && acc != 0 {
				t.Errorf("server accepted %d events", acc)
			}
			// Close's error counts what it could not deliver; what failed
			// before (Flush waited for it) was reported then.
			if tc.flush && err != nil {
				t.Errorf("Close = %v, want nil: nothing was left to deliver", err)
			}
			if !tc.flush && (err == nil || !strings.Contains(err.Error(), "23 events not delivered")) {
				t.Errorf("Close = %v, want an error counting 23 undelivered events", err)
			}
			if tc.wantCause != nil && !errors.Is(err, tc.wantCause) {
				t.Errorf("Close = %v, want it to wrap %v", err, tc.wantCause)
			}
			if tc.wantRetries != (st.Retries > 0) {
				t.Errorf("Retries = %d, want retries: %v", st.Retries, tc.wantRetries)
			}
			for _, r := range c.reasons {
				if r == nil || strings.Contains(r.Error(), testKey) {
					t.Errorf("bad reason %v", r)
				}
			}
		})
	}
}

func TestQueueFullEventsAreReported(t *testing.T) {
	f := newFakePostHog(t, always(http.StatusOK))
	// posthog-go's queue cannot be filled deterministically, so every third
	// Capture meets ErrQueueFull in front of the real client.
	full := func(c ph.Client) enqueuer { return &everyNth{next: c, n: 3, err: ph.ErrQueueFull} }
	t.Run("with an UndeliveredFunc", func(t *testing.T) {
		s, c := newTestSink(t, f.URL())
		s.enqueue = full(s.client)
		events := makeEvents(9)
		if err := s.Write(context.Background(), events); err != nil {
			t.Fatalf("Write = %v, want nil: refused events go to the UndeliveredFunc", err)
		}
		if err := s.Close(within(t, 10*time.Second)); err != nil {
			t.Fatalf("Close: %v", err)
		}
		acc, und := assertAccounted(t, events, f, c)
		if acc != 6 || und != 3 {
			t.Errorf("accepted %d, undelivered %d; want 6, 3", acc, und)
		}
		for _, r := range c.reasons {
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
	t.Run("without, part of the batch refused", func(t *testing.T) {
		var logs lockedBuffer
		s, err := New(testKey, fastOptions(f.URL(), WithLogger(zerolog.New(&logs)))...)
		if err != nil {
			t.Fatal(err)
		}
		s.enqueue = full(s.client)
		defer s.Close(within(t, 10*time.Second))
		if err := s.Write(context.Background(), makeEvents(6)); err != nil {
			t.Errorf("Write = %v, want nil: 4 of 6 events were handed over", err)
		}
		if got := logs.String(); !strings.Contains(got, "2 events refused") || !strings.Contains(got, ph.ErrQueueFull.Error()) {
			t.Errorf("log %q, want the 2 refused events and their cause", got)
		}
		if st := s.Stats(); st.Refused != 2 || st.QueueFull != 2 {
			t.Errorf("Stats = %+v", st)
		}
	})
	t.Run("without, the whole batch refused", func(t *testing.T) {
		s, err := New(testKey, fastOptions(f.URL())...)
		if err != nil {
			t.Fatal(err)
		}
		s.enqueue = &everyNth{next: s.client, n: 1, err: ph.ErrQueueFull}
		defer s.Close(within(t, 10*time.Second))
		err = s.Write(context.Background(), makeEvents(3))
		if !errors.Is(err, ph.ErrQueueFull) || !strings.Contains(err.Error(), "3 events not delivered") {
			t.Errorf("Write = %v, want 3 events refused with ErrQueueFull", err)
		}
		if st := s.Stats(); st.Refused != 3 || st.Pending != 0 {
			t.Errorf("Stats = %+v", st)
		}
	})
}

// everyNth refuses every n-th Capture with err and passes the rest on.
type everyNth struct {
	next enqueuer
	n, i int
	err  error
}

func (e *everyNth) Enqueue(m ph.Message) error {
	if _, ok := m.(ph.Capture); ok {
		e.i++
		if e.i%e.n == 0 {
			return e.err
		}
	}
	return e.next.Enqueue(m)
}

func TestAPIKeyNeverLogged(t *testing.T) {
	f := newFakePostHog(t, always(http.StatusBadRequest)) // echoes the key
	var logs lockedBuffer
	s, c := newTestSink(t, f.URL(), WithLogger(zerolog.New(&logs).Level(zerolog.DebugLevel)))
	events := makeEvents(3)
	writeAll(t, s, events, 3)
	if err := s.Flush(within(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	err := s.Close(within(t, 10*time.Second))
	out := logs.String()
	if !strings.Contains(out, "400") || !strings.Contains(out, "body not logged") {
		t.Errorf("expected the 400 answer logged without its body; got %q", out)
	}
	for _, leak := range []string{testKey, "alice"} { // the key; a property value
		if strings.Contains(out, leak) {
			t.Errorf("log contains %q: %s", leak, out)
		}
		if err != nil && strings.Contains(err.Error(), leak) {
			t.Errorf("Close error contains %q: %v", leak, err)
		}
		for _, r := range c.reasons {
			if strings.Contains(r.Error(), leak) {
				t.Errorf("reason contains %q: %v", leak, r)
			}
		}
	}
	if len(c.reasons) != 3 {
		t.Errorf("%d events reported undelivered, want 3", len(c.reasons))
	}
}

func TestNonUUIDEventIDsAreSentAsStableUUIDs(t *testing.T) {
	f := newFakePostHog(t, func(n int) int { return []int{200, 400}[n%2] })
	s, c := newTestSink(t, f.URL(), WithBatchSize(1))
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
	want := uuid.NewSHA1(legacyUUIDSpace, []byte("order-1")).String()
	_, acc, _ := f.snapshot()
	if acc[want] != 1 || len(acc) != 1 {
		t.Errorf("accepted %v, want %s once", acc, want)
	}
	if got := c.uuids(); got["order-1"] != 1 || len(got) != 1 {
		t.Errorf("undelivered %v, want the event under its own ID order-1", got)
	}
}

// TestEventWithoutUUIDIsReportedUnderTheUUIDSent: an event written without
// a UUID (the sink used without a tracker) is sent with a new one; if it is
// reported undelivered, it carries that UUID, so that a replay of it is
// deduplicated against a copy PostHog may have received after all.
func TestEventWithoutUUIDIsReportedUnderTheUUIDSent(t *testing.T) {
	f := newFakePostHog(t, func(n int) int { return []int{200, 400}[n%2] })
	s, c := newTestSink(t, f.URL(), WithBatchSize(1))
	for range 2 { // the first is accepted, the second rejected
		if err := s.Write(context.Background(), []tracker.Event{{Name: "order_placed", DistinctID: "org_42"}}); err != nil {
			t.Fatal(err)
		}
		if err := s.Flush(within(t, 10*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	reqs, acc, _ := f.snapshot()
	und := c.uuids()
	if len(reqs) != 2 || len(acc) != 1 || len(und) != 1 {
		t.Fatalf("%d requests, accepted %v, undelivered %v", len(reqs), acc, und)
	}
	rejected := reqs[1].Batch[0]["uuid"].(string)
	if und[rejected] != 1 {
		t.Errorf("undelivered %v, want the event under the UUID it was sent with, %s", und, rejected)
	}
}

func TestSameUUIDInFlightTwice(t *testing.T) {
	f := newFakePostHog(t, always(http.StatusBadRequest))
	s, c := newTestSink(t, f.URL())
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

func TestFlushWaitsForReports(t *testing.T) {
	f := newFakePostHog(t, always(hang))
	s, c := newTestSink(t, f.URL())
	writeAll(t, s, makeEvents(4), 4)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := s.Flush(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "4 events") {
		t.Errorf("Flush = %v, want 4 events still waiting and DeadlineExceeded", err)
	}
	if st := s.Stats(); st.Pending != 4 {
		t.Errorf("Pending = %d, want 4", st.Pending)
	}
	closeCtx, cancel2 := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel2()
	if err := s.Close(closeCtx); err == nil {
		t.Error("Close succeeded with a hanging endpoint")
	}
	if got := len(c.uuids()); got != 4 {
		t.Errorf("%d reported undelivered, want 4", got)
	}
}

func TestWriteWithDoneContextSendsNothing(t *testing.T) {
	f := newFakePostHog(t, always(http.StatusOK))
	s, _ := newTestSink(t, f.URL())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Write(ctx, makeEvents(2)); !errors.Is(err, context.Canceled) {
		t.Errorf("Write = %v, want context.Canceled", err)
	}
	if err := s.Close(within(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	if reqs, _, _ := f.snapshot(); len(reqs) != 0 {
		t.Errorf("server got %d requests", len(reqs))
	}
	if err := s.Close(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close = %v, want ErrClosed", err)
	}
	if err := s.Write(context.Background(), makeEvents(1)); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Close = %v, want ErrClosed", err)
	}
}

func TestGroupProperties(t *testing.T) {
	f := newFakePostHog(t, always(http.StatusOK))
	rec := &recorder{}
	s, _ := newTestSink(t, f.URL(), WithGroupProperties(tracker.GroupOrganization, "plan", "region"))
	rec.next, s.enqueue = s.client, rec
	org := func(id string, props map[string]any) tracker.Event {
		return tracker.Event{
			Name: "warehouse_provisioned", DistinctID: id, UUID: sendUUID(""),
			Groups: map[string]string{tracker.GroupOrganization: id}, Properties: props,
		}
	}
	events := []tracker.Event{
		org("org_42", map[string]any{"plan": "pro", "size": 2}),      // identify {plan: pro}
		org("org_42", map[string]any{"plan": "pro", "size": 4}),      // unchanged: none
		org("org_7", map[string]any{"size": 1}),                      // no group properties: none
		org("org_42", map[string]any{"plan": "pro", "region": "eu"}), // identify {plan, region}
		{Name: "cli_started", DistinctID: "standalone", UUID: sendUUID(""), Properties: map[string]any{"plan": "x"}},
	}
	if err := s.Write(context.Background(), events); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(within(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	var identifies []map[string]any
	reqs, _, order := f.snapshot()
	for _, r := range reqs {
		for _, m := range r.Batch {
			if m["event"] == "$groupidentify" {
				identifies = append(identifies, m["properties"].(map[string]any))
			}
		}
	}
	if len(identifies) != 2 {
		t.Fatalf("%d $groupidentify sent, want 2: %v", len(identifies), identifies)
	}
	wantSets := []map[string]any{{"plan": "pro"}, {"plan": "pro", "region": "eu"}}
	for i, p := range identifies {
		if p["$group_type"] != "organization" || p["$group_key"] != "org_42" || !reflect.DeepEqual(p["$group_set"], wantSets[i]) {
			t.Errorf("$groupidentify %d = %v", i, p)
		}
	}
	// Handed to posthog-go in this order (batches may reach the server in
	// any order).
	wantOrder := []string{"$groupidentify", "warehouse_provisioned", "warehouse_provisioned", "warehouse_provisioned",
		"$groupidentify", "warehouse_provisioned", "cli_started"}
	if !reflect.DeepEqual(rec.names, wantOrder) {
		t.Errorf("enqueued %v, want %v", rec.names, wantOrder)
	}
	if len(order) != len(wantOrder) {
		t.Errorf("server accepted %d messages, want %d", len(order), len(wantOrder))
	}
	if st := s.Stats(); st.GroupIdentifies != 2 || st.Sent != uint64(len(events)) || st.GroupIdentifyFailures != 0 {
		t.Errorf("Stats = %+v", st)
	}
}

// recorder notes the event names handed to posthog-go, in order.
type recorder struct {
	next  enqueuer
	names []string
}

func (r *recorder) Enqueue(m ph.Message) error {
	switch m := m.(type) {
	case ph.Capture:
		r.names = append(r.names, m.Event)
	case ph.GroupIdentify:
		r.names = append(r.names, "$groupidentify")
	}
	return r.next.Enqueue(m)
}

func TestLoggerRedactsKeyAndDropsDebug(t *testing.T) {
	var buf lockedBuffer
	l := newLogger(zerolog.New(&buf).Level(zerolog.DebugLevel), testKey)
	l.Errorf("sending request - Post %q: bad key %s", "http://127.0.0.1/batch/", testKey)
	l.Warnf("plain warning %d", 7)
	l.Debugf("buffer %v", map[string]any{"user": "alice"})
	out := buf.String()
	if strings.Contains(out, testKey) || !strings.Contains(out, "bad key "+redacted) {
		t.Errorf("key not redacted: %s", out)
	}
	if !strings.Contains(out, `"level":"warn","component":"posthog","message":"plain warning 7"`) {
		t.Errorf("warning not logged as expected: %s", out)
	}
	if strings.Contains(out, "alice") {
		t.Errorf("debug line logged: %s", out)
	}
	var quiet lockedBuffer
	newLogger(zerolog.New(&quiet).Level(zerolog.ErrorLevel), testKey).Warnf("x")
	if quiet.String() != "" {
		t.Errorf("warning logged below the logger's level: %s", quiet.String())
	}
}

func TestGroupIdentifyFailureIsSentAgain(t *testing.T) {
	f := newFakePostHog(t, always(http.StatusOK))
	s, _ := newTestSink(t, f.URL(), WithGroupProperties(tracker.GroupOrganization, "plan"))
	refuseFirst := &refuseGroupIdentify{next: s.client, left: 1}
	s.enqueue = refuseFirst
	ev := func() tracker.Event {
		return tracker.Event{Name: "warehouse_provisioned", DistinctID: "org_42", UUID: sendUUID(""),
			Groups: map[string]string{tracker.GroupOrganization: "org_42"}, Properties: map[string]any{"plan": "pro"}}
	}
	for range 3 {
		if err := s.Write(context.Background(), []tracker.Event{ev()}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(within(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	// The first $groupidentify was refused, so the second event sends it
	// again; the third has nothing new.
	if refuseFirst.seen != 2 {
		t.Errorf("%d $groupidentify handed over, want 2", refuseFirst.seen)
	}
	if st := s.Stats(); st.GroupIdentifies != 2 || st.GroupIdentifyFailures != 1 || st.Sent != 3 {
		t.Errorf("Stats = %+v", st)
	}
}

// refuseGroupIdentify refuses the first left $groupidentify messages.
type refuseGroupIdentify struct {
	next       enqueuer
	left, seen int
}

func (r *refuseGroupIdentify) Enqueue(m ph.Message) error {
	if _, ok := m.(ph.GroupIdentify); ok {
		r.seen++
		if r.left > 0 {
			r.left--
			return ph.ErrQueueFull
		}
	}
	return r.next.Enqueue(m)
}

// posthog-go v1.23.1 merges its own properties ($geoip_disable, $is_server,
// $lib, …) into a new map: the sink relies on that to give it the copy it
// keeps for the dead letter. An upgrade that starts writing into the map it
// is given fails here.
func TestEnqueueLeavesPropertiesAlone(t *testing.T) {
	f := newFakePostHog(t, always(http.StatusOK))
	c, err := ph.NewWithConfig(testKey, ph.Config{Endpoint: f.URL(), Logger: newLogger(zerolog.Nop(), testKey), Interval: time.Millisecond})
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
	if msgs := f.messages(); len(msgs) != 1 {
		t.Errorf("server got %d messages", len(msgs))
	}
}

// boom is a property value whose encoding panics, inside posthog-go's Enqueue.
type boom struct{}

func (boom) MarshalJSON() ([]byte, error) { panic("boom") }

// writeOneUnencodable writes events, of which events[bad] cannot be encoded,
// in one batch and closes s; it checks that Write and Close succeed, and
// that only events[bad] is reported undelivered, once, the rest accepted.
func writeOneUnencodable(t *testing.T, s *Sink, c *collector, f *fakePostHog, events []tracker.Event, bad int) {
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
	f := newFakePostHog(t, always(http.StatusOK))
	s, c := newTestSink(t, f.URL())
	events := makeEvents(3)
	events[1].Properties = map[string]any{"fine": 1, "v": boom{}}
	writeOneUnencodable(t, s, c, f, events, 1)
	if r := c.reasons[0]; r == nil || !strings.Contains(r.Error(), `"v"`) || !strings.Contains(r.Error(), "panicked") {
		t.Errorf("reason %v, want it to name property \"v\" and the panic", r)
	}
	if st := s.Stats(); st.Sent != 2 || st.Refused != 1 || st.Undelivered != 1 || st.Pending != 0 {
		t.Errorf("Stats = %+v", st)
	}
}

// A group property whose encoding panics fails the $groupidentify and the
// event; the group is identified again with the next event carrying it.
func TestPanickingGroupPropertyIsSentAgainLater(t *testing.T) {
	f := newFakePostHog(t, always(http.StatusOK))
	s, c := newTestSink(t, f.URL(), WithGroupProperties(tracker.GroupOrganization, "plan"))
	events := makeEvents(3) // events 0 and 2 are for org_42
	events[0].Properties = map[string]any{"plan": boom{}}
	events[2].Properties = map[string]any{"plan": "pro"}
	writeOneUnencodable(t, s, c, f, events, 0)
	var identified []any
	for _, m := range f.messages() {
		if m["event"] == "$groupidentify" {
			identified = append(identified, m["properties"].(map[string]any)["$group_set"])
		}
	}
	if !reflect.DeepEqual(identified, []any{map[string]any{"plan": "pro"}}) {
		t.Errorf("$groupidentify sent with %v, want one with plan pro", identified)
	}
	if st := s.Stats(); st.GroupIdentifies != 2 || st.GroupIdentifyFailures != 1 {
		t.Errorf("Stats = %+v", st)
	}
}
