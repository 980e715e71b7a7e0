package noop_test

import (
	"context"
	"testing"

	"go.uber.org/goleak"

	"github.com/multitrack/multitrack/sinks/noop"
	"github.com/multitrack/multitrack/tracker"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestSinkDiscardsAndLeavesEventsAlone(t *testing.T) {
	props := map[string]any{"rows": 1}
	events := []tracker.Event{{Name: "a", Properties: props}, {Name: "b"}}
	s := noop.New()
	if err := s.Write(context.Background(), events); err != nil {
		t.Fatal(err)
	}
	if len(props) != 1 || props["rows"] != 1 || events[0].Name != "a" {
		t.Fatal("Write modified the batch")
	}
	var zero noop.Sink
	if err := zero.Write(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}
