package registry

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// Limits of the registry's own numeric variables; each sink checks its own.
const (
	// maxQueueSize bounds MULTITRACK_QUEUE_SIZE: a million events per sink
	// is already gigabytes of memory when a sink stalls.
	maxQueueSize = 1 << 20
	// maxDuration is the longest Go duration (about 292 years).
	maxDuration = time.Duration(math.MaxInt64)
)

// IntRange returns the sink's variable for key as a base-10 integer from
// min to max, or def when unset. A value that is not such an integer is
// recorded as a problem matching ErrInvalid that names the accepted range,
// and def is returned.
func (c Config) IntRange(key string, def, min, max int) int {
	return c.l.intVar(c.Var(key), c.name, def, min, max)
}

// SizeRange returns the sink's variable for key as a number of bytes from
// min to max (see Size), or def when unset. A bad value is recorded as a
// problem matching ErrInvalid that names the accepted range, and def is
// returned.
func (c Config) SizeRange(key string, def, min, max int64) int64 {
	return c.l.sizeVar(c.Var(key), c.name, def, min, max)
}

// DurationRange returns the sink's variable for key as a Go duration from
// min to max ("500ms", "5s", "1m30s"), or def when unset. A bad value is
// recorded as a problem matching ErrInvalid that names the accepted range,
// and def is returned.
func (c Config) DurationRange(key string, def, min, max time.Duration) time.Duration {
	return c.l.durationVar(c.Var(key), c.name, def, min, max)
}

func (l *loader) intVar(name, sink string, def, min, max int) int {
	v, ok := l.read(name, sink, strconv.Itoa(def), false)
	if !ok {
		return def
	}
	want := fmt.Sprintf("a whole number from %d to %d", min, max)
	if max == math.MaxInt {
		want = fmt.Sprintf("a whole number ≥ %d", min)
	}
	n, err := strconv.Atoi(v)
	switch {
	case errors.Is(err, strconv.ErrRange) && max == math.MaxInt:
		l.invalid(name, sink, v, fmt.Sprintf("%s and at most %d", want, max))
	case err != nil || n < min || n > max:
		l.invalid(name, sink, v, want)
	default:
		return n
	}
	return def
}

func (l *loader) sizeVar(name, sink string, def, min, max int64) int64 {
	v, ok := l.read(name, sink, formatSize(def), false)
	if !ok {
		return def
	}
	n, valid := parseSize(v)
	switch {
	case !valid && min == 0 && max == math.MaxInt64:
		l.invalid(name, sink, v, "a size in bytes such as 4096, 64KiB or 10MB")
	case !valid || n < min || n > max:
		l.invalid(name, sink, v, fmt.Sprintf("a size from %s to %s, such as 4096, 64KiB or 10MB", sizeUnit(min), sizeUnit(max)))
	default:
		return n
	}
	return def
}

func (l *loader) durationVar(name, sink string, def, min, max time.Duration) time.Duration {
	v, ok := l.read(name, sink, def.String(), false)
	if !ok {
		return def
	}
	d, err := time.ParseDuration(v)
	switch {
	case (err != nil || d <= 0) && min <= 1 && max == maxDuration:
		l.invalid(name, sink, v, "a positive duration such as 500ms, 5s or 1m")
	case err != nil || d < min || d > max:
		l.invalid(name, sink, v, fmt.Sprintf("a duration from %v to %v, such as 500ms, 5s or 1m", min, max))
	default:
		return d
	}
	return def
}

// sizeUnits are the units parseSize reads, in lower case.
var sizeUnits = map[string]int64{
	"": 1, "b": 1,
	"kb": 1e3, "kib": 1 << 10,
	"mb": 1e6, "mib": 1 << 20,
	"gb": 1e9, "gib": 1 << 30,
}

// parseSize parses a byte size; see Config.Size. It is exact (no rounding
// through floating point) and refuses what does not fit an int64.
func parseSize(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	i := 0
	for i < len(s) && ('0' <= s[i] && s[i] <= '9' || s[i] == '.') {
		i++
	}
	num, unit := s[:i], strings.ToLower(strings.TrimSpace(s[i:]))
	mult, ok := sizeUnits[unit]
	if !ok || num == "" || num == "." || strings.Count(num, ".") > 1 {
		return 0, false
	}
	r, ok := new(big.Rat).SetString(num)
	if !ok {
		return 0, false
	}
	r.Mul(r, new(big.Rat).SetInt64(mult))
	if !r.IsInt() || !r.Num().IsInt64() {
		return 0, false
	}
	return r.Num().Int64(), true
}

// formatSize writes n as parseSize reads it, with the largest binary unit
// that divides it.
func formatSize(n int64) string {
	for _, u := range []struct {
		name string
		size int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n != 0 && n%u.size == 0 {
			return strconv.FormatInt(n/u.size, 10) + u.name
		}
	}
	return strconv.FormatInt(n, 10)
}

// sizeUnit is formatSize with "B" on a plain number of bytes.
func sizeUnit(n int64) string {
	s := formatSize(n)
	if s[len(s)-1] >= '0' && s[len(s)-1] <= '9' {
		s += "B"
	}
	return s
}
