package tracker_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/multitrack/multitrack/tracker"
	"github.com/multitrack/multitrack/tracker/trackertest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func mustNew(t *testing.T, opts ...tracker.Option) *tracker.Tracker {
	t.Helper()
	tr, err := tracker.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// closeUndelivered closes tr and checks that the error names exactly the
// given sink's undelivered events.
func closeUndelivered(t *testing.T, tr *tracker.Tracker, sink string, count int) {
	t.Helper()
	err := tr.Close(ctxT(t))
	var ue *tracker.UndeliveredError
	if !errors.As(err, &ue) || ue.Sink != sink || ue.Count != count {
		t.Fatalf("Close = %v, want %d undelivered events of sink %q", err, count, sink)
	}
}

func closeT(t *testing.T, tr *tracker.Tracker) {
	t.Helper()
	if err := tr.Close(ctxT(t)); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func readLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("bad line %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

func checkStatsAddUp(t *testing.T, s tracker.Stats) {
	t.Helper()
	if s.Captured != s.SampledOut+s.Rejected.Total()+s.Kept+s.Panics {
		t.Errorf("captured %d != sampled out %d + rejected %d + kept %d + panics %d", s.Captured, s.SampledOut, s.Rejected.Total(), s.Kept, s.Panics)
	}
	for name, ss := range s.Sinks {
		if ss.Received != s.Kept {
			t.Errorf("%s: received %d != kept %d", name, ss.Received, s.Kept)
		}
		if got := ss.SampledOut + ss.Delivered + ss.Failed + ss.Dropped.Total() + uint64(ss.Queued); got != ss.Received {
			t.Errorf("%s: sampled out %d + delivered %d + failed %d + dropped %+v + queued %d = %d != received %d",
				name, ss.SampledOut, ss.Delivered, ss.Failed, ss.Dropped, ss.Queued, got, ss.Received)
		}
	}
}

// blockingSink blocks in Write until release is closed or ctx ends.
type blockingSink struct {
	release chan struct{}
	entered chan struct{}
	once    sync.Once
	writes  atomic.Int64
	closed  atomic.Bool
}

func (s *blockingSink) Write(ctx context.Context, evs []tracker.Event) error {
	s.once.Do(func() { close(s.entered) })
	select {
	case <-s.release:
		s.writes.Add(int64(len(evs)))
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *blockingSink) Close(context.Context) error { s.closed.Store(true); return nil }

type failingSink struct{ closeErr error }

func (failingSink) Write(context.Context, []tracker.Event) error { return errors.New("disk full") }

func (s failingSink) Close(context.Context) error { return s.closeErr }

// gatedRecorder holds every Write until gate is closed.
type gatedRecorder struct {
	trackertest.Recorder
	gate chan struct{}
}

func (r *gatedRecorder) Write(ctx context.Context, evs []tracker.Event) error {
	<-r.gate
	return r.Recorder.Write(ctx, evs)
}

type rateSampler struct{ rate float64 }

func (s rateSampler) Sample(e tracker.Event) (bool, float64) {
	return e.UUIDRandom() < uint64(s.rate*float64(uint64(1)<<62)), s.rate
}

func newBlockingSink() *blockingSink {
	return &blockingSink{release: make(chan struct{}), entered: make(chan struct{})}
}

var errHTTP400 = errors.New("HTTP 400")

// reportingSink accepts every batch, then reports every other event as
// undelivered, as an asynchronous client does.
type reportingSink struct {
	trackertest.Recorder
	report tracker.UndeliveredFunc
}

func (s *reportingSink) SetUndelivered(f tracker.UndeliveredFunc) { s.report = f }

func (s *reportingSink) Write(ctx context.Context, evs []tracker.Event) error {
	var bad []tracker.Event
	for i, e := range evs {
		if i%2 == 1 {
			bad = append(bad, e)
		}
	}
	s.report(bad, errHTTP400)
	return s.Recorder.Write(ctx, evs)
}

// deafSink's Write ignores its context until released.
type deafSink struct {
	entered, release, closed chan struct{}
}

func (s *deafSink) Write(context.Context, []tracker.Event) error {
	select {
	case s.entered <- struct{}{}:
	default:
	}
	<-s.release
	return nil
}

func (s *deafSink) Close(context.Context) error { close(s.closed); return nil }

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
