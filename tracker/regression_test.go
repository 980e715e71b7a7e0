package tracker_test

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/multitrack/multitrack/eventline"
	"github.com/multitrack/multitrack/internal/secret"
	"github.com/multitrack/multitrack/tracker"
	"github.com/multitrack/multitrack/tracker/trackertest"
)

type panicMarshaler struct{}

func (panicMarshaler) MarshalJSON() ([]byte, error) { panic("MarshalJSON bug") }

type failSink struct{}

func (failSink) Write(context.Context, []tracker.Event) error { return errors.New("backend down") }
func (failSink) Close(context.Context) error                  { return nil }

// A value whose MarshalJSON panics is rejected on the caller; one that
// panics only later, when the dead letter encodes it after the sink failed,
// must not take the worker (and the process) down: it is counted as lost.
func TestRegressionPanickingMarshalerCrashesProcessViaDeadLetter(t *testing.T) {
	dl := filepath.Join(t.TempDir(), "dl.jsonl")
	tr := mustNew(t, tracker.WithSink("s", failSink{}), tracker.WithDeadLetter(dl))
	tr.Capture(context.Background(), tracker.Event{Name: "now", Properties: map[string]any{"v": panicMarshaler{}}})
	tr.Capture(context.Background(), tracker.Event{Name: "later", Properties: map[string]any{"v": &laterPanicMarshaler{}}})
	_ = tr.Flush(ctxT(t))
	err := tr.Close(ctxT(t))
	s := tr.Stats()
	var ue *tracker.UndeliveredError
	if s.Rejected.Unencodable != 1 || s.DeadLetterErrors != 1 || !errors.As(err, &ue) || ue.Count != 1 || ue.DeadLettered != 0 {
		t.Fatalf("stats %+v, Close %v", s, err)
	}
}

// laterPanicMarshaler encodes on its first call and panics after.
type laterPanicMarshaler struct{ calls atomic.Int32 }

func (m *laterPanicMarshaler) MarshalJSON() ([]byte, error) {
	if m.calls.Add(1) == 1 {
		return []byte(`"ok"`), nil
	}
	panic("MarshalJSON bug")
}

// sink whose Write holds until its ctx is cancelled, then fails.
type ctxSink struct {
	entered chan struct{}
	once    sync.Once
}

func (s *ctxSink) Write(ctx context.Context, _ []tracker.Event) error {
	s.once.Do(func() { close(s.entered) })
	<-ctx.Done()
	return ctx.Err()
}
func (s *ctxSink) Close(context.Context) error { return nil }

// UndeliveredError.DeadLettered underflows (uint64 - rest) to a negative number.
func TestRegressionDeadLetteredUnderflow(t *testing.T) {
	s := &ctxSink{entered: make(chan struct{})}
	tr := mustNew(t, tracker.WithSink("s", s, tracker.WithBatchSize(1), tracker.WithFlushInterval(time.Millisecond)))
	for i := 0; i < 5; i++ {
		tr.Capture(context.Background(), tracker.Event{Name: "e"})
	}
	<-s.entered
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	err := tr.Close(ctx)
	// search all joined errors
	var walk func(error)
	walk = func(e error) {
		if u, ok := e.(*tracker.UndeliveredError); ok && u.DeadLettered < 0 {
			t.Errorf("UndeliveredError %+v: DeadLettered is negative", *u)
		}
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
		} else if x := errors.Unwrap(e); x != nil {
			walk(x)
		}
	}
	walk(err)
}

type slowSink struct {
	d       time.Duration
	entered chan struct{}
	once    sync.Once
}

func (s *slowSink) Write(ctx context.Context, _ []tracker.Event) error {
	if s.entered != nil {
		s.once.Do(func() { close(s.entered) })
	}
	time.Sleep(s.d)
	return nil
}
func (s *slowSink) Close(context.Context) error { return nil }

// under Block, every broadcast restarts the timer: a Capture's total wait
// is not bounded by the block timeout.
func TestRegressionBlockWaitUnbounded(t *testing.T) {
	const timeout = 20 * time.Millisecond
	tr := mustNew(t, tracker.WithSink("s", &slowSink{d: 5 * time.Millisecond}, tracker.WithQueueSize(1), tracker.WithBatchSize(1), tracker.WithOverflow(tracker.Block), tracker.WithBlockTimeout(timeout)))
	var max atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < 32; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				start := time.Now()
				tr.Capture(context.Background(), tracker.Event{Name: "e"})
				d := int64(time.Since(start))
				for {
					m := max.Load()
					if d <= m || max.CompareAndSwap(m, d) {
						break
					}
				}
			}
		}()
	}
	wg.Wait()
	closeT(t, tr)
	if m := time.Duration(max.Load()); m > 25*timeout { // the defect was seconds
		t.Errorf("a Capture blocked %v; block timeout is %v", m, timeout)
	}
}

// a Capture blocked for space is woken only when the whole Write returns,
// not when the worker empties the ring: it is dropped though the queue is empty.
func TestRegressionBlockNotWokenWhenRingEmptied(t *testing.T) {
	s := &slowSink{d: 600 * time.Millisecond, entered: make(chan struct{})}
	tr := mustNew(t, tracker.WithSink("s", s, tracker.WithQueueSize(4), tracker.WithBatchSize(4), tracker.WithOverflow(tracker.Block), tracker.WithBlockTimeout(300*time.Millisecond)))
	for i := 0; i < 4; i++ {
		tr.Capture(context.Background(), tracker.Event{Name: "e"})
	}
	tr.Capture(context.Background(), tracker.Event{Name: "e"}) // waits: the ring is full until the worker takes it
	st := tr.Stats().Sinks["s"]
	closeT(t, tr)
	if st.Dropped.QueueFull != 0 {
		t.Errorf("dropped %d under Block though the worker emptied the ring within microseconds (queued=%d)", st.Dropped.QueueFull, st.Queued)
	}
}

// a second Close ignores its own ctx and waits as long as the first.
func TestRegressionSecondCloseIgnoresItsContext(t *testing.T) {
	s := &ctxSink{entered: make(chan struct{})}
	tr := mustNew(t, tracker.WithSink("s", s, tracker.WithFlushInterval(time.Millisecond)))
	tr.Capture(context.Background(), tracker.Event{Name: "e"})
	<-s.entered
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		tr.Close(ctx)
	}()
	time.Sleep(20 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	tr.Close(ctx)
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("second Close with a 20ms deadline took %v", d)
	}
}

type deafCloseSink struct{ release chan struct{} }

func (deafCloseSink) Write(context.Context, []tracker.Event) error { return nil }
func (s deafCloseSink) Close(context.Context) error                { <-s.release; return nil }

// A sink whose Close ignores ctx must not keep tracker.Close past its
// deadline: Close returns, naming it, while the sink's Close still blocks.
func TestRegressionSinkCloseIgnoringCtxOverrunsDeadline(t *testing.T) {
	s := deafCloseSink{release: make(chan struct{})}
	tr := mustNew(t, tracker.WithSink("s", s))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := tr.Close(ctx) // returns although s.Close has not
	close(s.release)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), `sink "s": Close still running`) {
		t.Errorf("Close = %v", err)
	}
}

// redaction misses plural/digit-suffixed keys and nested maps.
func TestRegressionRedactionGaps(t *testing.T) {
	for _, k := range []string{"password2", "passwords", "secrets", "tokens", "apiKeys", "api_keys", "dbPassword1", "cookies"} {
		if !secret.Default().Match(k) {
			t.Errorf("IsSecretKey(%q) = false", k)
		}
	}
	tr, rec := trackertest.NewTracker(t)
	tr.Capture(context.Background(), tracker.Event{Name: "e", Properties: map[string]any{"db": map[string]any{"password": "hunter2"}, "conn": map[string]string{"dsn": "postgres://u:pw@h"}}})
	evs, _ := rec.WaitFor(ctxT(t), 1)
	if db, _ := evs[0].Properties["db"].(map[string]any); db["password"] != nil {
		t.Errorf("nested secret delivered to the sink: %v", evs[0].Properties)
	}
}

type flakyFlusher struct {
	trackertest.Recorder
	calls atomic.Int32
}

func (f *flakyFlusher) Flush(context.Context) error {
	if f.calls.Add(1) == 1 {
		return errors.New("transient")
	}
	return nil
}

// Flush returns the previous flush error without retrying the sink.
func TestRegressionFlushReturnsStaleError(t *testing.T) {
	f := &flakyFlusher{}
	tr := mustNew(t, tracker.WithSink("f", f))
	tr.Capture(context.Background(), tracker.Event{Name: "e"})
	err1 := tr.Flush(ctxT(t))
	err2 := tr.Flush(ctxT(t))
	closeT(t, tr)
	if err1 == nil || err2 != nil {
		t.Errorf("first Flush %v, second Flush %v (sink Flush called %d times)", err1, err2, f.calls.Load())
	}
}

// R3b: same with a dead-letter path that cannot be opened.
func TestRegressionDeadLetteredUnderflowMessage(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "sub")
	s := &ctxSink{entered: make(chan struct{})}
	tr := mustNew(t, tracker.WithSink("s", s, tracker.WithBatchSize(1), tracker.WithFlushInterval(time.Millisecond)), tracker.WithDeadLetter(filepath.Join(sub, "dl.jsonl")))
	// The dead-letter directory is replaced by a file after New checked it.
	if err := os.RemoveAll(sub); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sub, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		tr.Capture(context.Background(), tracker.Event{Name: "e"})
	}
	<-s.entered
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	err := tr.Close(ctx)
	var ue *tracker.UndeliveredError
	if !errors.As(err, &ue) || ue.Count != 5 || ue.DeadLettered != 0 || !strings.Contains(err.Error(), "(0 written to dead letter") || !strings.Contains(err.Error(), "5 lost: dead letter") || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("Close error: %v", err)
	}
}

// a json.Marshaler (json.RawMessage included) is sized 32 bytes whatever
// it encodes to: a 2 MiB RawMessage passes the 32 KiB limit, then no line
// encoder (file sink, dead letter) can write it.
func TestRegressionRawMessageBypassesMaxEventSize(t *testing.T) {
	tr, rec := trackertest.NewTracker(t)
	big := json.RawMessage(`"` + strings.Repeat("x", 2<<20) + `"`)
	tr.Capture(context.Background(), tracker.Event{Name: "e", Properties: map[string]any{"payload": big}})
	_ = tr.Flush(ctxT(t))
	s := tr.Stats()
	if s.Rejected.TooLarge != 1 {
		evs := rec.Events()
		_, err := eventline.Append(nil, &evs[0])
		t.Errorf("2 MiB event kept (too_large=%d); AppendEventLine on it: %v", s.Rejected.TooLarge, err)
	}
}

// an event that already carries $sample_rate (e.g. replayed from a dead
// letter) gets it overwritten by the tracker's rate instead of multiplied.
func TestRegressionSampleRateOverwritten(t *testing.T) {
	tr, rec := trackertest.NewTracker(t, tracker.WithSampler(tracker.SamplerFunc(func(tracker.Event) (bool, float64) { return true, 0.5 })))
	tr.Capture(context.Background(), tracker.Event{Name: "e", Properties: map[string]any{tracker.PropSampleRate: 0.1}})
	evs, _ := rec.WaitFor(ctxT(t), 1)
	if got := evs[0].Properties[tracker.PropSampleRate]; got != 0.05 {
		t.Errorf("$sample_rate = %v, want 0.05 (0.1 x 0.5)", got)
	}
}

// a sampler's panic value is logged verbatim; it can carry a property value.
func TestRegressionSamplerPanicLogsPropertyValue(t *testing.T) {
	var buf safeBuffer
	tr := mustNew(t, tracker.WithLogger(zerolog.New(&buf)), tracker.WithSampler(tracker.SamplerFunc(func(e tracker.Event) (bool, float64) {
		n, err := strconv.Atoi(e.Properties["tenant"].(string))
		if err != nil {
			panic(err)
		}
		return n%2 == 0, 0.5
	})))
	tr.Capture(context.Background(), tracker.Event{Name: "e", Properties: map[string]any{"tenant": "alice@example.com"}})
	closeT(t, tr)
	if strings.Contains(buf.String(), "alice@example.com") {
		t.Errorf("log carries a property value: %s", buf.String())
	}
}

// under Block, a cancelled Capture ctx (a finished request) drops at once,
// though Capture's doc says ctx is for enrichment only.
func TestRegressionBlockUsesCallerCtx(t *testing.T) {
	s := &slowSink{d: 20 * time.Millisecond}
	tr := mustNew(t, tracker.WithSink("s", s, tracker.WithQueueSize(1), tracker.WithBatchSize(1), tracker.WithOverflow(tracker.Block), tracker.WithBlockTimeout(time.Second)))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for i := 0; i < 20; i++ {
		tr.Capture(ctx, tracker.Event{Name: "e"})
	}
	closeT(t, tr)
	if d := tr.Stats().Sinks["s"].Dropped.QueueFull; d != 0 {
		t.Errorf("Block with a 1s timeout dropped %d events because the request ctx was cancelled", d)
	}
}

func TestRegressionZeroTrackerRejects(t *testing.T) {
	var tr tracker.Tracker
	tr.Capture(context.Background(), tracker.Event{})
	tr.Capture(context.Background(), tracker.Event{Name: "x", Properties: map[string]any{"f": func() {}}})
	tr.Capture(context.Background(), tracker.Event{Name: "x", Properties: map[string]any{"password": "p"}})
	if err := tr.Flush(context.Background()); err != nil {
		t.Error(err)
	}
	tr.Close(context.Background())
	tr.Close(context.Background())
	tr.Capture(context.Background(), tracker.Event{Name: "x"})
	t.Logf("%+v", tr.Stats())
}

type countSink struct {
	n     atomic.Int64
	delay time.Duration
}

func (s *countSink) Write(ctx context.Context, evs []tracker.Event) error {
	if s.delay > 0 {
		select {
		case <-time.After(s.delay):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.n.Add(int64(len(evs)))
	return nil
}
func (s *countSink) Close(context.Context) error { return nil }

func TestRegressionStressCloseRace(t *testing.T) {
	for iter := 0; iter < 8; iter++ {
		a, b, c := &countSink{}, &countSink{delay: time.Millisecond}, &countSink{delay: 100 * time.Microsecond}
		dl := filepath.Join(t.TempDir(), "dl")
		tr := mustNew(t,
			tracker.WithSampler(rateSampler{0.7}),
			tracker.WithSink("a", a, tracker.WithQueueSize(8), tracker.WithBatchSize(3), tracker.WithFlushInterval(time.Millisecond)),
			tracker.WithSink("b", b, tracker.WithQueueSize(16), tracker.WithOverflow(tracker.DropOldest), tracker.WithBatchSize(4)),
			tracker.WithSink("c", c, tracker.WithQueueSize(4), tracker.WithOverflow(tracker.Block), tracker.WithBlockTimeout(time.Millisecond), tracker.WithSinkSampler(rateSampler{0.5})),
			tracker.WithDeadLetter(dl),
		)
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					tr.Capture(context.Background(), tracker.Event{Name: "e"})
					if i%50 == 0 {
						fctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
						tr.Flush(fctx)
						cancel()
					}
				}
			}()
		}
		time.Sleep(time.Duration(iter%5+1) * 3 * time.Millisecond)
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(iter%3)*2*time.Millisecond)
		tr.Close(ctx)
		cancel()
		close(stop)
		wg.Wait()
		time.Sleep(200 * time.Millisecond) // late writes
		s := tr.Stats()
		checkStatsAddUp(t, s)
		if got := uint64(a.n.Load()); got != s.Sinks["a"].Delivered {
			t.Errorf("a: sink saw %d, delivered %d", got, s.Sinks["a"].Delivered)
		}
		if t.Failed() {
			t.Logf("%+v", s)
			return
		}
	}
}

// the dead-letter file is appended to without ending a torn last line
// (a crash mid-write) first: the next event is glued to the fragment, and the
// file now has a bad line in the middle: both events lost, reader errors.
func TestRegressionDeadLetterAppendsAfterTornLine(t *testing.T) {
	dl := filepath.Join(t.TempDir(), "dl.jsonl")
	if err := os.WriteFile(dl, []byte(`{"uuid":"0190f3c4-0000-7000-8000-000000000001","event":"old","distinct_id":"x","timestamp":"2026-11-28T10:15:03.123456Z","properties":{"a":`), 0o600); err != nil {
		t.Fatal(err)
	}
	tr := mustNew(t, tracker.WithSink("s", failSink{}), tracker.WithDeadLetter(dl))
	tr.Capture(context.Background(), tracker.Event{Name: "new1"})
	_ = tr.Flush(ctxT(t))
	tr.Capture(context.Background(), tracker.Event{Name: "new2"})
	_ = tr.Close(ctxT(t))
	evs, warns, err := eventline.ReadFile(dl)
	names := []string{}
	for _, e := range evs {
		names = append(names, e.Name)
	}
	if err != nil || len(evs) != 2 {
		t.Errorf("read back %v, warnings %v, err %v", names, warns, err)
	}
}

// Secrets nested in typed containers and structs are removed too, and
// redaction visits each value once: 30 levels of nesting (2^30 visits when
// it did not) are redacted at once.
func TestRegressionNestedSecretsEverywhere(t *testing.T) {
	type creds struct {
		User     string
		Password string `json:"password"`
		Note     string `json:"-"`
	}
	deep := map[string]any{"password": "hunter2"}
	for i := 0; i < 30; i++ {
		deep = map[string]any{"a": deep}
	}
	tr, rec := trackertest.NewTracker(t)
	tr.Capture(context.Background(), tracker.Event{Name: "e", Properties: map[string]any{
		"list":    []map[string]any{{"password": "hunter2", "ok": 1}},
		"headers": map[string]map[string]string{"h": {"Authorization": "hunter2", "Accept": "json"}},
		"creds":   creds{User: "u", Password: "hunter2"},
		"deep":    deep,
		"token":   map[string]any{"password": "x", "api_key": "y"}, // one secret key, its contents go with it
	}})
	evs, err := rec.WaitFor(ctxT(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	var line []byte
	if line, err = eventline.Append(nil, &evs[0]); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(line), "hunter2") || !strings.Contains(string(line), `"Accept":"json"`) || !strings.Contains(string(line), `"User":"u"`) {
		t.Fatalf("event line %s", line)
	}
	if s := tr.Stats(); s.Redacted != 5 {
		t.Fatalf("Redacted = %d, want 5 (list, headers, creds, deep, token)", s.Redacted)
	}
}

func TestRegressionNilContextAndLargeUnsigned(t *testing.T) {
	tr, rec := trackertest.NewTracker(t)
	tr.Capture(context.Background(), tracker.Event{Name: "e", Properties: map[string]any{"big": uint64(1<<64 - 1)}})
	//lint:ignore SA1012 Flush and Close must tolerate a nil context
	if err := tr.Flush(nil); err != nil {
		t.Fatal(err)
	}
	evs := rec.Events()
	line, err := eventline.Append(nil, &evs[0])
	if err != nil {
		t.Fatal(err)
	}
	back, err := eventline.Parse(line[:len(line)-1])
	if err != nil || back.Properties["big"] != uint64(1<<64-1) {
		t.Fatalf("%s read back as %#v (%v)", line, back.Properties["big"], err)
	}
	//lint:ignore SA1012 Flush and Close must tolerate a nil context
	if err := tr.Close(nil); err != nil {
		t.Fatal(err)
	}
}
