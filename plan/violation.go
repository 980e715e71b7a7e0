package plan

import (
	"strconv"

	"github.com/multitrack/multitrack/tracker"
)

// Kind is a kind of violation of a plan.
type Kind uint8

// The kinds of violation. The zero Kind is none.
const (
	KindUnplanned       Kind = iota + 1 // the event is not in the plan
	KindMissingRequired                 // a required property is absent
	KindWrongType                       // a property's value has another type
	KindNotInEnum                       // a property's value is not one of its enum
	KindPattern                         // a string property does not match its pattern
	KindRange                           // a value (a length) is outside min and max
	KindUnknownProperty                 // the plan does not declare the property for the event
)

// Kinds lists every kind of violation, in order.
var Kinds = []Kind{KindUnplanned, KindMissingRequired, KindWrongType, KindNotInEnum, KindPattern, KindRange, KindUnknownProperty}

var kindNames = [...]string{"", "unplanned event", "missing required", "wrong type", "not in enum", "pattern", "range", "unknown property"}

// String names the kind: "unplanned event", "missing required", "wrong
// type", "not in enum", "pattern", "range", "unknown property".
func (k Kind) String() string {
	if int(k) < len(kindNames) && k != 0 {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Count returns s's count of kind k (0 for no kind).
func (k Kind) Count(s tracker.PlanStats) uint64 {
	if p := k.field(&s); p != nil {
		return *p
	}
	return 0
}

// add adds n violations of kind k to s.
func (k Kind) add(s *tracker.PlanStats, n uint64) {
	if p := k.field(s); p != nil {
		*p += n
	}
}

func (k Kind) field(s *tracker.PlanStats) *uint64 {
	switch k {
	case KindUnplanned:
		return &s.Unplanned
	case KindMissingRequired:
		return &s.MissingRequired
	case KindWrongType:
		return &s.WrongType
	case KindNotInEnum:
		return &s.NotInEnum
	case KindPattern:
		return &s.Pattern
	case KindRange:
		return &s.Range
	case KindUnknownProperty:
		return &s.UnknownProperty
	}
	return nil
}

// addStats adds every count of b to a.
func addStats(a *tracker.PlanStats, b tracker.PlanStats) {
	for _, k := range Kinds {
		k.add(a, k.Count(b))
	}
}

// Violation is one way an event breaks the plan. It names the event and the
// property, never the property's value.
type Violation struct {
	Kind     Kind
	Event    string
	Property string // empty for KindUnplanned
	// Problem says what is wrong with the property (or the event), e.g.
	// "is a string, want integer"; it never holds the value.
	Problem string
}

// String returns the violation without the event's name, e.g.
// `property "duration_ms" is a string, want integer`.
func (v Violation) String() string {
	if v.Property == "" {
		return "event " + v.Problem
	}
	return "property " + strconv.Quote(v.Property) + " " + v.Problem
}
