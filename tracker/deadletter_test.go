package tracker_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/multitrack/multitrack/eventline"
	"github.com/multitrack/multitrack/tracker"
)

func TestNewChecksTheDeadLetterPath(t *testing.T) {
	file := filepath.Join(t.TempDir(), "plain")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := tracker.New(tracker.WithDeadLetter(filepath.Join(file, "dead.jsonl")))
	if err == nil || !strings.Contains(err.Error(), "dead letter") || !strings.Contains(err.Error(), "not a directory") {
		t.Fatalf("New = %v", err)
	}
	good := filepath.Join(t.TempDir(), "dl", "dead.jsonl")
	tr := mustNew(t, tracker.WithDeadLetter(good))
	closeT(t, tr)
	if fi, err := os.Stat(good); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("dead letter not created 0600 by New: %v %v", fi, err)
	}
}

func TestUndeliveredReporterGoesToDeadLetter(t *testing.T) {
	dl := filepath.Join(t.TempDir(), "dead.jsonl")
	s := &reportingSink{}
	tr := mustNew(t, tracker.WithSink("ph", s, tracker.WithBatchSize(10)), tracker.WithDeadLetter(dl))
	for i := 0; i < 100; i++ {
		tr.Capture(context.Background(), tracker.Event{Name: "e"})
	}
	closeUndelivered(t, tr, "ph", 50)
	st := tr.Stats().Sinks["ph"]
	if st.Undelivered != 50 || st.DeadLettered != 50 || st.Delivered != 100 {
		t.Fatalf("stats = %+v", st)
	}
	if got := len(readLines(t, dl)); got != 50 {
		t.Fatalf("dead letter has %d lines", got)
	}
}

type panicMarshaler struct{}

func (panicMarshaler) MarshalJSON() ([]byte, error) { panic("MarshalJSON bug") }

// laterPanicMarshaler encodes on its first call and panics after.
type laterPanicMarshaler struct{ calls atomic.Int32 }

func (m *laterPanicMarshaler) MarshalJSON() ([]byte, error) {
	if m.calls.Add(1) == 1 {
		return []byte(`"ok"`), nil
	}
	panic("MarshalJSON bug")
}

// A value whose MarshalJSON panics is rejected on the caller; one that
// panics only later, when the dead letter encodes it after the sink failed,
// does not take the worker (and the process) down: it is counted as lost.
func TestAValueThatPanicsOnlyInTheDeadLetterIsCountedLost(t *testing.T) {
	dl := filepath.Join(t.TempDir(), "dl.jsonl")
	tr := mustNew(t, tracker.WithSink("s", failingSink{}), tracker.WithDeadLetter(dl))
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

// When the dead letter cannot be written (its directory was replaced by a
// file after New checked it), Close's error says how many events were
// lost, and why.
func TestCloseNamesADeadLetterItCouldNotWrite(t *testing.T) {
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

// A torn last line (a crash mid-write) is cut off before the dead letter is
// appended to, so that new lines are not glued to the fragment.
func TestDeadLetterCutsATornLastLineBeforeAppending(t *testing.T) {
	dl := filepath.Join(t.TempDir(), "dl.jsonl")
	if err := os.WriteFile(dl, []byte(`{"uuid":"0190f3c4-0000-7000-8000-000000000001","event":"old","distinct_id":"x","timestamp":"2026-11-28T10:15:03.123456Z","properties":{"a":`), 0o600); err != nil {
		t.Fatal(err)
	}
	tr := mustNew(t, tracker.WithSink("s", failingSink{}), tracker.WithDeadLetter(dl))
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
