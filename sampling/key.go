package sampling

import (
	"math"
	"strconv"
	"strings"

	"github.com/cespare/xxhash/v2"
	"github.com/multitrack/multitrack/tracker"
)

// keyKind says where a Key takes its value from.
type keyKind uint8

const (
	keyNone keyKind = iota
	keyDistinctID
	keyGroup
	keyProperty
	keyName
)

// Key names what a sampler keys its decisions or its per-key state by.
//
// The zero Key, KeyNone, means "no key": Ratio then decides per event (by
// Event.UUIDRandom), and RateLimit, Burst and Dynamic keep one shared state
// for all events. A Key is a small comparable value; build one with the
// variables and functions below.
type Key struct {
	kind keyKind
	name string
}

var (
	// KeyNone is the zero Key: per event for Ratio, one shared state for the
	// stateful samplers.
	KeyNone = Key{}
	// KeyDistinctID keys by Event.DistinctID.
	KeyDistinctID = Key{kind: keyDistinctID}
	// KeyOrganization keys by Event.Groups["organization"].
	KeyOrganization = Key{kind: keyGroup, name: tracker.GroupOrganization}
	// KeyEventName keys by Event.Name.
	KeyEventName = Key{kind: keyName}
)

// KeyGroup keys by Event.Groups[groupType].
func KeyGroup(groupType string) Key { return Key{kind: keyGroup, name: groupType} }

// KeyProperty keys by Event.Properties[name]. Strings, booleans and numbers
// are used by their text (the integer 42 and the float 42.0 are the same key,
// as a JSON round trip would make them); other values count as missing.
func KeyProperty(name string) Key { return Key{kind: keyProperty, name: name} }

// String returns the key as a spec writes it after "by=": "" for KeyNone,
// "distinct_id", "org", "event", "group.TYPE" or "prop.NAME".
func (k Key) String() string {
	switch k.kind {
	case keyDistinctID:
		return "distinct_id"
	case keyGroup:
		if k.name == tracker.GroupOrganization {
			return "org"
		}
		return "group." + k.name
	case keyProperty:
		return "prop." + k.name
	case keyName:
		return "event"
	}
	return ""
}

// parseKey reads the value of a "by=" option.
func parseKey(s string) (Key, bool) {
	switch s {
	case "uuid":
		return KeyNone, true
	case "distinct_id":
		return KeyDistinctID, true
	case "org", "organization":
		return KeyOrganization, true
	case "event":
		return KeyEventName, true
	}
	if name, ok := strings.CutPrefix(s, "group."); ok {
		return KeyGroup(name), name != ""
	}
	if name, ok := strings.CutPrefix(s, "prop."); ok {
		return KeyProperty(name), name != ""
	}
	if s == "" || strings.ContainsAny(s, ".,:=* \t") {
		return Key{}, false
	}
	return KeyProperty(s), true
}

// inputs says what of the fields Capture fills in k reads: the identity
// for a distinct id or a group.
func (k Key) inputs() tracker.SampleInput {
	if k.kind == keyDistinctID || k.kind == keyGroup {
		return tracker.InputIdentity
	}
	return 0
}

// hash returns the xxhash of e's key value, and false when e has none (an
// empty or missing value, or KeyNone). It allocates nothing.
func (k Key) hash(e *tracker.Event) (uint64, bool) {
	switch k.kind {
	case keyDistinctID:
		return hashString(e.DistinctID)
	case keyGroup:
		return hashString(e.Groups[k.name])
	case keyName:
		return hashString(e.Name)
	case keyProperty:
		return hashValue(e.Properties[k.name])
	}
	return 0, false
}

func hashString(s string) (uint64, bool) {
	if s == "" {
		return 0, false
	}
	return xxhash.Sum64String(s), true
}

// hashValue hashes a property value by its text, without allocating.
func hashValue(v any) (uint64, bool) {
	var buf [32]byte
	var b []byte
	switch v := v.(type) {
	case string:
		return hashString(v)
	case bool:
		b = strconv.AppendBool(buf[:0], v)
	case int:
		b = strconv.AppendInt(buf[:0], int64(v), 10)
	case int32:
		b = strconv.AppendInt(buf[:0], int64(v), 10)
	case int64:
		b = strconv.AppendInt(buf[:0], v, 10)
	case uint:
		b = strconv.AppendUint(buf[:0], uint64(v), 10)
	case uint32:
		b = strconv.AppendUint(buf[:0], uint64(v), 10)
	case uint64:
		b = strconv.AppendUint(buf[:0], v, 10)
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, false
		}
		if v == math.Trunc(v) && math.Abs(v) < 1<<53 {
			b = strconv.AppendInt(buf[:0], int64(v), 10)
		} else {
			b = strconv.AppendFloat(buf[:0], v, 'g', -1, 64)
		}
	default:
		return 0, false
	}
	return xxhash.Sum64(b), true
}
