package trackertest_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/multitrack/multitrack/tracker"
	"github.com/multitrack/multitrack/tracker/trackertest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRecorder(t *testing.T) {
	tr, rec := trackertest.NewTracker(t)
	props := map[string]any{"n": 1}
	tr.Capture(context.Background(), tracker.Event{Name: "a", Properties: props})
	tr.Capture(context.Background(), tracker.Event{Name: "b"})
	tr.Capture(context.Background(), tracker.Event{Name: "a"})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	evs, err := rec.WaitFor(ctx, 3)
	if err != nil || len(evs) != 3 {
		t.Fatalf("WaitFor = %d events, %v", len(evs), err)
	}
	if got := rec.Named("a"); len(got) != 2 || got[0].Properties["n"] != 1 {
		t.Fatalf("Named(a) = %v", got)
	}
	// The recorder keeps copies: changing what it returned changes nothing.
	evs[0].Properties["n"] = 2
	if rec.Named("a")[0].Properties["n"] != 1 {
		t.Fatal("recorder shares maps with its callers")
	}
	rec.Reset()
	if rec.Len() != 0 {
		t.Fatal("Reset kept events")
	}
	short, cancel2 := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel2()
	_, err = rec.WaitFor(short, 1)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "got 0") {
		t.Fatalf("WaitFor on timeout = %v", err)
	}
}

// A Recorder is a sink like any other; trackertest.NewTracker(t) wires one
// into a tracker for a test and closes it when the test ends.
func ExampleRecorder() {
	rec := trackertest.NewRecorder()
	tr, _ := tracker.New(tracker.WithSink("recorder", rec))
	tr.Capture(tracker.WithOrganization(context.Background(), "org_1"), tracker.Event{Name: "signed_up"})
	_ = tr.Close(context.Background())
	for _, e := range rec.Named("signed_up") {
		fmt.Println(e.Name, e.DistinctID, e.Groups["organization"])
	}
	// Output: signed_up org_1 org_1
}
