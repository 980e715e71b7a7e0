package plan

import (
	"strconv"
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

// Counts counts violations by kind.
type Counts struct {
	Unplanned       uint32
	MissingRequired uint32
	WrongType       uint32
	NotInEnum       uint32
	Pattern         uint32
	Range           uint32
	UnknownProperty uint32
}

// Total is the number of violations.
func (c Counts) Total() int {
	return int(c.Unplanned) + int(c.MissingRequired) + int(c.WrongType) + int(c.NotInEnum) +
		int(c.Pattern) + int(c.Range) + int(c.UnknownProperty)
}

// Of returns the count of kind k.
func (c Counts) Of(k Kind) uint32 {
	if p := c.field(k); p != nil {
		return *p
	}
	return 0
}

// Add adds n to the count of kind k.
func (c *Counts) Add(k Kind, n uint32) {
	if p := c.field(k); p != nil {
		*p += n
	}
}

// AddCounts adds every count of o to c.
func (c *Counts) AddCounts(o Counts) {
	for _, k := range Kinds {
		c.Add(k, o.Of(k))
	}
}

func (c *Counts) field(k Kind) *uint32 {
	switch k {
	case KindUnplanned:
		return &c.Unplanned
	case KindMissingRequired:
		return &c.MissingRequired
	case KindWrongType:
		return &c.WrongType
	case KindNotInEnum:
		return &c.NotInEnum
	case KindPattern:
		return &c.Pattern
	case KindRange:
		return &c.Range
	case KindUnknownProperty:
		return &c.UnknownProperty
	}
	return nil
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
