package plan

import (
	"regexp"
	"regexp/syntax"
)

// matcher matches a whole string against a pattern. The patterns tracking
// plans mostly have (codes, ids: "[0-9A-Z]{5}", "[a-z]{2}-[a-z]+-[0-9]+")
// are sequences of ASCII character sets, each repeated; such a pattern is
// matched by one scan of the string, several times faster than the regexp
// package. Any other pattern goes to the regexp.
type matcher struct {
	steps []step // when not nil, the pattern as a sequence
	re    *regexp.Regexp
}

// step is a set of ASCII bytes repeated min to max times (max < 0: no
// limit).
type step struct {
	set      [2]uint64
	min, max int
}

func (s *step) has(b byte) bool { return b < 128 && s.set[b>>6]&(1<<(b&63)) != 0 }

// match reports whether the whole of s matches.
func (m *matcher) match(s string) bool {
	if m.steps == nil {
		return m.re.MatchString(s)
	}
	i := 0
	for k := range m.steps {
		st := &m.steps[k]
		if st.min == st.max { // a fixed count, as most codes and ids have
			if len(s)-i < st.min {
				return false
			}
			for _, b := range []byte(s[i : i+st.min]) {
				if !st.has(b) {
					return false
				}
			}
			i += st.min
			continue
		}
		n := 0
		for i < len(s) && n != st.max && st.has(s[i]) {
			i++
			n++
		}
		if n < st.min {
			return false
		}
	}
	return i == len(s)
}

// newMatcher returns a matcher of re (anchored at both ends), with the
// fast form when pattern has one.
func newMatcher(pattern string, re *regexp.Regexp) matcher {
	m := matcher{re: re}
	tree, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return m
	}
	steps, ok := appendSteps(nil, tree, true, true)
	if ok && greedyIsExact(steps) {
		m.steps = steps
		if m.steps == nil {
			m.steps = []step{} // the empty pattern: only "" matches
		}
	}
	return m
}

// appendSteps appends the steps of re, or says it has no such form. first
// and last say whether re starts or ends the pattern, where ^ and $ change
// nothing (the pattern is anchored anyway).
func appendSteps(steps []step, re *syntax.Regexp, first, last bool) ([]step, bool) {
	switch re.Op {
	case syntax.OpEmptyMatch:
		return steps, true
	case syntax.OpBeginText:
		return steps, first
	case syntax.OpEndText:
		return steps, last
	case syntax.OpCapture:
		return appendSteps(steps, re.Sub[0], first, last)
	case syntax.OpConcat:
		for i, sub := range re.Sub {
			var ok bool
			if steps, ok = appendSteps(steps, sub, first && i == 0, last && i == len(re.Sub)-1); !ok {
				return nil, false
			}
		}
		return steps, true
	case syntax.OpLiteral:
		for _, r := range re.Rune {
			set, ok := runeSet(r, re.Flags&syntax.FoldCase != 0)
			if !ok {
				return nil, false
			}
			steps = append(steps, step{set: set, min: 1, max: 1})
		}
		return steps, true
	case syntax.OpCharClass:
		set, ok := classSet(re.Rune)
		return append(steps, step{set: set, min: 1, max: 1}), ok
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		one, ok := appendSteps(nil, re.Sub[0], false, false)
		if !ok || len(one) != 1 || one[0].min != 1 || one[0].max != 1 {
			return nil, false
		}
		st := step{set: one[0].set}
		switch re.Op {
		case syntax.OpStar:
			st.min, st.max = 0, -1
		case syntax.OpPlus:
			st.min, st.max = 1, -1
		case syntax.OpQuest:
			st.min, st.max = 0, 1
		default:
			st.min, st.max = re.Min, re.Max
		}
		return append(steps, st), true
	}
	return nil, false
}

// runeSet returns the set of one ASCII rune. A case-folded literal has no
// set: folding reaches beyond ASCII ((?i)k matches the Kelvin sign).
func runeSet(r rune, fold bool) ([2]uint64, bool) {
	var set [2]uint64
	if r >= 128 || fold {
		return set, false
	}
	set[r>>6] |= 1 << (r & 63)
	return set, true
}

// classSet returns the set of a character class's ranges (pairs), when
// all are ASCII.
func classSet(ranges []rune) ([2]uint64, bool) {
	var set [2]uint64
	for i := 0; i+1 < len(ranges); i += 2 {
		if ranges[i+1] >= 128 {
			return set, false
		}
		for r := ranges[i]; r <= ranges[i+1]; r++ {
			set[r>>6] |= 1 << (r & 63)
		}
	}
	return set, true
}

// greedyIsExact reports whether matching steps greedily, without going
// back, finds a match whenever there is one: each step that may repeat a
// variable number of times shares no byte with the steps that can follow
// it directly (up to and including the next that must match at least once).
func greedyIsExact(steps []step) bool {
	for i, s := range steps {
		if s.min == s.max {
			continue
		}
		for _, t := range steps[i+1:] {
			if s.set[0]&t.set[0] != 0 || s.set[1]&t.set[1] != 0 {
				return false
			}
			if t.min > 0 {
				break
			}
		}
	}
	return true
}
