package plan

import (
	"errors"
	"fmt"
	"go/token"
	"math"
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Checker is a compiled plan: per event, a table of its properties (the
// common ones included) with their types and constraints ready to apply.
// It is safe for concurrent use; a nil *Checker has no plan and finds no
// violation.
type Checker struct {
	plan   Plan
	events map[string]*event
}

// event is a planned event, compiled.
type event struct {
	name         string
	props        []prop         // its own properties, in plan order, then the common ones it does not redeclare
	index        map[string]int // property name -> index in props
	allowUnknown bool
}

// prop is a property, compiled. What Check reads for a string property
// comes first, within one cache line.
type prop struct {
	name     string
	code     typeCode // typ's code, for the switches of Check
	required bool
	hasMin   bool
	hasMax   bool
	pat      *matcher            // the pattern
	strSet   map[string]struct{} // the string enum, when it is long enough for a map to be faster
	strEnum  []string            // a string property's enum, in plan order
	intEnum  []int64             // an integer property's enum
	min, max float64
	typ      Type
	pattern  string // as written, for messages
}

// enumMapMin is the enum length from which a map lookup beats comparing
// each value.
const enumMapMin = 12

// Compile checks p and builds its lookup tables. Every problem comes back
// at once, as an *Error naming each field (and, for a plan Load read, its
// file and line). The Checker keeps a copy of p: changing p afterwards does
// not change it.
func Compile(p Plan) (*Checker, error) {
	probs := &problems{src: p.src}
	c := compile(p, probs)
	if err := probs.err(); err != nil {
		return nil, err
	}
	return c, nil
}

// compile builds the Checker, adding every problem to probs.
func compile(p Plan, probs *problems) *Checker {
	c := &Checker{plan: clonePlan(p), events: make(map[string]*event, len(p.Events))}
	p = c.plan
	probs.plan = &c.plan

	common := compileProps(p.Common, true, -1, probs)
	for i, ev := range p.Events {
		ref := eventRef(i, "")
		if msg := badName(ev.Name); msg != "" {
			probs.add(eventRef(i, "name"), "event name "+msg)
			continue
		}
		if _, dup := c.events[ev.Name]; dup {
			probs.add(ref, fmt.Sprintf("event %q is planned twice", ev.Name))
			continue
		}
		checkGoName(ev.GoName, eventRef(i, "go_name"), probs)
		ce := &event{name: ev.Name, allowUnknown: ev.AllowUnknown}
		ce.props = compileProps(ev.Properties, false, i, probs)
		ce.index = make(map[string]int, len(ce.props)+len(common))
		for j, cp := range ce.props {
			ce.index[cp.name] = j
		}
		for _, cp := range common {
			if _, own := ce.index[cp.name]; !own {
				ce.index[cp.name] = len(ce.props)
				ce.props = append(ce.props, cp)
			}
		}
		c.events[ev.Name] = ce
	}
	return c
}

// compileProps compiles the properties of an event (or the common ones),
// reporting a name given twice.
func compileProps(ps []Property, common bool, ev int, probs *problems) []prop {
	out := make([]prop, 0, len(ps))
	seen := make(map[string]bool, len(ps))
	for j, p := range ps {
		if msg := badName(p.Name); msg != "" {
			probs.add(propRef(common, ev, j, "name"), "property name "+msg)
			continue
		}
		if seen[p.Name] {
			probs.add(propRef(common, ev, j, ""), fmt.Sprintf("property %q is declared twice", p.Name))
			continue
		}
		seen[p.Name] = true
		out = append(out, compileProp(p, func(field string) fieldRef { return propRef(common, ev, j, field) }, probs))
	}
	return out
}

// compileProp checks one property and compiles it.
func compileProp(p Property, ref func(field string) fieldRef, probs *problems) prop {
	cp := prop{name: p.Name, typ: p.Type, code: p.Type.code(), required: p.Required}
	switch {
	case p.Type == "": // cp checks nothing but presence
		probs.add(ref("type"), "a type is required: "+typeList())
	case !p.Type.valid():
		msg := fmt.Sprintf("unknown type %q", string(p.Type))
		if s := suggest(string(p.Type), typeNames()); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		probs.add(ref("type"), msg+"; want "+typeList())
	}
	checkGoName(p.GoName, ref("go_name"), probs)

	if p.Pattern != "" {
		if p.Type != String {
			probs.add(ref("pattern"), "a pattern applies to a string property only")
		} else if re, err := compilePattern(p.Pattern); err != nil {
			probs.add(ref("pattern"), fmt.Sprintf("not a valid regular expression: %v", err))
		} else {
			m := newMatcher(p.Pattern, re)
			cp.pat, cp.pattern = &m, p.Pattern
		}
	}
	cp.min, cp.hasMin = bound(p.Min, p.Type, ref("min"), probs)
	cp.max, cp.hasMax = bound(p.Max, p.Type, ref("max"), probs)
	if cp.hasMin && cp.hasMax && cp.min > cp.max {
		probs.add(ref("max"), fmt.Sprintf("max %v is below min %v", cp.max, cp.min))
		cp.hasMax = false
	}
	if p.Enum != nil {
		compileEnum(&cp, p.Enum, ref("enum"), probs)
	}
	return cp
}

// compileEnum checks an enum (its values are distinct, of the property's
// type, and meet its pattern and bounds) and stores it in cp.
func compileEnum(cp *prop, values []string, ref fieldRef, probs *problems) {
	if cp.typ != String && cp.typ != Integer {
		probs.add(ref, "an enum applies to a string or an integer property only")
		return
	}
	if len(values) == 0 {
		probs.add(ref, "an empty enum lets no value through")
		return
	}
	seen := make(map[string]bool, len(values))
	for _, v := range values {
		if seen[v] {
			probs.add(ref, fmt.Sprintf("%q is listed twice", v))
			return
		}
		seen[v] = true
		if cp.typ == Integer {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				probs.add(ref, fmt.Sprintf("%q is not an integer", v))
				return
			}
			if cp.checkRange(float64(n)) != 0 {
				probs.add(ref, fmt.Sprintf("%d is outside min and max", n))
				return
			}
			cp.intEnum = append(cp.intEnum, n)
			continue
		}
		if k := cp.checkStringForm(v); k != 0 {
			probs.add(ref, fmt.Sprintf("%q %s", v, kindPhrase(k)))
			return
		}
		cp.strEnum = append(cp.strEnum, v)
	}
	if len(cp.strEnum) >= enumMapMin {
		cp.strSet = make(map[string]struct{}, len(cp.strEnum))
		for _, v := range cp.strEnum {
			cp.strSet[v] = struct{}{}
		}
	}
}

// kindPhrase says, in an enum problem, which of the property's own
// constraints a value breaks.
func kindPhrase(k Kind) string {
	if k == KindPattern {
		return "does not match the pattern"
	}
	return "is outside min and max"
}

// bound checks a min or max for a property of type t.
func bound(b *float64, t Type, ref fieldRef, probs *problems) (float64, bool) {
	if b == nil {
		return 0, false
	}
	switch {
	case t != Integer && t != Number && t != String && t != Array:
		probs.add(ref, "min and max apply to integer, number, string (its length) and array (its length) properties only")
	case math.IsNaN(*b) || math.IsInf(*b, 0):
		probs.add(ref, "want a finite number")
	case (t == String || t == Array) && (*b < 0 || *b != math.Trunc(*b)):
		probs.add(ref, "a length bound must be a whole number, 0 or more")
	default:
		return *b, true
	}
	return 0, false
}

// badName says what is wrong with an event's or a property's name, or "".
func badName(s string) string {
	switch {
	case s == "":
		return "is empty"
	case !utf8.ValidString(s):
		return "is not valid UTF-8"
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return "has a control character"
	}
	return ""
}

func checkGoName(name string, ref fieldRef, probs *problems) {
	if name != "" && (!token.IsIdentifier(name) || !token.IsExported(name)) {
		probs.add(ref, fmt.Sprintf("%q is not an exported Go identifier", name))
	}
}

// compilePattern compiles a pattern that the whole value must match. Its
// error names the pattern as written, not the anchored form.
func compilePattern(pattern string) (*regexp.Regexp, error) {
	if _, err := regexp.Compile(pattern); err != nil {
		var se *syntax.Error
		if errors.As(err, &se) {
			return nil, fmt.Errorf("%s: `%s`", se.Code, se.Expr)
		}
		return nil, err
	}
	return regexp.Compile(`^(?:` + pattern + `)$`)
}

func typeNames() []string {
	out := make([]string, len(types))
	for i, t := range types {
		out[i] = string(t)
	}
	return out
}

func typeList() string { return strings.Join(typeNames(), ", ") }

// clonePlan copies p deeply, so that the caller can change p afterwards.
func clonePlan(p Plan) Plan {
	p.Common = cloneProps(p.Common)
	p.Events = slices.Clone(p.Events)
	for i := range p.Events {
		p.Events[i].Properties = cloneProps(p.Events[i].Properties)
	}
	return p
}

func cloneProps(ps []Property) []Property {
	ps = slices.Clone(ps)
	for i := range ps {
		ps[i].Enum = slices.Clone(ps[i].Enum)
		if ps[i].Min != nil {
			ps[i].Min = new(*ps[i].Min)
		}
		if ps[i].Max != nil {
			ps[i].Max = new(*ps[i].Max)
		}
	}
	return ps
}

// Plan returns the plan the Checker was compiled from (a copy).
func (c *Checker) Plan() Plan {
	if c == nil {
		return Plan{}
	}
	return clonePlan(c.plan)
}

// Planned reports whether the plan has an event of that name.
func (c *Checker) Planned(name string) bool {
	if c == nil {
		return false
	}
	_, ok := c.events[name]
	return ok
}
