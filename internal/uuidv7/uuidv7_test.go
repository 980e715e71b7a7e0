package uuidv7

import (
	"regexp"
	"testing"
	"time"

	"github.com/google/uuid"
)

var uuidV7Re = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestFormatKeepsTheRandomBitsAndTime(t *testing.T) {
	ts := time.Date(2026, 11, 28, 10, 15, 3, 0, time.UTC)
	for i := 0; i < 1000; i++ {
		rb := NewRandom()
		s := Format(ts, uint16(i), rb)
		if !uuidV7Re.MatchString(s) {
			t.Fatalf("not a UUIDv7: %q", s)
		}
		// The key is the same before the UUID is formatted and after.
		if got, want := Key(s), Mix(rb); got != want {
			t.Fatalf("Key(%s) = %x, before formatting %x", s, got, want)
		}
	}
	// The timestamp is the first 48 bits, in milliseconds.
	s := Format(ts, 0, 0)
	ms, ok := parseHex(s[:8] + s[9:13])
	if !ok || int64(ms) != ts.UnixMilli() {
		t.Fatalf("timestamp bits of %s = %d, want %d", s, ms, ts.UnixMilli())
	}
}

func TestKeyHashesNonCanonicalUUIDs(t *testing.T) {
	a := Key("order-1")
	b := Key("order-1")
	c := Key("order-2")
	if a != b || a == c {
		t.Fatalf("hash not deterministic or colliding: %x %x %x", a, b, c)
	}
	if a>>RandomBits != 0 {
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

func BenchmarkKey(b *testing.B) {
	var sink uint64
	for b.Loop() {
		sink += Key("0190f3c4-8b2a-7d4e-9f10-3c5a7b9d1e2f")
	}
	_ = sink
}

// UUIDs that differ only in their last bits (a counter in rand_b) must get
// unrelated keys, so that a ratio keeps about half of them at 0.5.
func TestKeySpreadsCountingUUIDs(t *testing.T) {
	kept := 0
	for i := 0; i < 1000; i++ {
		if Key(Format(time.Unix(0, 0), 0, uint64(i))) < 1<<(RandomBits-1) {
			kept++
		}
	}
	if kept < 400 || kept > 600 { // binomial(1000, 0.5): 4 sigma is ±63
		t.Fatalf("kept %d of 1000 counting UUIDs at 0.5", kept)
	}
}

// Format writes what google/uuid reads back: a version 7, RFC 9562 variant
// UUID whose 48 leading bits are the millisecond, whose rand_a is the 12
// bits given and whose last 62 bits are rand_b.
func TestFormatIsAStandardUUIDv7(t *testing.T) {
	ts := time.Date(2026, 11, 28, 10, 15, 3, 123456789, time.UTC)
	for _, c := range []struct {
		randA uint16
		randB uint64
	}{{0, 0}, {0xfff, randBMask}, {0xabc, 0x0123456789abcdef & randBMask}, {0xffff, ^uint64(0)}} {
		s := Format(ts, c.randA, c.randB)
		u, err := uuid.Parse(s)
		if err != nil || u.String() != s || u.Version() != 7 || u.Variant() != uuid.RFC4122 {
			t.Fatalf("Format = %s: %v, version %d, variant %v", s, err, u.Version(), u.Variant())
		}
		if sec, nsec := u.Time().UnixTime(); sec*1000+nsec/1e6 != ts.UnixMilli() {
			t.Errorf("%s: time %d ms, want %d", s, sec*1000+nsec/1e6, ts.UnixMilli())
		}
		if a := uint16(u[6]&0x0f)<<8 | uint16(u[7]); a != c.randA&0xfff {
			t.Errorf("%s: rand_a %x, want %x", s, a, c.randA&0xfff)
		}
		var b uint64
		for _, x := range u[8:] {
			b = b<<8 | uint64(x)
		}
		if b&randBMask != c.randB&randBMask {
			t.Errorf("%s: rand_b %x, want %x", s, b&randBMask, c.randB&randBMask)
		}
	}
}

// SubMillis orders the events of one millisecond: later within it, larger.
func TestSubMillisIsTheFractionOfTheMillisecond(t *testing.T) {
	base := time.Date(2026, 11, 28, 10, 15, 3, 7_000_000, time.UTC)
	prev := -1
	for ns := 0; ns < 1e6; ns += 997 {
		got := int(SubMillis(base.Add(time.Duration(ns))))
		if got < prev || got > 0xfff || got != ns*4096/1e6 {
			t.Fatalf("SubMillis(+%dns) = %d after %d", ns, got, prev)
		}
		prev = got
	}
}
