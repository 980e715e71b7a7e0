package plan

// Plan is a tracking plan: the events a service may send and, for each, its
// properties. Declare one in Go, or load it from a YAML or JSON file with
// Load; Compile turns it into a Checker.
type Plan struct {
	// Common are properties any event may carry, such as those a service
	// adds to every event (MULTITRACK_PROPERTIES). An event's own property
	// of the same name replaces the common one for that event.
	Common []Property
	// Events are the planned events, each name once.
	Events []Event

	src *source // where each field was written, for a plan Load read
}

// Event is one planned event.
type Event struct {
	// Name is the event's exact name, e.g. "query_failed" (no globs).
	Name string
	// Description says when the event is sent.
	Description string
	// Properties are the event's properties, each name once.
	Properties []Property
	// AllowUnknown lets the event carry properties the plan does not
	// declare; by default each one is a violation (KindUnknownProperty).
	AllowUnknown bool
	// GoName names the event's type in generated Go code; by default it is
	// derived from Name ("query_failed" gives QueryFailed).
	GoName string
}

// Property is one property of a planned event.
type Property struct {
	// Name is the property's key, e.g. "sqlstate".
	Name string
	// Description says what the value means.
	Description string
	// Type is the JSON type the value must have. Required.
	Type Type
	// Required makes the property's absence a violation (KindMissingRequired).
	Required bool
	// Enum, when not empty, lists the values allowed: strings for a string
	// property, decimal integers for an integer property. Other types take
	// no enum.
	Enum []string
	// Pattern, for a string property, is a regular expression (RE2 syntax)
	// that the whole value must match, as if it were between ^ and $.
	Pattern string
	// Min and Max, when set, bound an integer's or a number's value, a
	// string's length in characters, or an array's number of elements.
	Min, Max *float64
	// GoName names the property's field in generated Go code; by default it
	// is derived from Name ("trace_id" gives TraceID).
	GoName string
}

// Type is the JSON type of a property's value.
type Type string

// The types a property can have.
const (
	String    Type = "string"    // a JSON string
	Integer   Type = "integer"   // a number without a fractional part
	Number    Type = "number"    // any JSON number
	Boolean   Type = "boolean"   // true or false
	Timestamp Type = "timestamp" // a time.Time, or a string in RFC 3339 format
	Object    Type = "object"    // a JSON object (map[string]any, a struct)
	Array     Type = "array"     // a JSON array (a slice)
)

// types lists the valid types in the order the documentation gives them.
var types = []Type{String, Integer, Number, Boolean, Timestamp, Object, Array}

// valid reports whether t is one of the types above.
func (t Type) valid() bool { return t.code() != 0 }

// typeCode is a Type as a small number, for Check's switches (comparing
// strings costs more).
type typeCode uint8

// code returns t's position in types, plus one; 0 for an unknown type.
func (t Type) code() typeCode {
	for i, v := range types {
		if t == v {
			return typeCode(i + 1)
		}
	}
	return 0
}

// The codes of the types, as code returns them.
const (
	codeString typeCode = iota + 1
	codeInteger
	codeNumber
	codeBoolean
	codeTimestamp
	codeObject
	codeArray
)
