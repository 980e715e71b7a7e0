package json

import (
	"bytes"
	stdjson "encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// checkFloat refuses NaN and ±Inf, which JSON cannot carry.
func checkFloat(f float64) error {
	if math.IsNaN(f) {
		return problem("NaN")
	}
	if math.IsInf(f, 0) {
		return problem(strconv.FormatFloat(f, 'g', -1, 64))
	}
	return nil
}

// appendFloat writes f the way encoding/json does (shortest representation,
// exponent form below 1e-6 and from 1e21), plus ".0" on integral values so
// that they read back as floats.
func appendFloat(dst []byte, f float64, bits int) ([]byte, error) {
	if err := checkFloat(f); err != nil {
		return dst, err
	}
	if bits == 64 {
		if out, ok := appendShortDecimal(dst, f); ok {
			return out, nil
		}
	}
	start := len(dst)
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21)) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, bits)
	if format == 'e' {
		// 1e-07 -> 1e-7, as JavaScript and encoding/json write it.
		if n := len(dst); n-start >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
		return dst, nil
	}
	for _, c := range dst[start:] {
		if c == '.' {
			return dst, nil
		}
	}
	return append(dst, '.', '0'), nil
}

// pow10 holds the scales appendShortDecimal tries.
var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6}

// appendShortDecimal writes the common floats, those with at most 6
// decimals and under 1e15 in magnitude (12.5, 0.01, 3.0), without
// strconv's shortest-digits search. It finds decimals k such that
// m = f·10^k is an integer and m/10^k == f (both operations correctly
// rounded), so that the k-decimal string m·10^-k reads back as f. Below 1e15
// the gap between floats is under 10^-k, so that string is the only one of k
// decimals that does; without its trailing zeros it is the shortest, the one
// strconv gives. It reports false for any other f.
func appendShortDecimal(dst []byte, f float64) ([]byte, bool) {
	if f == 0 || f >= 1e15 || f <= -1e15 {
		return dst, false // zero keeps its sign through strconv
	}
	for k, p := range pow10 {
		m := f * p
		if m != math.Trunc(m) {
			continue
		}
		if m >= 1e15 || m <= -1e15 || m/p != f {
			return dst, false
		}
		n := int64(m)
		if n < 0 {
			dst = append(dst, '-')
			n = -n
		}
		// f·10^j for j < k may have missed an integer by a rounding: drop
		// the zeros that leaves at the end.
		for k > 0 && n%10 == 0 {
			n /= 10
			k--
			p = pow10[k]
		}
		if k == 0 {
			dst = strconv.AppendInt(dst, n, 10)
			return append(dst, '.', '0'), true
		}
		whole, frac := n/int64(p), n%int64(p)
		dst = strconv.AppendInt(dst, whole, 10)
		dst = append(dst, '.')
		for q := int64(p) / 10; q > frac && q > 1; q /= 10 {
			dst = append(dst, '0')
		}
		return strconv.AppendInt(dst, frac, 10), true
	}
	return dst, false
}

// isNumber reports whether s matches JSON's number grammar.
func isNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
			n++
		}
		return n
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

// entry is a map entry, gathered so that entries can be written in key
// order without a second lookup.
type entry[V any] struct {
	k string
	v V
}

// smallMap is the most entries sortSmall sorts on the stack.
const smallMap = 16

// sortSmall gathers the entries of m, which has at most smallMap of them,
// into buf (the caller's, on its stack), sorted by key, and returns them.
func sortSmall[V any](m map[string]V, buf *[smallMap]entry[V]) []entry[V] {
	n := 0
	for k, v := range m {
		buf[n] = entry[V]{k, v}
		n++
	}
	e := buf[:n]
	// Insertion sort: the maps are small, and it needs no closure.
	for i := 1; i < len(e); i++ {
		for j := i; j > 0 && less(e[j].k, e[j-1].k); j-- {
			e[j], e[j-1] = e[j-1], e[j]
		}
	}
	return e
}

// less is a < b, deciding on the first bytes without a call when they
// differ, as property names mostly do.
func less(a, b string) bool {
	if len(a) > 0 && len(b) > 0 && a[0] != b[0] {
		return a[0] < b[0]
	}
	return a < b
}

// sortLarge returns the entries of m sorted by key, on the heap.
func sortLarge[V any](m map[string]V) []entry[V] {
	entries := make([]entry[V], 0, len(m))
	for k, v := range m {
		entries = append(entries, entry[V]{k, v})
	}
	slices.SortFunc(entries, func(a, b entry[V]) int { return strings.Compare(a.k, b.k) })
	return entries
}

// AppendStringMap writes m as an object, keys sorted; nil as null.
func AppendStringMap(dst []byte, m map[string]string) []byte {
	if m == nil {
		return append(dst, "null"...)
	}
	if len(m) == 1 { // the organization alone, most often: nothing to sort
		for k, v := range m {
			dst = append(dst, '{')
			dst = AppendString(dst, k)
			dst = append(dst, ':')
			dst = AppendString(dst, v)
			return append(dst, '}')
		}
	}
	var buf [smallMap]entry[string]
	var entries []entry[string]
	if len(m) <= smallMap {
		entries = sortSmall(m, &buf)
	} else {
		entries = sortLarge(m)
	}
	dst = append(dst, '{')
	for i, kv := range entries {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendString(dst, kv.k)
		dst = append(dst, ':')
		dst = AppendString(dst, kv.v)
	}
	return append(dst, '}')
}

func appendStrings(dst []byte, s []string) []byte {
	if s == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, '[')
	for i, v := range s {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendString(dst, v)
	}
	return append(dst, ']')
}

var errMarshalPanic = errors.New("marshal panicked")

// marshalRecovering is json.Marshal, with a panic in a value's own
// MarshalJSON or MarshalText turned into errMarshalPanic: a bad value must
// not take down the goroutine that encodes it.
func marshalRecovering(v any) (b []byte, err error) {
	defer func() {
		if recover() != nil {
			b, err = nil, errMarshalPanic
		}
	}()
	return stdjson.Marshal(v)
}

// Generic returns v as encoding/json reads its encoding back: maps, slices,
// strings, bools, json.Number and nil.
func Generic(v any) (any, error) {
	b, err := marshalRecovering(v)
	if err != nil {
		return nil, marshalProblem(v, err)
	}
	dec := stdjson.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out any
	err = dec.Decode(&out)
	return out, err
}

// appendMarshal writes v with encoding/json.
func appendMarshal(dst []byte, v any) ([]byte, int, error) {
	b, err := marshalRecovering(v)
	if err != nil {
		return dst, 0, marshalProblem(v, err)
	}
	return append(dst, b...), 0, nil
}

// marshalProblem says why encoding/json could not encode v: never with the
// error's text, which a MarshalJSON may have filled with the value.
func marshalProblem(v any, err error) error {
	var me *stdjson.MarshalerError
	switch {
	case errors.Is(err, errMarshalPanic):
		return problem(fmt.Sprintf("%T: its MarshalJSON or MarshalText method panicked", v))
	case errors.As(err, &me):
		return problem(fmt.Sprintf("%T: its MarshalJSON or MarshalText method failed", v))
	}
	return problem(fmt.Sprintf("%T: encoding/json failed", v))
}
