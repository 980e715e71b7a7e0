package plan

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/multitrack/multitrack/tracker"
)

// Check counts the violations of an event, named event with properties
// props, by kind (it makes *Checker a tracker.PlanChecker, for
// tracker.WithPlan): an unplanned event is
// one violation (its properties are not judged); otherwise each property
// has at most one (its type first, then enum, pattern, range), a missing
// required property one, and each property the event's plan does not
// declare one, unless the event allows unknown properties.
//
// Properties the tracker adds ($sample_rate, and $multitrack_sink in
// dead-letter files) are never judged, nor are those for which exempt
// returns true (exempt may be nil): an exempt property is neither unknown
// nor missing. Check allocates nothing and is safe for concurrent use.
func (c *Checker) Check(event string, props map[string]any, exempt func(key string) bool) tracker.PlanStats {
	return c.check(event, props, exempt, nil)
}

// Violations returns an event's violations, each with a problem to show: the
// event's declared properties in plan order, then the unknown ones by
// name. It is Check's slow form, for reports and logs.
func (c *Checker) Violations(event string, props map[string]any, exempt func(key string) bool) []Violation {
	var out []Violation
	c.check(event, props, exempt, &out)
	return out
}

// Explain describes the first of an event's violations, as Violations lists
// them, for a log line: the property it concerns ("" for an unplanned
// event) and what is wrong, never the value. It returns "", "" for an event
// that follows the plan.
func (c *Checker) Explain(event string, props map[string]any, exempt func(key string) bool) (property, problem string) {
	vs := c.Violations(event, props, exempt)
	if len(vs) == 0 {
		return "", ""
	}
	return vs[0].Property, vs[0].String()
}

// Allows reports whether the plan lets the event named event carry the
// property key: it declares the property (as the event's own or as a common
// one), or the event allows unknown properties, or the tracker adds the
// property. For an unplanned event it is false but for the tracker's
// properties. A Tracker in strip mode removes what the plan does not allow.
func (c *Checker) Allows(event, key string) bool {
	if trackerProperty(key) {
		return true
	}
	if c == nil {
		return false
	}
	ev := c.events[event]
	if ev == nil {
		return false
	}
	if ev.allowUnknown {
		return true
	}
	_, ok := ev.index[key]
	return ok
}

// trackerProperty reports whether the tracker, not the caller, adds key.
func trackerProperty(key string) bool {
	return key == tracker.PropSampleRate || key == tracker.PropSink
}

func isExempt(key string, exempt func(string) bool) bool {
	return trackerProperty(key) || exempt != nil && exempt(key)
}

// check is Check, and Violations when out is not nil.
func (c *Checker) check(name string, props map[string]any, exempt func(string) bool, out *[]Violation) (n tracker.PlanStats) {
	if c == nil {
		return n
	}
	ev := c.events[name]
	if ev == nil {
		n.Unplanned = 1
		if out != nil {
			*out = append(*out, Violation{Kind: KindUnplanned, Event: name, Problem: c.unplannedProblem(name)})
		}
		return n
	}
	found := 0
	for i := range ev.props {
		p := &ev.props[i]
		raw, ok := props[p.name]
		if !ok {
			if p.required && !isExempt(p.name, exempt) {
				n.MissingRequired++
				if out != nil {
					*out = append(*out, Violation{Kind: KindMissingRequired, Event: name, Property: p.name, Problem: "is required but missing"})
				}
			}
			continue
		}
		found++
		if k := p.check(raw); k != 0 {
			k.add(&n, 1)
			if out != nil {
				*out = append(*out, Violation{Kind: k, Event: name, Property: p.name, Problem: p.problem(k, valueOf(raw))})
			}
		}
	}
	if found == len(props) || ev.allowUnknown {
		return n
	}
	var unknown []string
	for k := range props {
		if _, declared := ev.index[k]; declared || isExempt(k, exempt) {
			continue
		}
		n.UnknownProperty++
		if out != nil {
			unknown = append(unknown, k)
		}
	}
	slices.Sort(unknown)
	for _, k := range unknown {
		*out = append(*out, Violation{Kind: KindUnknownProperty, Event: name, Property: k, Problem: "is not in the plan for this event"})
	}
	return n
}

// unplannedProblem says an event is not in the plan, with the planned name
// it may be a misspelling of.
func (c *Checker) unplannedProblem(name string) string {
	names := make([]string, 0, len(c.plan.Events))
	for _, ev := range c.plan.Events {
		names = append(names, ev.Name)
	}
	if s := suggest(name, names); s != "" {
		return fmt.Sprintf("is not in the plan (did you mean %q?)", s)
	}
	return "is not in the plan"
}

// check returns the first constraint raw breaks, or 0. The common Go
// types of each property type are checked first, without classifying raw.
func (p *prop) check(raw any) Kind {
	switch p.code {
	case codeString:
		if s, ok := raw.(string); ok {
			return p.checkString(s)
		}
	case codeInteger:
		switch x := raw.(type) {
		case int:
			return p.checkInt(int64(x), float64(x), true)
		case int64:
			return p.checkInt(x, float64(x), true)
		}
	case codeNumber:
		switch x := raw.(type) {
		case float64:
			if x-x == 0 { // finite
				return p.checkRange(x)
			}
		case int:
			return p.checkRange(float64(x))
		case int64:
			return p.checkRange(float64(x))
		}
	case codeBoolean:
		if _, ok := raw.(bool); ok {
			return 0
		}
	}
	return p.checkValue(valueOf(raw))
}

// checkValue returns the first constraint v breaks, or 0.
func (p *prop) checkValue(v value) Kind {
	switch p.code {
	case codeString:
		if v.t != jString {
			return KindWrongType
		}
		return p.checkString(v.text())
	case codeInteger:
		if v.t != jInt {
			return KindWrongType
		}
		return p.checkInt(v.i, v.f, v.exact)
	case codeNumber:
		if v.t != jInt && v.t != jFloat {
			return KindWrongType
		}
		return p.checkRange(v.f)
	case codeBoolean:
		if v.t != jBool {
			return KindWrongType
		}
	case codeTimestamp:
		if !v.isTime {
			if v.t != jString {
				return KindWrongType
			}
			if _, err := time.Parse(time.RFC3339, v.s); err != nil {
				return KindWrongType
			}
		}
	case codeObject:
		if v.t != jObject {
			return KindWrongType
		}
	case codeArray:
		if v.t != jArray {
			return KindWrongType
		}
		return p.checkRange(float64(v.n))
	}
	return 0
}

// checkString applies a string property's enum, pattern and length bounds.
func (p *prop) checkString(s string) Kind {
	switch {
	case p.strSet != nil:
		if _, ok := p.strSet[s]; !ok {
			return KindNotInEnum
		}
	case p.strEnum != nil:
		if !slices.Contains(p.strEnum, s) {
			return KindNotInEnum
		}
	}
	return p.checkStringForm(s)
}

// checkStringForm applies a string property's pattern and length bounds.
func (p *prop) checkStringForm(s string) Kind {
	if p.pat != nil && !p.pat.match(s) {
		return KindPattern
	}
	if p.hasMin || p.hasMax {
		return p.checkRange(float64(utf8.RuneCountInString(s)))
	}
	return 0
}

// checkInt applies an integer property's enum and bounds; n is the value
// when exact (it fits an int64), f the value as a float64.
func (p *prop) checkInt(n int64, f float64, exact bool) Kind {
	if p.intEnum != nil && (!exact || !slices.Contains(p.intEnum, n)) {
		return KindNotInEnum
	}
	return p.checkRange(f)
}

func (p *prop) checkRange(f float64) Kind {
	if p.hasMin && f < p.min || p.hasMax && f > p.max {
		return KindRange
	}
	return 0
}

// problem says how v breaks the constraint of kind k, without v itself.
func (p *prop) problem(k Kind, v value) string {
	switch k {
	case KindWrongType:
		if p.typ == Timestamp && v.t == jString {
			return "is a string that is not an RFC 3339 timestamp"
		}
		return "is " + v.describe() + ", want " + string(p.typ)
	case KindNotInEnum:
		return "is not one of " + p.enumList()
	case KindPattern:
		return "does not match the pattern " + p.pattern
	case KindRange:
		return p.rangeProblem(v)
	}
	return k.String()
}

func (p *prop) enumList() string {
	const shown = 10
	var vals []string
	if p.typ == Integer {
		for _, n := range p.intEnum {
			vals = append(vals, strconv.FormatInt(n, 10))
		}
	} else {
		vals = p.strEnum
	}
	if len(vals) > shown {
		return strings.Join(vals[:shown], ", ") + ", … (" + strconv.Itoa(len(vals)) + " values)"
	}
	return strings.Join(vals, ", ")
}

func (p *prop) rangeProblem(v value) string {
	f, low, high, unit := v.f, "is below the minimum ", "is above the maximum ", ""
	switch p.typ {
	case String:
		f, low, high, unit = float64(utf8.RuneCountInString(v.text())), "is shorter than ", "is longer than ", " characters"
	case Array:
		f, low, high, unit = float64(v.n), "has fewer than ", "has more than ", " elements"
	}
	if p.hasMin && f < p.min {
		return low + formatBound(p.min) + unit
	}
	return high + formatBound(p.max) + unit
}

func formatBound(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

var _ tracker.PlanChecker = (*Checker)(nil)
