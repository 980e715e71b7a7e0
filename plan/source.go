package plan

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// source remembers where each field of a loaded plan was written, so that
// a problem found after decoding still names its line.
type source struct {
	file  string
	lines map[fieldRef]int
}

// fieldRef names one field of a plan by position: a section (top level,
// common properties or events), an event and a property index (-1 when the
// field is above that level), and the field's key ("" for the whole item).
type fieldRef struct {
	section section
	event   int
	prop    int
	field   string
}

type section uint8

const (
	sectionTop section = iota
	sectionCommon
	sectionEvents
)

func topRef(field string) fieldRef { return fieldRef{sectionTop, -1, -1, field} }
func eventRef(ev int, field string) fieldRef {
	return fieldRef{sectionEvents, ev, -1, field}
}
func propRef(common bool, ev, prop int, field string) fieldRef {
	if common {
		return fieldRef{sectionCommon, -1, prop, field}
	}
	return fieldRef{sectionEvents, ev, prop, field}
}

// line returns the line of ref, or of the nearest enclosing field that has
// one (a missing field is reported at its parent), or 0.
func (s *source) line(ref fieldRef) int {
	if s == nil {
		return 0
	}
	for {
		if l, ok := s.lines[ref]; ok {
			return l
		}
		switch {
		case ref.field != "":
			ref.field = ""
		case ref.prop >= 0:
			ref.prop = -1
			if ref.section == sectionCommon {
				ref = topRef("common")
			}
		case ref.event >= 0:
			ref = topRef("events")
		case ref.section != sectionTop:
			ref.section = sectionTop
		default:
			return 0
		}
	}
}

func (s *source) set(ref fieldRef, line int) {
	if s != nil && line > 0 {
		s.lines[ref] = line
	}
}

func (s *source) fileName() string {
	if s == nil {
		return ""
	}
	return s.file
}

// problems collects a plan's problems.
type problems struct {
	src      *source
	plan     *Plan
	list     []Problem
	reported map[fieldRef]bool // fields with a problem already: one each is enough
}

// add records a problem with the value of the field ref, at its line,
// unless that value has one already (a value of the wrong kind, reported
// while decoding, is not reported again as missing when compiling).
func (ps *problems) add(ref fieldRef, msg string) {
	if ps.reported[ref] {
		return
	}
	if ps.reported == nil {
		ps.reported = map[fieldRef]bool{}
	}
	ps.reported[ref] = true
	ps.addAt(ref, ps.src.line(ref), msg)
}

// addAt records a problem within the field ref at a given line: a key's, a
// list entry's.
func (ps *problems) addAt(ref fieldRef, line int, msg string) {
	ps.list = append(ps.list, Problem{File: ps.src.fileName(), Line: line, Field: ps.path(ref), Msg: msg})
}

// err returns an *Error with the problems in file order, or nil.
func (ps *problems) err() error {
	if len(ps.list) == 0 {
		return nil
	}
	slices.SortStableFunc(ps.list, func(a, b Problem) int { return cmp.Compare(a.Line, b.Line) })
	return &Error{Problems: ps.list}
}

// path returns ref as a path of names, e.g.
// events.query_failed.properties.sqlstate.pattern.
func (ps *problems) path(ref fieldRef) string {
	var parts []string
	p := ps.plan
	switch ref.section {
	case sectionCommon:
		parts = append(parts, "common")
		if ref.prop >= 0 {
			parts = append(parts, nameOrIndex(propName(p.Common, ref.prop), ref.prop))
		}
	case sectionEvents:
		parts = append(parts, "events")
		if ref.event >= 0 {
			var ev *Event
			name := ""
			if ref.event < len(p.Events) {
				ev = &p.Events[ref.event]
				name = ev.Name
			}
			parts = append(parts, nameOrIndex(name, ref.event))
			if ref.prop >= 0 && ev != nil {
				parts = append(parts, "properties", nameOrIndex(propName(ev.Properties, ref.prop), ref.prop))
			}
		}
	}
	if ref.field != "" {
		parts = append(parts, ref.field)
	}
	var b strings.Builder
	for i, part := range parts {
		if i > 0 && !strings.HasPrefix(part, "[") {
			b.WriteByte('.')
		}
		b.WriteString(part)
	}
	return b.String()
}

func propName(ps []Property, i int) string {
	if i < len(ps) {
		return ps[i].Name
	}
	return ""
}

// nameOrIndex shows a name as it is when it is a plain word, quoted when it
// has dots, spaces or other bytes that would make the path ambiguous, and
// as [i] when it is empty.
func nameOrIndex(name string, i int) string {
	if name == "" {
		return "[" + strconv.Itoa(i) + "]"
	}
	for _, r := range name {
		if !(r == '_' || r == '$' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return strconv.Quote(name)
		}
	}
	return name
}
