package json

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// TestAppendFloatMatchesStrconv: the short-decimal fast path writes
// what strconv's shortest formatting writes (plus ".0" on integers).
func TestAppendFloatMatchesStrconv(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	check := func(f float64) {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return
		}
		got, err := appendFloat(nil, f, 64)
		if err != nil {
			t.Fatal(err)
		}
		want := strconv.FormatFloat(f, 'f', -1, 64)
		if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
			return // exponent form, strconv's path
		}
		if !strings.Contains(want, ".") {
			want += ".0"
		}
		if string(got) != want {
			t.Fatalf("%v (%#x): got %s, want %s", f, math.Float64bits(f), got, want)
		}
	}
	for _, f := range []float64{0.1, 0.2, 0.3, 0.1 + 0.2, 12.5, -12.5, 0.000001, 0.0000015, 1e-7, 999999999999999, 1e15, 1e15 - 0.5, 123456.789, 4503599627370495.5, math.Copysign(0, -1), 1, -1, 0.05, 100.001} {
		check(f)
	}
	for range 200000 {
		digits := rng.IntN(7)
		check(float64(rng.Int64N(2e15)-1e15) / math.Pow(10, float64(digits)))
		check(math.Float64frombits(rng.Uint64()))
		check(rng.NormFloat64() * math.Pow(10, float64(rng.IntN(30)-10)))
	}
}

func BenchmarkAppendObject(b *testing.B) {
	props := map[string]any{"user": "alice", "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "duration_ms": 12.5, "rows": 42, "cached": false}
	groups := map[string]string{"organization": "org_42"}
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = AppendObject(buf[:0], props)
		buf = AppendStringMap(buf, groups)
	}
}
