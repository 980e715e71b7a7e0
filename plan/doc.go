// Package plan checks analytics events against a tracking plan: the events
// a service may send, and for each its properties (type, required or not,
// enum, pattern, bounds).
//
// Declare a Plan in Go or write it in YAML or JSON and Load it; either way it
// is compiled into a Checker, with per-event lookup tables, whose Check
// counts an event's violations by kind without allocating. Violations gives
// the same answer with a problem to show for each, naming the event and the
// property but never the property's value. Generate writes Go code with one
// type per planned event, so that a misspelled property or a value of the
// wrong type fails to compile.
package plan
