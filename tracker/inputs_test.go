package tracker_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/multitrack/multitrack/tracker"
	"github.com/multitrack/multitrack/tracker/trackertest"
)

// declaring is a sampler that declares its inputs and records what it saw.
type declaring struct {
	inputs tracker.SampleInput
	keep   func(e tracker.Event) bool

	mu   sync.Mutex
	seen map[string]tracker.Event // by the event's property "i"
}

func (d *declaring) Inputs() tracker.SampleInput { return d.inputs }

func (d *declaring) Sample(e tracker.Event) (bool, float64) {
	d.mu.Lock()
	d.seen[e.Properties["i"].(string)] = e
	d.mu.Unlock()
	return d.keep(e), 1
}

func newDeclaring(in tracker.SampleInput, keep func(tracker.Event) bool) *declaring {
	return &declaring{inputs: in, keep: keep, seen: map[string]tracker.Event{}}
}

// capture100 captures events i=0…99 of organization org_42 (from the
// context) and returns those the sinks got, once all are accounted for.
func capture100(t *testing.T, s tracker.Sampler) (*tracker.Tracker, []tracker.Event) {
	t.Helper()
	tr, rec := trackertest.NewTracker(t, tracker.WithSampler(s))
	ctx := tracker.WithOrganization(context.Background(), "org_42")
	for i := range 100 {
		tr.Capture(ctx, tracker.Event{Name: "e", Properties: map[string]any{"i": fmt.Sprint(i)}})
	}
	if err := tr.Flush(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	return tr, rec.Events()
}

// A sampler that declares it reads no identity decides before Capture
// resolves it: it sees no distinct id and no organization. The events it
// keeps are resolved all the same.
func TestSamplerWithoutIdentityDecidesBeforeItIsResolved(t *testing.T) {
	s := newDeclaring(0, func(e tracker.Event) bool { return e.Properties["i"].(string) < "5" })
	tr, kept := capture100(t, s)
	for i, e := range s.seen {
		if e.DistinctID != "" || len(e.Groups) != 0 || e.UUID != "" {
			t.Fatalf("event %s reached the sampler resolved: %+v", i, e)
		}
	}
	if len(kept) == 0 || len(kept) == 100 {
		t.Fatalf("kept %d of 100", len(kept))
	}
	for _, e := range kept {
		if e.DistinctID != "org_42" || e.Groups[tracker.GroupOrganization] != "org_42" || e.UUID == "" || e.Timestamp.IsZero() {
			t.Fatalf("kept event not resolved: %+v", e)
		}
	}
	if st := tr.Stats(); st.SampledOut+st.Kept != 100 || st.Kept != uint64(len(kept)) {
		t.Fatalf("stats %+v, %d kept", st, len(kept))
	}
}

// A sampler that declares the identity sees it resolved, exactly as Capture
// hands it to the sinks.
func TestSamplerWithIdentitySeesItResolved(t *testing.T) {
	s := newDeclaring(tracker.InputIdentity, func(tracker.Event) bool { return true })
	_, kept := capture100(t, s)
	if len(kept) != 100 {
		t.Fatalf("kept %d of 100", len(kept))
	}
	for i, e := range s.seen {
		if e.DistinctID != "org_42" || e.Groups[tracker.GroupOrganization] != "org_42" {
			t.Fatalf("event %s reached the sampler unresolved: %+v", i, e)
		}
	}
}

// A sampler that declares the key decides on the random bits of the UUID
// the event gets: keeping the events whose key is even keeps exactly the
// events whose UUID's key is even, and the keys differ from event to event.
// One that does not declare it still leaves every kept event a UUID of its
// own.
func TestTheKeyIsDrawnForTheSamplersThatReadIt(t *testing.T) {
	for _, in := range []tracker.SampleInput{tracker.InputKey, tracker.InputKey | tracker.InputIdentity, 0} {
		t.Run(fmt.Sprintf("inputs=%d", in), func(t *testing.T) {
			s := newDeclaring(in, func(e tracker.Event) bool { return in&tracker.InputKey == 0 || e.UUIDRandom()%2 == 0 })
			_, kept := capture100(t, s)
			uuids := map[string]bool{}
			for _, e := range kept {
				uuids[e.UUID] = true
				if in&tracker.InputKey == 0 {
					continue
				}
				if k := e.UUIDRandom(); k%2 != 0 || k != s.seen[e.Properties["i"].(string)].UUIDRandom() {
					t.Fatalf("%s: key %x, the sampler saw %x", e.UUID, k, s.seen[e.Properties["i"].(string)].UUIDRandom())
				}
			}
			if len(uuids) != len(kept) || len(kept) < 20 {
				t.Fatalf("%d distinct UUIDs among %d kept events", len(uuids), len(kept))
			}
			if in&tracker.InputKey != 0 {
				keys := map[uint64]bool{}
				for _, e := range s.seen {
					keys[e.UUIDRandom()] = true
				}
				if len(keys) != 100 {
					t.Fatalf("the sampler saw %d distinct keys for 100 events", len(keys))
				}
			}
		})
	}
}

// InputsOf says what a sampler reads: what it declares, else everything.
func TestInputsOf(t *testing.T) {
	undeclared := tracker.SamplerFunc(func(tracker.Event) (bool, float64) { return true, 1 })
	for _, c := range []struct {
		s    tracker.Sampler
		want tracker.SampleInput
	}{
		{undeclared, tracker.InputAll},
		{newDeclaring(0, nil), 0},
		{newDeclaring(tracker.InputKey, nil), tracker.InputKey},
		{newDeclaring(0xff, nil), tracker.InputAll},
	} {
		if got := tracker.InputsOf(c.s); got != c.want {
			t.Errorf("InputsOf(%T %v) = %d, want %d", c.s, c.s, got, c.want)
		}
	}
}
