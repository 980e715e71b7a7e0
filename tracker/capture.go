package tracker

import (
	"context"
	"fmt"
	"time"

	"github.com/multitrack/multitrack/internal/json"
	"github.com/multitrack/multitrack/internal/secret"
	"github.com/multitrack/multitrack/internal/uuidv7"
)

// Capture records e. It never blocks (beyond a Block policy's timeout),
// never panics and never fails: what it cannot keep it counts in Stats. ctx
// serves enrichment only (WithOrganization): delivery outlives it. e's maps
// must not be modified after the call.
func (t *Tracker) Capture(ctx context.Context, e Event) {
	if t == nil {
		return
	}
	if t.closed.Load() {
		t.counters.afterClose.Add(1)
		t.refuseClosed(&e)
		return
	}
	defer t.recoverCapture()
	if e.Name == "" {
		t.reject(reasonEmptyName, &e, nil)
		return
	}
	if !e.Timestamp.IsZero() {
		if err := json.CheckTimestamp(e.Timestamp); err != nil {
			t.reject(reasonTimestamp, &e, err)
			return
		}
	}

	// Sampling comes as early as the sampler allows: before the identity is
	// resolved when it does not read it (InputSampler), with the UUID's
	// random key drawn only when it reads that; a sampled-out event then
	// costs little more than the sampler.
	rate, resolved, groupsSize := 1.0, false, 0
	if t.sampler != nil {
		if t.inputs&InputIdentity != 0 {
			groupsSize, resolved = t.resolveIdentity(ctx, &e), true
		}
		if t.inputs&InputKey != 0 && e.UUID == "" {
			e.rnd, e.hasRnd = uuidv7.NewRandom(), true
		}
		keep, r := t.sampler.Sample(e) // a panic is recovered by recoverCapture, and counted
		if !keep {
			t.counters.sampledOut.Add(1)
			return
		}
		rate = t.checkRate(r)
	}
	if !resolved {
		groupsSize = t.resolveIdentity(ctx, &e)
	}

	rule := t.secrets
	if rule == nil {
		rule = secret.Default()
	}
	size, secrets, verr := checkEvent(&e, rule, groupsSize)
	if verr != nil {
		t.reject(reasonUnencodable, &e, verr)
		return
	}
	if size+t.propsSize > t.maxSize() {
		t.reject(reasonTooLarge, &e, fmt.Errorf("about %d bytes, limit %d", size+t.propsSize, t.maxSize()))
		return
	}
	if t.plan != nil {
		keep, stripped := t.enforcePlan(&e)
		if !keep {
			return
		}
		if stripped { // what was removed may have held secrets
			_, secrets, _ = checkEvent(&e, rule, groupsSize)
		}
	}
	if secrets > 0 || rate < 1 || len(t.props) > 0 {
		t.resolveProperties(&e, rule, secrets, rate)
	}
	if e.Timestamp.IsZero() {
		e.Timestamp = time.Now()
	}
	if e.UUID == "" && !e.hasRnd {
		// The UUID is fixed now (its time and random bits); its text is
		// written off the caller's path, where the event leaves the
		// tracker (setUUID), so that Capture allocates nothing.
		e.rnd, e.hasRnd = uuidv7.NewRandom(), true
	}
	t.counters.kept.Add(1)

	for i, w := range t.workers {
		if w.cfg.sampler == nil {
			w.enqueue(&e)
			continue
		}
		keep, r := t.sampleSink(w, sinkKeyed(e, i))
		if !keep {
			w.counters.sampledOut.Add(1)
			continue
		}
		if r >= 1 {
			w.enqueue(&e)
			continue
		}
		se := e
		se.Properties = withProperty(e.Properties, PropSampleRate, sampleRate(e.Properties)*r)
		w.enqueue(&se)
	}
}

// resolveIdentity fills e's organization from ctx when e has none, and its
// distinct id when empty: the organization, else the fallback. It returns
// the size checkEvent counts for e's groups when it knows it (they are the
// organization's shared map), else 0.
func (t *Tracker) resolveIdentity(ctx context.Context, e *Event) (groupsSize int) {
	org := e.Groups[GroupOrganization]
	if org == "" && ctx != nil {
		if o, _ := ctx.Value(orgKey{}).(*orgValue); o != nil && o.org != "" {
			org = o.org
			if len(e.Groups) == 0 {
				e.Groups, groupsSize = o.groups, o.groupsSize
			} else {
				e.Groups = o.with(e.Groups)
			}
		}
	}
	if e.DistinctID == "" {
		e.DistinctID = org
		if org == "" {
			e.DistinctID = t.fallback()
		}
	}
	return groupsSize
}

// recoverCapture keeps a panic in Capture (a sampler's, most likely) from
// reaching the caller; the event is dropped and counted.
func (t *Tracker) recoverCapture() {
	if r := recover(); r != nil {
		t.counters.panics.Add(1)
		t.log.panicked("", r, "multitrack: recovered a panic in Capture; event dropped")
	}
}

// sampleSink calls w's sampler, recovering a panic (the event is then not
// sent to that sink, but still to the others; the panic is counted in the
// sink's Panics).
func (t *Tracker) sampleSink(w *worker, e Event) (keep bool, rate float64) {
	defer func() {
		if r := recover(); r != nil {
			w.counters.panics.Add(1)
			t.log.panicked(w.name, r, "multitrack: sink sampler panicked; event not sent to that sink")
			keep = false
		}
	}()
	keep, rate = w.cfg.sampler.Sample(e)
	return keep, t.checkRate(rate)
}

// checkRate returns a sampler's rate, or 1 for a rate outside (0, 1]
// (NaN included), a sampler's bug, which is logged.
func (t *Tracker) checkRate(r float64) float64 {
	if v := validRate(r); v == r {
		return v
	}
	t.log.of(kindBadRate).Error().Float64("rate", r).Msg("multitrack: a sampler kept an event with a rate outside (0, 1]; taken as 1")
	return 1
}

// validRate maps a rate outside (0, 1], NaN included, to 1.
func validRate(r float64) float64 {
	if r > 0 && r <= 1 {
		return r
	}
	return 1
}

func (t *Tracker) maxSize() int {
	if t.maxEventSize > 0 {
		return t.maxEventSize
	}
	return DefaultMaxEventSize
}

func (t *Tracker) fallback() string {
	if t.fallbackID != "" {
		return t.fallbackID
	}
	return DefaultFallbackDistinctID
}

// resolveProperties replaces e's properties with a copy that has no secret
// keys (nested maps included) and has the default properties and the sample
// rate added.
func (t *Tracker) resolveProperties(e *Event, rule *secret.Rule, secrets int, rate float64) {
	t.counters.redacted.Add(uint64(secrets))
	p := make(map[string]any, len(t.props)+len(e.Properties)+1)
	for k, v := range t.props {
		p[k] = v
	}
	for k, v := range e.Properties {
		if secrets == 0 {
			p[k] = v
		} else if !rule.Match(k) {
			p[k], _ = redactValue(v, rule)
		}
	}
	if rate < 1 {
		p[PropSampleRate] = rate * sampleRate(e.Properties)
	}
	e.Properties = p
}

// sampleRate returns the rate an event was already sampled at (say, before
// it was written to a dead-letter file and replayed), or 1.
func sampleRate(props map[string]any) float64 {
	var r float64
	switch x := props[PropSampleRate].(type) {
	case float64:
		r = x
	case float32:
		r = float64(x)
	case int64:
		r = float64(x)
	case int:
		r = float64(x)
	}
	return validRate(r)
}

// sinkKeyed returns e with its per-event random key re-mixed for the i-th
// sink, so that a sink's sampler decides independently of the tracker's
// and the rates multiply exactly.
func sinkKeyed(e Event, i int) Event {
	e.rnd, e.hasRnd = uuidv7.Mix(e.UUIDRandom()^(uint64(i+1)*0x9e3779b97f4a7c15)), true
	return e
}

// withProperty returns a copy of props with key set to v.
func withProperty(props map[string]any, key string, v any) map[string]any {
	p := make(map[string]any, len(props)+1)
	for k, x := range props {
		p[k] = x
	}
	p[key] = v
	return p
}

func (t *Tracker) reject(reason string, e *Event, err error) {
	k := kindTooLarge
	switch reason {
	case reasonEmptyName:
		t.counters.emptyName.Add(1)
		k = kindEmptyName
	case reasonUnencodable:
		t.counters.unencodable.Add(1)
		k = kindUnencodable
	case reasonTimestamp:
		t.counters.badTimestamp.Add(1)
		k = kindBadTimestamp
	default:
		t.counters.tooLarge.Add(1)
	}
	t.log.of(k).Warn().Str("reason", reason).Str("event", e.Name).AnErr("error", err).Msg("multitrack: event rejected")
}

// refuseClosed reports an event captured after Close to the undelivered
// hook, once for each sink.
func (t *Tracker) refuseClosed(e *Event) {
	if t.lost == nil || t.lost.hook == nil {
		return
	}
	for _, w := range t.workers {
		t.lost.dropped(w.name, e, w.errClosed)
	}
}
