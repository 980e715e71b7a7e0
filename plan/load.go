package plan

import (
	"fmt"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// Load reads a plan from a YAML or JSON file and compiles it. Every problem
// in the file comes back at once, as an *Error, each naming the file, the
// line and the field.
func Load(path string) (*Checker, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tracking plan: %w", err)
	}
	return Parse(data, path)
}

// Parse decodes a plan written in YAML or JSON (JSON is read as the YAML it
// also is) and compiles it; name, usually the file's path, prefixes every
// problem. The format:
//
//	common:                  # properties any event may carry
//	  service: string        # a bare type is short for {type: string}
//	events:
//	  query_failed:
//	    description: A query ended with an error.
//	    allow_unknown_properties: false
//	    properties:
//	      sqlstate:
//	        type: string     # string, integer, number, boolean, timestamp, object, array
//	        required: true
//	        pattern: "[0-9A-Z]{5}"
//	        go_name: SQLState
//	      error_category: {type: string, enum: [undefined_table, syntax_error]}
//	      duration_ms: {type: integer, min: 0}
func Parse(data []byte, name string) (*Checker, error) {
	p, probs := decode(data, name)
	if probs.list != nil && p.src == nil { // nothing to compile
		return nil, probs.err()
	}
	// Compile what could be decoded, so that every problem is found at once.
	c := compile(p, probs)
	if err := probs.err(); err != nil {
		return nil, err
	}
	return c, nil
}

// maxNodes bounds the YAML nodes a plan may have, aliases expanded, so that
// a few lines of nested aliases cannot make decoding take forever.
const maxNodes = 1 << 20

// decoder turns a YAML document into a Plan, recording each field's line.
type decoder struct {
	plan     Plan
	probs    problems
	nodes    int
	tooLarge bool // over maxNodes: decoding stopped
}

// decode returns the plan in data, with the problems decoding found. The
// plan remembers the lines of its fields (src), so that compiling it can
// name them; it has no src when the file could not be read as YAML.
func decode(data []byte, name string) (Plan, *problems) {
	src := &source{file: name, lines: map[fieldRef]int{}}
	d := &decoder{}
	d.probs.src = src
	d.probs.plan = &d.plan

	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		line, msg := yamlErrorLine(err)
		d.probs.list = append(d.probs.list, Problem{File: name, Line: line, Msg: msg})
		return Plan{}, &d.probs
	}
	if len(doc.Content) == 0 {
		d.probs.list = append(d.probs.list, Problem{File: name, Msg: "the file is empty: want a mapping with events"})
		return Plan{}, &d.probs
	}
	d.probs.src.set(topRef(""), doc.Content[0].Line)
	d.top(doc.Content[0])
	if d.tooLarge {
		return Plan{}, &d.probs // a part of a plan: nothing to compile
	}
	d.plan.src = src
	return d.plan, &d.probs
}

// yamlSyntax matches the text of yaml's syntax errors. It is used only to
// show the line in our own form; any other text is shown as it is.
var yamlSyntax = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func yamlErrorLine(err error) (int, string) {
	if m := yamlSyntax.FindStringSubmatch(err.Error()); m != nil {
		if n, convErr := strconv.Atoi(m[1]); convErr == nil {
			return n, "syntax: " + m[2]
		}
	}
	return 0, "syntax: " + err.Error()
}

func (d *decoder) top(n *yaml.Node) {
	d.fields(n, topRef(""), []string{"common", "events"}, func(key string, ref fieldRef, v *yaml.Node) {
		switch key {
		case "common":
			d.properties(v, ref, true, -1, &d.plan.Common)
		case "events":
			d.each(v, ref, func(name string, keyLine int, ev *yaml.Node) {
				i := len(d.plan.Events)
				d.plan.Events = append(d.plan.Events, Event{Name: name})
				d.probs.src.set(eventRef(i, ""), keyLine)
				d.event(i, ev)
			})
		}
	})
}

func (d *decoder) event(i int, n *yaml.Node) {
	fields := []string{"description", "properties", "allow_unknown_properties", "go_name"}
	d.fields(n, eventRef(i, ""), fields, func(key string, ref fieldRef, v *yaml.Node) {
		ev := &d.plan.Events[i]
		switch key {
		case "description":
			ev.Description = d.str(v, ref)
		case "go_name":
			ev.GoName = d.str(v, ref)
		case "allow_unknown_properties":
			ev.AllowUnknown = d.boolean(v, ref)
		case "properties":
			d.properties(v, ref, false, i, &ev.Properties)
		}
	})
}

// properties decodes a mapping of properties into list: the common ones,
// or event ev's.
func (d *decoder) properties(n *yaml.Node, ref fieldRef, common bool, ev int, list *[]Property) {
	d.each(n, ref, func(name string, keyLine int, v *yaml.Node) {
		j := len(*list)
		*list = append(*list, Property{Name: name})
		d.probs.src.set(propRef(common, ev, j, ""), keyLine)
		d.property(&(*list)[j], common, ev, j, v)
	})
}

func (d *decoder) property(p *Property, common bool, ev, i int, n *yaml.Node) {
	n = d.resolve(n)
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" {
		p.Type = Type(n.Value) // the short form: a bare type
		d.probs.src.set(propRef(common, ev, i, "type"), n.Line)
		return
	}
	fields := []string{"type", "description", "required", "enum", "pattern", "min", "max", "go_name"}
	d.fields(n, propRef(common, ev, i, ""), fields, func(key string, ref fieldRef, v *yaml.Node) {
		switch key {
		case "type":
			p.Type = Type(d.str(v, ref))
		case "description":
			p.Description = d.str(v, ref)
		case "go_name":
			p.GoName = d.str(v, ref)
		case "pattern":
			p.Pattern = d.str(v, ref)
		case "required":
			p.Required = d.boolean(v, ref)
		case "min":
			p.Min = d.number(v, ref)
		case "max":
			p.Max = d.number(v, ref)
		case "enum":
			if v = d.resolve(v); d.tooLarge {
				return
			}
			if v.Kind != yaml.SequenceNode {
				d.probs.add(ref, "want a list of values, got "+nodeKind(v))
				return
			}
			p.Enum = []string{} // present, even if empty: Compile says an empty enum is a mistake
			for _, e := range v.Content {
				if e = d.resolve(e); d.tooLarge {
					return
				}
				if e.Kind != yaml.ScalarNode || e.Tag == "!!null" {
					d.probs.addAt(ref, e.Line, "want each value a string or a number, got "+nodeKind(e))
					continue
				}
				p.Enum = append(p.Enum, e.Value)
			}
		}
	})
}

// fields calls f for each key of the mapping n (the item at ref), in order,
// with the field's ref, whose line it records; it reports a key that is not
// one of known (with a suggestion), a repeated key, and a node that is not
// a mapping.
func (d *decoder) fields(n *yaml.Node, ref fieldRef, known []string, f func(key string, ref fieldRef, v *yaml.Node)) {
	d.each(n, ref, func(key string, keyLine int, v *yaml.Node) {
		if slices.Contains(known, key) {
			fr := ref
			fr.field = key
			d.probs.src.set(fr, v.Line)
			f(key, fr, v)
			return
		}
		msg := fmt.Sprintf("unknown field %q", key)
		if s := suggest(key, known); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		d.probs.addAt(ref, keyLine, msg)
	})
}

// each calls f for each entry of the mapping n, in order, with the key's
// line; it reports a repeated key, a key that is not a string, and a node
// that is not a mapping. A null node is an empty mapping.
func (d *decoder) each(n *yaml.Node, ref fieldRef, f func(key string, keyLine int, v *yaml.Node)) {
	n = d.resolve(n)
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.probs.add(ref, "want a mapping, got "+nodeKind(n))
		return
	}
	seen := make(map[string]int, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content) && !d.tooLarge; i += 2 {
		k, v := d.resolve(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.probs.addAt(ref, k.Line, "a key must be a string, got "+nodeKind(k))
			continue
		}
		if first, dup := seen[k.Value]; dup {
			d.probs.addAt(ref, k.Line, fmt.Sprintf("%q is given twice (first on line %d)", k.Value, first))
			continue
		}
		seen[k.Value] = k.Line
		f(k.Value, k.Line, v)
	}
}

// resolve follows aliases and counts nodes against maxNodes. Past the
// budget it reports the plan as too large, once, and decoding stops: the
// callers see a null node and stop at tooLarge.
func (d *decoder) resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	if d.nodes++; d.nodes > maxNodes && !d.tooLarge {
		d.tooLarge = true
		d.probs.addAt(topRef(""), n.Line, fmt.Sprintf("the plan is too large (over %d YAML nodes, aliases expanded)", maxNodes))
	}
	if d.tooLarge || n.Kind == yaml.AliasNode {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: n.Line}
	}
	return n
}

func (d *decoder) str(n *yaml.Node, ref fieldRef) string {
	if n = d.resolve(n); d.tooLarge {
		return ""
	}
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		d.probs.add(ref, "want a string, got "+nodeKind(n))
		return ""
	}
	return n.Value
}

func (d *decoder) boolean(n *yaml.Node, ref fieldRef) bool {
	if n = d.resolve(n); d.tooLarge {
		return false
	}
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		d.probs.add(ref, "want true or false, got "+nodeKind(n))
		return false
	}
	var b bool
	if err := n.Decode(&b); err != nil {
		d.probs.add(ref, "want true or false")
	}
	return b
}

func (d *decoder) number(n *yaml.Node, ref fieldRef) *float64 {
	if n = d.resolve(n); d.tooLarge {
		return nil
	}
	var f float64
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") || n.Decode(&f) != nil {
		d.probs.add(ref, "want a number, got "+nodeKind(n))
		return nil
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		d.probs.add(ref, "want a finite number")
		return nil
	}
	return &f
}

// nodeKind describes a node for an error message, without its value.
func nodeKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return "nothing (null)"
		case "!!bool":
			return "a boolean"
		case "!!int", "!!float":
			return "a number"
		case "!!str":
			return "a string"
		}
		return "a " + n.Tag + " value"
	}
	return "an alias"
}

// suggest returns the known word closest to s, if it is close (at most two
// edits, fewer than half of s), or "".
func suggest(s string, known []string) string {
	best, bestD := "", 3
	for _, k := range known {
		if dist := editDistance(s, k); dist < bestD && dist*2 < len(s) && dist > 0 {
			best, bestD = k, dist
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b, in bytes.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 64
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
