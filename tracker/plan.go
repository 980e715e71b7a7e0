package tracker

import (
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/multitrack/multitrack/internal/secret"
)

// PlanChecker checks events against a tracking plan; package plan's
// *plan.Checker is one. Its methods are called concurrently from Capture
// and must not keep or modify an event's properties. Properties for which
// exempt returns true are added by the tracker (default properties) or
// removed by it (secret keys): they are neither unknown nor missing.
type PlanChecker interface {
	// Check counts the violations of an event (its name and properties),
	// by kind. It is on Capture's path: for an event that follows the plan
	// it should cost well under 100 ns and allocate nothing.
	Check(event string, props map[string]any, exempt func(key string) bool) PlanStats
	// Allows reports whether the plan lets the event named event carry the
	// property key; in PlanStrip mode the tracker removes the others.
	Allows(event, key string) bool
	// Explain describes one of an event's violations for a log line: the
	// property it concerns ("" for an unplanned event) and what is wrong,
	// never the property's value.
	Explain(event string, props map[string]any, exempt func(key string) bool) (property, problem string)
}

// PlanMode says what Capture does with an event that breaks the tracking
// plan. Every mode counts the violations in Stats.Plan, by kind, and logs
// them (at most once a second, naming the event and the property, never
// the value).
type PlanMode uint8

const (
	// PlanWarn delivers the event as it is (the default).
	PlanWarn PlanMode = iota
	// PlanStrip removes the properties the plan does not allow (all of an
	// unplanned event's), counts them in Stats.Stripped, and delivers the
	// rest: only what the plan declares leaves the process.
	PlanStrip
	// PlanDrop rejects the event (Stats.Rejected.Plan).
	PlanDrop
)

// String returns the mode's name as MULTITRACK_PLAN_MODE spells it.
func (m PlanMode) String() string {
	switch m {
	case PlanWarn:
		return "warn"
	case PlanStrip:
		return "strip"
	case PlanDrop:
		return "drop"
	}
	return fmt.Sprintf("PlanMode(%d)", uint8(m))
}

// ParsePlanMode parses "warn", "strip" or "drop".
func ParsePlanMode(s string) (PlanMode, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "warn", "":
		return PlanWarn, nil
	case "strip":
		return PlanStrip, nil
	case "drop":
		return PlanDrop, nil
	}
	return 0, fmt.Errorf("unknown plan mode %q: want warn, strip or drop", s)
}

// WithPlan checks every kept event (sampled-out ones are not checked)
// against a tracking plan, before the tracker adds its own properties,
// and applies mode to those that break it. The default properties
// (WithProperties), $sample_rate and secret-looking keys (which are removed
// anyway) are exempt. A nil c checks nothing.
func WithPlan(c PlanChecker, mode PlanMode) Option {
	return func(cfg *config) {
		if mode > PlanDrop {
			cfg.errs = append(cfg.errs, fmt.Errorf("unknown plan mode %v", mode))
		}
		cfg.plan, cfg.planMode = c, mode
	}
}

// PlanStats counts violations of the tracking plan, by kind.
type PlanStats struct {
	Unplanned       uint64 // events the plan does not have
	MissingRequired uint64 // required properties absent
	WrongType       uint64 // values of another JSON type than the plan's
	NotInEnum       uint64 // values outside the property's enum
	Pattern         uint64 // strings that do not match the property's pattern
	Range           uint64 // values (lengths) outside the property's min and max
	UnknownProperty uint64 // properties the plan does not declare for the event
}

// Total is the number of violations.
func (p PlanStats) Total() uint64 {
	return p.Unplanned + p.MissingRequired + p.WrongType + p.NotInEnum + p.Pattern + p.Range + p.UnknownProperty
}

// planCounters are PlanStats as they are counted.
type planCounters struct {
	unplanned, missingRequired, wrongType, notInEnum, pattern, rng, unknownProperty atomic.Uint64
}

func (c *planCounters) add(p PlanStats) {
	for _, f := range [...]struct {
		n uint64
		c *atomic.Uint64
	}{
		{p.Unplanned, &c.unplanned}, {p.MissingRequired, &c.missingRequired}, {p.WrongType, &c.wrongType},
		{p.NotInEnum, &c.notInEnum}, {p.Pattern, &c.pattern}, {p.Range, &c.rng}, {p.UnknownProperty, &c.unknownProperty},
	} {
		if f.n != 0 {
			f.c.Add(f.n)
		}
	}
}

func (c *planCounters) load() PlanStats {
	return PlanStats{
		Unplanned: c.unplanned.Load(), MissingRequired: c.missingRequired.Load(), WrongType: c.wrongType.Load(),
		NotInEnum: c.notInEnum.Load(), Pattern: c.pattern.Load(), Range: c.rng.Load(), UnknownProperty: c.unknownProperty.Load(),
	}
}

// planExempt says which properties the plan does not judge: the default
// properties, added after the check, and secret-looking keys, removed
// after it. ($sample_rate is the checker's own business: a replayed event
// carries it.)
func (t *Tracker) planExempt(key string) bool {
	if _, ok := t.props[key]; ok {
		return true
	}
	rule := t.secrets
	if rule == nil {
		rule = secret.Default()
	}
	return rule.Match(key)
}

// enforcePlan checks e against the plan, counts and logs its violations,
// and applies the mode: it returns false when e is to be dropped, and
// whether it removed properties from e (a copy: the caller's map is not
// modified).
func (t *Tracker) enforcePlan(e *Event) (keep, stripped bool) {
	v := t.plan.Check(e.Name, e.Properties, t.exempt)
	n := v.Total()
	if n == 0 {
		return true, false
	}
	t.planCounts.add(v)
	if ev := t.log.of(kindPlan).Warn(); ev != nil {
		prop, problem := t.plan.Explain(e.Name, e.Properties, t.exempt)
		ev.Str("event", e.Name).Str("property", prop).Str("problem", problem).
			Uint64("violations", n).Stringer("mode", t.planMode).Msg("multitrack: event breaks the tracking plan")
	}
	switch t.planMode {
	case PlanDrop:
		t.counters.planRejected.Add(1)
		return false, false
	case PlanStrip:
		if v.UnknownProperty == 0 && v.Unplanned == 0 {
			return true, false
		}
		p := make(map[string]any, len(e.Properties))
		for k, x := range e.Properties {
			if t.plan.Allows(e.Name, k) || t.exempt(k) {
				p[k] = x
			}
		}
		if removed := len(e.Properties) - len(p); removed > 0 {
			t.counters.stripped.Add(uint64(removed))
			e.Properties = p
			return true, true
		}
	}
	return true, false
}
