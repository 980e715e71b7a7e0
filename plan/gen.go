package plan

import (
	"bytes"
	"fmt"
	"go/format"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Generate returns gofmt'ed Go source for package pkg with one type per
// planned event, whose Event method builds the tracker.Event:
//
//	tr.Capture(ctx, events.QueryFailed{SQLState: "42P01", ErrorCategory: events.ErrorCategoryUndefinedTable}.Event())
//
// Required properties are plain fields, optional ones pointers (nil maps
// and slices for objects and arrays), left out of the event when nil; an
// enum becomes a named type with a constant per value. A misspelled
// property or a value of the wrong type is then a compile error. Common
// properties get no fields: the tracker adds them (WithProperties). Go
// names come from the plan's names, or its go_name fields.
func Generate(p Plan, pkg string) ([]byte, error) {
	if !token.IsIdentifier(pkg) {
		return nil, fmt.Errorf("generate: package name %q is not a Go identifier", pkg)
	}
	if _, err := Compile(p); err != nil {
		return nil, err
	}
	g := &generator{plan: p, probs: &problems{src: p.src, plan: &p}, enums: map[string]*enumType{}}
	g.name()
	if err := g.probs.err(); err != nil {
		return nil, err
	}
	g.write(pkg)
	src, err := format.Source(g.buf.Bytes())
	if err != nil { // a bug here, not in the plan
		return nil, fmt.Errorf("generate: formatting the code: %w", err)
	}
	return src, nil
}

// generator holds the Go names chosen for a plan.
type generator struct {
	plan   Plan
	probs  *problems
	types  []string             // each event's type name
	fields [][]string           // each event's properties' field names
	enumOf [][]*enumType        // each event's properties' enum types (nil: none)
	enums  map[string]*enumType // by type name
	order  []*enumType          // in order of first use
	buf    bytes.Buffer
}

// enumType is a named type for an enum, shared by the properties that have
// the same Go name, type and values.
type enumType struct {
	name   string
	typ    Type
	values []string
	consts []string
	doc    string // the first property's name, for the comment
}

// name chooses every Go name, reporting what cannot be named.
func (g *generator) name() {
	taken := map[string]string{} // Go type name -> what has it
	for i, ev := range g.plan.Events {
		t := ev.GoName
		if t == "" {
			t = goName(ev.Name, "Event")
		}
		ref := eventRef(i, "go_name")
		switch {
		case t == "":
			g.probs.add(ref, fmt.Sprintf("no Go name can be derived from %q: give the event a go_name", ev.Name))
		case taken[t] != "":
			g.probs.add(ref, fmt.Sprintf("Go type %s would name both %s and event %q: give one a go_name", t, taken[t], ev.Name))
		}
		taken[t] = strconv.Quote(ev.Name)
		g.types = append(g.types, t)
	}
	for i, ev := range g.plan.Events {
		var fields []string
		var enums []*enumType
		seen := map[string]string{"Event": "the method Event"}
		for j, p := range ev.Properties {
			f := p.GoName
			if f == "" {
				f = goName(p.Name, "P")
			}
			ref := propRef(false, i, j, "go_name")
			switch {
			case f == "":
				g.probs.add(ref, fmt.Sprintf("no Go name can be derived from %q: give the property a go_name", p.Name))
			case seen[f] != "":
				g.probs.add(ref, fmt.Sprintf("Go field %s would be both %s and property %q: give one a go_name", f, seen[f], p.Name))
			}
			seen[f] = fmt.Sprintf("property %q", p.Name)
			fields = append(fields, f)
			var et *enumType
			if len(p.Enum) > 0 && f != "" {
				et = g.enumType(f, g.types[i], p, taken, ref)
			}
			enums = append(enums, et)
		}
		g.fields = append(g.fields, fields)
		g.enumOf = append(g.enumOf, enums)
	}
}

// enumType returns the type for p's enum: named after the field, or the
// field and "Value", or the event and the field, the first that no other
// enum (with other values) and no event has. Enums with the same name and
// values share a type.
func (g *generator) enumType(field, event string, p Property, taken map[string]string, ref fieldRef) *enumType {
	for _, name := range []string{field, field + "Value", event + field} {
		if et := g.enums[name]; et != nil {
			if et.typ == p.Type && slices.Equal(et.values, p.Enum) {
				return et
			}
			continue
		}
		if taken[name] != "" {
			continue
		}
		et := &enumType{name: name, typ: p.Type, values: p.Enum, doc: p.Name}
		seen := map[string]bool{}
		for k, v := range p.Enum {
			c := goName(v, "")
			if p.Type == Integer && strings.HasPrefix(v, "-") {
				c = "Minus" + c
			}
			if c == "" || seen[c] {
				c = "Value" + strconv.Itoa(k+1)
			}
			seen[c] = true
			et.consts = append(et.consts, name+c)
		}
		for _, c := range et.consts {
			if taken[c] != "" {
				g.probs.add(ref, fmt.Sprintf("Go constant %s would name both %s and a value of property %q: give the property a go_name", c, taken[c], p.Name))
			}
			taken[c] = fmt.Sprintf("a value of property %q", p.Name)
		}
		taken[name] = fmt.Sprintf("the enum of property %q", p.Name)
		g.enums[name] = et
		g.order = append(g.order, et)
		return et
	}
	g.probs.add(ref, fmt.Sprintf("no free Go type name for the enum of %q: give it a go_name", p.Name))
	return nil
}

func (g *generator) printf(format string, args ...any) { fmt.Fprintf(&g.buf, format, args...) }

// write writes the unformatted source.
func (g *generator) write(pkg string) {
	from := "a tracking plan"
	if g.plan.src != nil {
		from = oneLine(filepath.Base(g.plan.src.file))
	}
	g.printf("// Code generated by multitrack gen from %s; DO NOT EDIT.\n\n", from)
	g.printf("// Package %s builds the events of a tracking plan: one type per event,\n", pkg)
	g.printf("// whose Event method returns it for tracker.Capture.\npackage %s\n\n", pkg)
	usesTime := false
	for _, ev := range g.plan.Events {
		for _, p := range ev.Properties {
			usesTime = usesTime || p.Type == Timestamp
		}
	}
	if len(g.plan.Events) > 0 {
		g.printf("import (\n")
		if usesTime {
			g.printf("\"time\"\n\n")
		}
		g.printf("\"github.com/multitrack/multitrack/tracker\"\n)\n\n")
	}
	for _, et := range g.order {
		g.writeEnum(et)
	}
	for i := range g.plan.Events {
		g.writeEvent(i)
	}
}

func (g *generator) writeEnum(et *enumType) {
	base := "string"
	if et.typ == Integer {
		base = "int64"
	}
	g.printf("// %s is a value of the property %q.\ntype %s %s\n\n", et.name, et.doc, et.name, base)
	g.printf("// The values of %s.\nconst (\n", et.name)
	for k, v := range et.values {
		lit := strconv.Quote(v)
		if et.typ == Integer {
			n, _ := strconv.ParseInt(v, 10, 64) // Compile checked it
			lit = strconv.FormatInt(n, 10)
		}
		g.printf("%s %s = %s\n", et.consts[k], et.name, lit)
	}
	g.printf(")\n\n")
}

var goTypes = map[Type]string{
	String: "string", Integer: "int64", Number: "float64", Boolean: "bool",
	Timestamp: "time.Time", Object: "map[string]any", Array: "[]any",
}

func (g *generator) writeEvent(i int) {
	ev := g.plan.Events[i]
	t := g.types[i]
	g.printf("// %s builds the event %q.\n", t, ev.Name)
	comment(&g.buf, true, ev.Description)
	g.printf("type %s struct {\n", t)
	for j, p := range ev.Properties {
		typ := goTypes[p.Type]
		if et := g.enumOf[i][j]; et != nil {
			typ = et.name
		}
		if !p.Required && p.Type != Object && p.Type != Array {
			typ = "*" + typ
		}
		g.printf("// %s is %q, %s.\n", g.fields[i][j], p.Name, constraints(p))
		comment(&g.buf, false, p.Description)
		g.printf("%s %s\n", g.fields[i][j], typ)
	}
	g.printf("}\n\n")
	g.printf("// Event returns the event, ready for tracker.Capture.\n")
	g.printf("func (e %s) Event() tracker.Event {\n", t)
	g.printf("p := make(map[string]any, %d)\n", len(ev.Properties))
	for j, p := range ev.Properties {
		f, key := "e."+g.fields[i][j], strconv.Quote(p.Name)
		conv := func(v string) string {
			if et := g.enumOf[i][j]; et != nil {
				if et.typ == Integer {
					return "int64(" + v + ")"
				}
				return "string(" + v + ")"
			}
			return v
		}
		switch {
		case p.Required:
			g.printf("p[%s] = %s\n", key, conv(f))
		case p.Type == Object || p.Type == Array:
			g.printf("if %s != nil {\np[%s] = %s\n}\n", f, key, f)
		default:
			g.printf("if %s != nil {\np[%s] = %s\n}\n", f, key, conv("*"+f))
		}
	}
	g.printf("return tracker.Event{Name: %s, Properties: p}\n}\n\n", strconv.Quote(ev.Name))
}

// constraints describes a property's constraints for its field's comment.
func constraints(p Property) string {
	var parts []string
	if p.Required {
		parts = append(parts, "required")
	} else {
		parts = append(parts, "optional")
	}
	if p.Pattern != "" {
		parts = append(parts, "matching "+oneLine(p.Pattern))
	}
	what := ""
	switch p.Type {
	case String:
		what = "length "
	case Array:
		what = "elements "
	}
	if p.Min != nil {
		parts = append(parts, what+"at least "+formatBound(*p.Min))
	}
	if p.Max != nil {
		parts = append(parts, what+"at most "+formatBound(*p.Max))
	}
	return strings.Join(parts, ", ")
}

// comment writes text as // comment lines, after an empty one when it is a
// paragraph of its own.
func comment(b *bytes.Buffer, paragraph bool, text string) {
	text = strings.TrimSpace(text)
	if text == "" {
		return
	}
	if paragraph {
		b.WriteString("//\n")
	}
	for _, line := range strings.Split(text, "\n") {
		fmt.Fprintf(b, "// %s\n", strings.TrimSpace(oneLine(line)))
	}
}

// oneLine returns s fit for one line of a comment: valid UTF-8 without
// control characters, or quoted when it has any.
func oneLine(s string) string {
	if utf8.ValidString(s) && strings.IndexFunc(s, unicode.IsControl) < 0 {
		return s
	}
	return strconv.Quote(s)
}
