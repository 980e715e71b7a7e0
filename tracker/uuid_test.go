package tracker

import (
	"regexp"
	"testing"
	"time"
)

var uuidV7Re = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestUUIDv7RoundTripsRandomBits(t *testing.T) {
	ts := time.Date(2026, 11, 28, 10, 15, 3, 0, time.UTC)
	for i := 0; i < 1000; i++ {
		rb := newUUIDRandom()
		s := formatUUIDv7(ts, uint16(i), rb)
		if !uuidV7Re.MatchString(s) {
			t.Fatalf("not a UUIDv7: %q", s)
		}
		if got := (Event{UUID: s}).UUIDRandom(); got != rb {
			t.Fatalf("UUIDRandom(%s) = %x, want %x", s, got, rb)
		}
		if got := (Event{rnd: rb, hasRnd: true}).UUIDRandom(); got != rb {
			t.Fatalf("pre-format UUIDRandom = %x, want %x", got, rb)
		}
	}
	// The timestamp is the first 48 bits, in milliseconds.
	s := formatUUIDv7(ts, 0, 0)
	ms, ok := parseHex(s[:8] + s[9:13])
	if !ok || int64(ms) != ts.UnixMilli() {
		t.Fatalf("timestamp bits of %s = %d, want %d", s, ms, ts.UnixMilli())
	}
}

func TestUUIDRandomHashesNonCanonical(t *testing.T) {
	a := Event{UUID: "order-1"}.UUIDRandom()
	b := Event{UUID: "order-1"}.UUIDRandom()
	c := Event{UUID: "order-2"}.UUIDRandom()
	if a != b || a == c {
		t.Fatalf("hash not deterministic or colliding: %x %x %x", a, b, c)
	}
	if a>>UUIDRandomBits != 0 {
		t.Fatalf("UUIDRandom out of range: %x", a)
	}
}

func TestParseHex(t *testing.T) {
	for in, want := range map[string]uint64{"0": 0, "ff": 255, "FF": 255, "aB09": 0xab09, "ffffffffffff": 0xffffffffffff} {
		if got, ok := parseHex(in); !ok || got != want {
			t.Errorf("parseHex(%q) = %x, %v", in, got, ok)
		}
	}
	for _, in := range []string{"g", "-", "0x", " 1", "é"} {
		if _, ok := parseHex(in); ok {
			t.Errorf("parseHex(%q) accepted", in)
		}
	}
}

func BenchmarkUUIDRandom(b *testing.B) {
	e := Event{UUID: "0190f3c4-8b2a-7d4e-9f10-3c5a7b9d1e2f"}
	var sink uint64
	for b.Loop() {
		sink += e.UUIDRandom()
	}
	_ = sink
}
