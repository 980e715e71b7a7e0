package nats

import "testing"

func TestSubjectCovers(t *testing.T) {
	for _, tc := range []struct {
		have, want string
		ok         bool
	}{
		{"multitrack.events.>", "multitrack.events.*", true},
		{"multitrack.events.*", "multitrack.events.*", true},
		{"multitrack.>", "multitrack.events.*", true},
		{">", "multitrack.events.*", true},
		{"*.events.*", "multitrack.events.*", true},
		{"multitrack.events", "multitrack.events.*", false},
		{"multitrack.events.query", "multitrack.events.*", false},
		{"orders.>", "multitrack.events.*", false},
		{"multitrack.events.*.x", "multitrack.events.*", false},
		{"multitrack.events.*", "multitrack.events.>", false},
	} {
		if got := subjectCovers(tc.have, tc.want); got != tc.ok {
			t.Errorf("subjectCovers(%q, %q) = %v, want %v", tc.have, tc.want, got, tc.ok)
		}
	}
}
