package tracker

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxEventLine is the largest event line, in bytes including its newline,
// that AppendEventLine writes and an EventReader accepts.
const MaxEventLine = 1 << 20

// TimestampFormat is the layout of an event line's timestamp: RFC 3339 in UTC
// with microseconds.
const TimestampFormat = "2006-01-02T15:04:05.000000Z"

// ErrUnencodable is matched (with errors.Is) by every error AppendEventLine
// returns for an event it cannot write as JSON.
var ErrUnencodable = errors.New("not JSON-encodable")

// EncodeError reports the part of an event that cannot be written as an
// event line. It matches ErrUnencodable with errors.Is.
type EncodeError struct {
	// Field is the event line's field: "properties" or "timestamp".
	Field string
	// Key is the path of the offending property inside Field, such as
	// "latency" or "tags[2].name"; empty for a field as a whole.
	Key string
	// Problem says what is wrong, e.g. "NaN", "func value", "cycle".
	Problem string
}

// Error names the property and the problem; it never includes a property's
// value.
func (e *EncodeError) Error() string {
	if e.Key != "" {
		return fmt.Sprintf("property %q: %s: %v", e.Key, e.Problem, ErrUnencodable)
	}
	return fmt.Sprintf("%s: %s: %v", e.Field, e.Problem, ErrUnencodable)
}

// Unwrap returns ErrUnencodable.
func (e *EncodeError) Unwrap() error { return ErrUnencodable }

// AppendEventLine appends e to dst as one event line: a JSON object with the
// fields uuid, event, distinct_id, timestamp, groups (omitted when empty) and
// properties, in that order, followed by '\n'. Object keys are sorted, so the
// same event always gives the same bytes. It returns the extended buffer.
//
// Strings, bools, nil, every integer and float kind, json.Number, time.Time,
// map[string]any, []any, map[string]string and []string are written by hand
// without allocating; other values go through encoding/json. A float64 with
// an integral value is written with a ".0" suffix (3.0, not 3) so that a
// reader can tell it from an integer. Invalid UTF-8 is replaced with U+FFFD.
//
// When e cannot be encoded (NaN or ±Inf, a func, chan or complex value, a
// cycle, a timestamp outside years 0–9999) it returns dst unchanged and an
// *EncodeError naming the property, which matches ErrUnencodable. A line
// longer than MaxEventLine gives an error matching ErrLineTooLong.
func AppendEventLine(dst []byte, e *Event) ([]byte, error) {
	start := len(dst)
	out, err := appendEventLineTo(dst, e)
	if err != nil {
		return out[:start], err
	}
	if n := len(out) - start; n > MaxEventLine {
		return out[:start], fmt.Errorf("event line of %d bytes: %w", n, ErrLineTooLong)
	}
	return out, nil
}

func appendEventLineTo(dst []byte, e *Event) ([]byte, error) {
	dst = append(dst, `{"uuid":`...)
	dst = appendJSONString(dst, e.UUID)
	dst = append(dst, `,"event":`...)
	dst = appendJSONString(dst, e.Name)
	dst = append(dst, `,"distinct_id":`...)
	dst = appendJSONString(dst, e.DistinctID)
	dst = append(dst, `,"timestamp":`...)
	var err error
	if dst, err = appendLineTimestamp(dst, e.Timestamp); err != nil {
		return dst, &EncodeError{Field: "timestamp", Problem: err.Error()}
	}
	if len(e.Groups) > 0 {
		dst = append(dst, `,"groups":`...)
		dst = appendJSONStringMap(dst, e.Groups)
	}
	dst = append(dst, `,"properties":`...)
	enc := lineEncoder{}
	if dst, err = enc.appendMap(dst, e.Properties, 0); err != nil {
		return dst, err
	}
	return append(dst, '}', '\n'), nil
}

// appendLineTime writes t as a quoted string in layout, refusing years that
// RFC 3339 cannot express (as time.Time.MarshalJSON does).
func appendLineTime(dst []byte, t time.Time, layout string) ([]byte, error) {
	if y := t.Year(); y < 0 || y > 9999 {
		return dst, fmt.Errorf("year %d outside 0–9999", y)
	}
	dst = append(dst, '"')
	dst = t.AppendFormat(dst, layout)
	return append(dst, '"'), nil
}

// appendLineTimestamp writes t, in UTC, as a quoted TimestampFormat string;
// by hand, at a fifth of the cost of time.Time.AppendFormat.
func appendLineTimestamp(dst []byte, t time.Time) ([]byte, error) {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return dst, fmt.Errorf("year %d outside 0–9999", year)
	}
	hour, minute, sec := t.Clock()
	micro := t.Nanosecond() / 1000
	b := [len(TimestampFormat) + 2]byte{'"', 0, 0, 0, 0, '-', 0, 0, '-', 0, 0, 'T', 0, 0, ':', 0, 0, ':', 0, 0, '.', 0, 0, 0, 0, 0, 0, 'Z', '"'}
	put2(b[1:], year/100)
	put2(b[3:], year%100)
	put2(b[6:], int(month))
	put2(b[9:], day)
	put2(b[12:], hour)
	put2(b[15:], minute)
	put2(b[18:], sec)
	put2(b[21:], micro/10000)
	put2(b[23:], micro/100%100)
	put2(b[25:], micro%100)
	return append(dst, b[:]...), nil
}

// twoDigits holds "00" to "99".
const twoDigits = "00010203040506070809" + "10111213141516171819" + "20212223242526272829" +
	"30313233343536373839" + "40414243444546474849" + "50515253545556575859" + "60616263646566676869" +
	"70717273747576777879" + "80818283848586878889" + "90919293949596979899"

// put2 writes n, in 0..99, as two digits at b[0:2].
func put2(b []byte, n int) { b[0], b[1] = twoDigits[2*n], twoDigits[2*n+1] }

// Nesting of maps and slices deeper than lineCycleDepth is checked for
// cycles; deeper than lineMaxDepth is refused (encoding/json's decoder refuses
// 10000 levels).
const (
	lineCycleDepth = 64
	lineMaxDepth   = 5000
)

// lineEncoder writes property values. Its zero value is ready; it allocates only
// for values nested deeper than lineCycleDepth.
type lineEncoder struct {
	onPath map[lineContainer]struct{} // maps and slices on the current path, past lineCycleDepth
}

// withKeyPath builds or extends the key path of an EncodeError on the way out
// of the recursion, so that the happy path never formats a path.
func withKeyPath(err error, step string) error {
	var ee *EncodeError
	if errors.As(err, &ee) {
		if ee.Key == "" || ee.Key[0] == '[' {
			ee.Key = step + ee.Key
		} else {
			ee.Key = step + "." + ee.Key
		}
	}
	return err
}

func encodeProblem(p string) error { return &EncodeError{Field: "properties", Problem: p} }

// enter records a container on the current path (callers do so only past
// lineCycleDepth, where a cycle becomes plausible) and reports a cycle or
// excessive depth.
func (enc *lineEncoder) enter(container lineContainer, depth int) error {
	if depth >= lineMaxDepth {
		return encodeProblem(fmt.Sprintf("nested more than %d levels deep", lineMaxDepth))
	}
	if enc.onPath == nil {
		enc.onPath = make(map[lineContainer]struct{})
	}
	if _, ok := enc.onPath[container]; ok {
		return encodeProblem("cycle")
	}
	enc.onPath[container] = struct{}{}
	return nil
}

func (enc *lineEncoder) leave(container lineContainer) { delete(enc.onPath, container) }

// lineContainer identifies a map or slice for cycle detection.
type lineContainer struct {
	p   uintptr
	len int
}

func lineMapID(m map[string]any) lineContainer {
	return lineContainer{p: uintptr(reflect.ValueOf(m).UnsafePointer())}
}

func lineSliceID(s []any) lineContainer {
	return lineContainer{p: uintptr(reflect.ValueOf(s).UnsafePointer()), len: len(s)}
}

// lineEntry is a map entry, gathered so that entries can be written in key
// order without a second lookup.
type lineEntry[V any] struct {
	k string
	v V
}

// lineSmallMap is the most entries lineSortEntries sorts on the stack.
const lineSmallMap = 16

// lineSorted holds a small map's entries, sorted by key.
type lineSorted[V any] struct {
	n int
	e [lineSmallMap]lineEntry[V]
}

// lineSortEntries returns the entries of m, which has at most lineSmallMap
// of them, sorted by key. It works on its own result, on the stack, so that
// storing the entries' pointers needs no GC write barriers.
func lineSortEntries[V any](m map[string]V) (s lineSorted[V]) {
	for k, v := range m {
		s.e[s.n] = lineEntry[V]{k, v}
		s.n++
	}
	// Insertion sort: the maps are small, and it needs no closure.
	for i := 1; i < s.n; i++ {
		for j := i; j > 0 && s.e[j].k < s.e[j-1].k; j-- {
			s.e[j], s.e[j-1] = s.e[j-1], s.e[j]
		}
	}
	return s
}

// lineSortLarge returns the entries of m sorted by key, on the heap.
func lineSortLarge[V any](m map[string]V) []lineEntry[V] {
	entries := make([]lineEntry[V], 0, len(m))
	for k, v := range m {
		entries = append(entries, lineEntry[V]{k, v})
	}
	slices.SortFunc(entries, func(a, b lineEntry[V]) int { return strings.Compare(a.k, b.k) })
	return entries
}

func (enc *lineEncoder) appendMap(dst []byte, m map[string]any, depth int) ([]byte, error) {
	if m == nil && depth > 0 {
		return append(dst, "null"...), nil
	}
	if len(m) == 0 {
		return append(dst, '{', '}'), nil
	}
	if depth >= lineCycleDepth {
		if err := enc.enter(lineMapID(m), depth); err != nil {
			return dst, err
		}
		defer enc.leave(lineMapID(m))
	}
	// Sorted on this stack frame when small (see lineSortEntries).
	var small lineSorted[any]
	var entries []lineEntry[any]
	if len(m) <= lineSmallMap {
		small = lineSortEntries(m)
		entries = small.e[:small.n]
	} else {
		entries = lineSortLarge(m)
	}
	dst = append(dst, '{')
	var err error
	for i, kv := range entries {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, kv.k)
		dst = append(dst, ':')
		if dst, err = enc.appendValue(dst, kv.v, depth+1); err != nil {
			return dst, withKeyPath(err, kv.k)
		}
	}
	return append(dst, '}'), nil
}

func (enc *lineEncoder) appendSlice(dst []byte, s []any, depth int) ([]byte, error) {
	if s == nil {
		return append(dst, "null"...), nil
	}
	if depth >= lineCycleDepth {
		if err := enc.enter(lineSliceID(s), depth); err != nil {
			return dst, err
		}
		defer enc.leave(lineSliceID(s))
	}
	dst = append(dst, '[')
	var err error
	for i, v := range s {
		if i > 0 {
			dst = append(dst, ',')
		}
		if dst, err = enc.appendValue(dst, v, depth+1); err != nil {
			return dst, withKeyPath(err, "["+strconv.Itoa(i)+"]")
		}
	}
	return append(dst, ']'), nil
}

func appendJSONStringMap(dst []byte, m map[string]string) []byte {
	if m == nil {
		return append(dst, "null"...)
	}
	var small lineSorted[string]
	var entries []lineEntry[string]
	if len(m) <= lineSmallMap {
		small = lineSortEntries(m)
		entries = small.e[:small.n]
	} else {
		entries = lineSortLarge(m)
	}
	dst = append(dst, '{')
	for i, kv := range entries {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, kv.k)
		dst = append(dst, ':')
		dst = appendJSONString(dst, kv.v)
	}
	return append(dst, '}')
}

func appendJSONStrings(dst []byte, s []string) []byte {
	if s == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, '[')
	for i, v := range s {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, v)
	}
	return append(dst, ']')
}

func (enc *lineEncoder) appendValue(dst []byte, v any, depth int) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case string:
		return appendJSONString(dst, x), nil
	case bool:
		return strconv.AppendBool(dst, x), nil
	case int:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(dst, x, 10), nil
	case int32:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case int16:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case int8:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case uint:
		return strconv.AppendUint(dst, uint64(x), 10), nil
	case uint64:
		return strconv.AppendUint(dst, x, 10), nil
	case uint32:
		return strconv.AppendUint(dst, uint64(x), 10), nil
	case uint16:
		return strconv.AppendUint(dst, uint64(x), 10), nil
	case uint8:
		return strconv.AppendUint(dst, uint64(x), 10), nil
	case uintptr:
		return strconv.AppendUint(dst, uint64(x), 10), nil
	case float64:
		return appendJSONFloat(dst, x, 64)
	case float32:
		return appendJSONFloat(dst, float64(x), 32)
	case json.Number:
		return appendJSONNumber(dst, x)
	case time.Time:
		out, err := appendLineTime(dst, x, time.RFC3339Nano)
		if err != nil {
			return dst, encodeProblem("time.Time " + err.Error())
		}
		return out, nil
	case map[string]any:
		return enc.appendMap(dst, x, depth)
	case []any:
		return enc.appendSlice(dst, x, depth)
	case map[string]string:
		return appendJSONStringMap(dst, x), nil
	case []string:
		return appendJSONStrings(dst, x), nil
	case complex64, complex128:
		return dst, encodeProblem("complex number")
	}
	return appendJSONReflect(dst, v)
}

// appendJSONReflect writes a value of any other type with encoding/json, after
// naming the kinds it refuses.
var errMarshalPanic = errors.New("marshal panicked")

// marshalRecovering is json.Marshal, with a panic in a value's own
// MarshalJSON or MarshalText turned into errMarshalPanic: a bad value must
// not take down the worker that encodes it.
func marshalRecovering(v any) (b []byte, err error) {
	defer func() {
		if recover() != nil {
			b, err = nil, errMarshalPanic
		}
	}()
	return json.Marshal(v)
}

func appendJSONReflect(dst []byte, v any) ([]byte, error) {
	switch k := reflect.TypeOf(v).Kind(); k {
	case reflect.Func, reflect.Chan, reflect.UnsafePointer, reflect.Complex64, reflect.Complex128:
		return dst, encodeProblem(k.String() + " value")
	}
	b, err := marshalRecovering(v)
	if err != nil {
		if errors.Is(err, errMarshalPanic) {
			return dst, encodeProblem(fmt.Sprintf("%T: its MarshalJSON or MarshalText method panicked", v))
		}
		var ue *json.UnsupportedValueError
		var ute *json.UnsupportedTypeError
		switch {
		case errors.As(err, &ue):
			return dst, encodeProblem(ue.Str)
		case errors.As(err, &ute):
			return dst, encodeProblem(ute.Type.String() + " value")
		}
		// Not the error's text: a MarshalJSON's error may quote the value.
		var me *json.MarshalerError
		if errors.As(err, &me) {
			return dst, encodeProblem(fmt.Sprintf("%T: its MarshalJSON or MarshalText method failed", v))
		}
		return dst, encodeProblem(fmt.Sprintf("%T: encoding/json failed", v))
	}
	return append(dst, b...), nil
}

// appendJSONFloat writes f the way encoding/json does (shortest representation,
// exponent form below 1e-6 and from 1e21), plus ".0" on integral values so
// that they read back as floats.
func appendJSONFloat(dst []byte, f float64, bits int) ([]byte, error) {
	if math.IsNaN(f) {
		return dst, encodeProblem("NaN")
	}
	if math.IsInf(f, 0) {
		return dst, encodeProblem(strconv.FormatFloat(f, 'g', -1, 64))
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

// appendJSONNumber writes a json.Number after checking that it is one.
func appendJSONNumber(dst []byte, n json.Number) ([]byte, error) {
	if n == "" {
		return append(dst, '0'), nil
	}
	if !isJSONNumber(string(n)) {
		return dst, encodeProblem("json.Number that is not a JSON number")
	}
	return append(dst, n...), nil
}

// isJSONNumber reports whether s matches JSON's number grammar.
func isJSONNumber(s string) bool {
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

// jsonPlainASCII[c] is true for the ASCII bytes a JSON string carries as they are.
var jsonPlainASCII = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// SWAR constants: a byte b of x is zero iff (b-1) &^ b has its top bit set,
// so plain ASCII JSON string bytes are tested 8 at a time.
const (
	swarOnes = 0x0101010101010101
	swarTops = 0x8080808080808080
)

// appendJSONString writes s as a JSON string: quotes, backslashes and control
// characters escaped, U+2028 and U+2029 escaped (JavaScript line
// terminators), invalid UTF-8 replaced with U+FFFD.
func appendJSONString(dst []byte, s string) []byte {
	if !jsonPlain(s) {
		return appendEscapedJSONString(dst, s)
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

// jsonPlain reports whether every byte of s is plain ASCII that a JSON
// string carries as it is (none below 0x20, none from 0x80, no '"', no
// '\\'): most keys and values. It tests 8 or 4 bytes at a time, the last
// group overlapping the one before it.
func jsonPlain(s string) bool {
	n := len(s)
	switch {
	case n >= 8:
		for i := 0; ; i += 8 {
			if i > n-8 {
				i = n - 8 // the tail, overlapping bytes already tested
			}
			w := s[i : i+8]
			x := uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
				uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
			if !plainWord(x) {
				return false
			}
			if i == n-8 {
				return true
			}
		}
	case n >= 4:
		a, b := s[:4], s[n-4:]
		x := uint64(a[0]) | uint64(a[1])<<8 | uint64(a[2])<<16 | uint64(a[3])<<24 |
			uint64(b[0])<<32 | uint64(b[1])<<40 | uint64(b[2])<<48 | uint64(b[3])<<56
		return plainWord(x)
	default:
		for i := 0; i < n; i++ {
			if c := s[i]; c >= utf8.RuneSelf || !jsonPlainASCII[c] {
				return false
			}
		}
		return true
	}
}

// plainWord reports whether the 8 bytes of x are all plain (see jsonPlain).
func plainWord(x uint64) bool {
	q, b := x^(swarOnes*'"'), x^(swarOnes*'\\')
	return ((x-swarOnes*0x20)&^x|(q-swarOnes)&^q|(b-swarOnes)&^b|x)&swarTops == 0
}

// appendEscapedJSONString is appendJSONString for strings with bytes to
// escape or check.
func appendEscapedJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if i+8 <= len(s) {
			w := s[i : i+8]
			x := uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
				uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
			if plainWord(x) {
				i += 8
				continue
			}
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if jsonPlainASCII[c] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
