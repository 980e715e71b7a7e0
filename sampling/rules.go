package sampling

import (
	"fmt"
	"strings"

	"github.com/hashicorp/go-multierror"
	"github.com/multitrack/multitrack/tracker"
)

// Rule applies a sampler to the events whose name matches Pattern: an exact
// name ("query_failed") or a glob where '*' stands for any run of characters
// ("query_*", "*_failed", "*").
type Rule struct {
	Pattern string
	Sampler tracker.Sampler
}

// Rules picks a sampler by event name: the first rule whose pattern matches
// wins, and events no rule matches go to the default. Rules is immutable and
// safe for concurrent use when its samplers are.
type Rules struct {
	rules []Rule
	exact map[string]int // exact pattern -> index of its rule
	globs []glob         // in rule order
	def   tracker.Sampler
	// linear holds every rule in order when there are few: comparing a few
	// names is faster than hashing one for the map.
	linear []matcher
}

// linearMax is the number of rules up to which Sample scans them in order.
const linearMax = 8

// matcher is one rule for the linear scan.
type matcher struct {
	exact string
	glob  *glob // nil for an exact pattern
}

// glob is a compiled pattern with at least one '*'.
type glob struct {
	index  int
	prefix string
	middle []string
	suffix string
}

func compileGlob(index int, pattern string) glob {
	parts := strings.Split(pattern, "*")
	g := glob{index: index, prefix: parts[0], suffix: parts[len(parts)-1]}
	for _, m := range parts[1 : len(parts)-1] {
		if m != "" { // "**" is "*"
			g.middle = append(g.middle, m)
		}
	}
	return g
}

func (g *glob) match(s string) bool {
	if len(s) < len(g.prefix)+len(g.suffix) || !strings.HasPrefix(s, g.prefix) || !strings.HasSuffix(s, g.suffix) {
		return false
	}
	s = s[len(g.prefix) : len(s)-len(g.suffix)]
	for _, m := range g.middle {
		i := strings.Index(s, m)
		if i < 0 {
			return false
		}
		s = s[i+len(m):]
	}
	return true
}

// NewRules returns Rules with the given default (Always when nil). A rule with
// an empty pattern or a nil sampler, a pattern given twice, and a rule that an
// earlier glob always pre-empts are errors, all reported together.
func NewRules(def tracker.Sampler, rules ...Rule) (*Rules, error) {
	if def == nil {
		def = Always{}
	}
	r := &Rules{rules: append([]Rule(nil), rules...), exact: map[string]int{}, def: def}
	var errs *multierror.Error
	for i, rule := range r.rules {
		if err := r.add(i, rule); err != nil {
			errs = multierror.Append(errs, fmt.Errorf("sampling: rule %d %q: %w", i+1, rule.Pattern, err))
		}
	}
	if err := errs.ErrorOrNil(); err != nil {
		return nil, err
	}
	r.compileLinear()
	return r, nil
}

// compileLinear fills linear when the rules are few.
func (r *Rules) compileLinear() {
	if len(r.rules) > linearMax {
		return
	}
	r.linear = make([]matcher, len(r.rules))
	for i, rule := range r.rules {
		r.linear[i].exact = rule.Pattern
	}
	for k := range r.globs {
		r.linear[r.globs[k].index] = matcher{glob: &r.globs[k]}
	}
}

// add compiles rule i, or says why it cannot be used.
func (r *Rules) add(i int, rule Rule) error {
	p := rule.Pattern
	switch {
	case p == "":
		return fmt.Errorf("%w: empty pattern", ErrBadPattern)
	case strings.ContainsAny(p, ",=:"):
		return fmt.Errorf("%w: a pattern may not hold ',', '=' or ':'", ErrBadPattern)
	case rule.Sampler == nil:
		return fmt.Errorf("%w: nil sampler", ErrBadSampler)
	}
	for j := range i {
		q := r.rules[j].Pattern
		switch {
		case q == p:
			return fmt.Errorf("%w: pattern already used by rule %d", ErrDuplicate, j+1)
		case strings.Contains(q, "*") && covers(compileGlob(j, q), p):
			return fmt.Errorf("%w: rule %d %q matches every name it matches first", ErrUnreachable, j+1, q)
		}
	}
	if strings.Contains(p, "*") {
		r.globs = append(r.globs, compileGlob(i, p))
	} else {
		r.exact[p] = i
	}
	return nil
}

// covers reports whether g matches every name that pattern p matches. It is
// exact for names, and for globs it recognises the common case (g has one
// '*' run: every name p matches starts with p's prefix and ends with its
// suffix); it may miss a cover, never invent one.
func covers(g glob, p string) bool {
	if !strings.Contains(p, "*") {
		return g.match(p)
	}
	q := compileGlob(0, p)
	return len(g.middle) == 0 && strings.HasPrefix(q.prefix, g.prefix) && strings.HasSuffix(q.suffix, g.suffix)
}

// Sample hands e to the sampler of the first rule matching its name, or to
// the default.
func (r *Rules) Sample(e tracker.Event) (bool, float64) {
	if r.linear != nil {
		for i := range r.linear {
			m := &r.linear[i]
			if m.glob == nil && m.exact == e.Name || m.glob != nil && m.glob.match(e.Name) {
				return r.rules[i].Sampler.Sample(e)
			}
		}
		return r.def.Sample(e)
	}
	i, ok := r.exact[e.Name]
	if !ok {
		i = len(r.rules)
	}
	for k := range r.globs {
		g := &r.globs[k]
		if g.index > i {
			break
		}
		if g.match(e.Name) {
			i = g.index
			break
		}
	}
	if i < len(r.rules) {
		return r.rules[i].Sampler.Sample(e)
	}
	return r.def.Sample(e)
}

// Inputs returns what any of the rules' samplers, or the default, reads
// (tracker.InputsOf each): Capture resolves that much of every event
// before it asks.
func (r *Rules) Inputs() tracker.SampleInput {
	in := tracker.InputsOf(r.def)
	for _, rule := range r.rules {
		in |= tracker.InputsOf(rule.Sampler)
	}
	return in
}

// Rules returns a copy of the rules, in order.
func (r *Rules) Rules() []Rule { return append([]Rule(nil), r.rules...) }

// Default returns the sampler of events no rule matches.
func (r *Rules) Default() tracker.Sampler { return r.def }

// String returns the rules as a spec writes them, e.g.
// "query_failed=always,query_*=ratio:0.01". A default other than Always is
// written as a last "*" rule.
func (r *Rules) String() string {
	var b strings.Builder
	for i, rule := range r.rules {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(rule.Pattern + "=" + samplerString(rule.Sampler))
	}
	if _, always := r.def.(Always); !always {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString("*=" + samplerString(r.def))
	}
	return b.String()
}

// samplerString writes s as a spec does, or names its type.
func samplerString(s tracker.Sampler) string {
	if st, ok := s.(fmt.Stringer); ok {
		return st.String()
	}
	return fmt.Sprintf("%T", s)
}

var _ tracker.InputSampler = (*Rules)(nil)
