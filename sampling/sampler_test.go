package sampling_test

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/cespare/xxhash/v2"
	"github.com/multitrack/multitrack/sampling"
	"github.com/multitrack/multitrack/tracker"
)

func TestAlwaysNever(t *testing.T) {
	e := tracker.Event{Name: "x"}
	if keep, rate := (sampling.Always{}).Sample(e); !keep || rate != 1 {
		t.Errorf("Always = %v, %v; want true, 1", keep, rate)
	}
	if keep, _ := (sampling.Never{}).Sample(e); keep {
		t.Error("Never kept an event")
	}
}

func TestRatioKeepsPN(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 40_000
	for _, p := range []float64{0, 0.01, 0.1, 0.5, 1} {
		r, err := sampling.NewRatio(p)
		if err != nil {
			t.Fatal(err)
		}
		kept := 0
		for range n {
			keep, rate := r.Sample(event(rng, "query_initiated", ""))
			if rate != p {
				t.Fatalf("p=%v: rate %v", p, rate)
			}
			if keep {
				kept++
			}
		}
		if want := p * n; math.Abs(float64(kept)-want) > binomialBound(n, p) {
			t.Errorf("p=%v: kept %d of %d, want %.0f ± %.1f", p, kept, n, want, binomialBound(n, p))
		}
	}
}

func TestRatioRejectsBadProbability(t *testing.T) {
	for _, p := range []float64{-0.1, 1.01, math.NaN(), math.Inf(1)} {
		if _, err := sampling.NewRatio(p); err == nil {
			t.Errorf("NewRatio(%v) accepted", p)
		}
	}
	if _, err := sampling.NewRatio(0.5, sampling.WithMaxKeys(3)); err == nil {
		t.Error("NewRatio accepted WithMaxKeys, which it has no use for")
	}
}

// TestRatioByKeyIsTheDocumentedHash checks the decision against the rule
// every process applies: keep when xxhash(value) mod 2^62 < p·2^62.
func TestRatioByKeyIsTheDocumentedHash(t *testing.T) {
	p := 0.3
	a, _ := sampling.NewRatio(p, sampling.By(sampling.KeyOrganization))
	b, _ := sampling.NewRatio(p, sampling.By(sampling.KeyOrganization))
	rng := rand.New(rand.NewPCG(3, 4))
	const orgs = 4000
	keptOrgs := 0
	for i := range orgs {
		org := "org_" + string(rune('a'+i%26)) + uuidFor(uint64(i))[24:]
		want := xxhash.Sum64String(org)&(1<<62-1) < uint64(p*(1<<62))
		if want {
			keptOrgs++
		}
		for range 3 { // every event of an org, in both instances, agrees
			e := event(rng, "query_initiated", org)
			ka, _ := a.Sample(e)
			kb, _ := b.Sample(e)
			if ka != want || kb != want {
				t.Fatalf("org %s: instances decided %v, %v; the hash rule says %v", org, ka, kb, want)
			}
		}
	}
	if math.Abs(float64(keptOrgs)-p*orgs) > binomialBound(orgs, p) {
		t.Errorf("kept %d of %d organizations, want %.0f ± %.1f", keptOrgs, orgs, p*orgs, binomialBound(orgs, p))
	}
}

func TestRatioByTraceIDKeepsAQueryTogether(t *testing.T) {
	r, err := sampling.NewRatio(0.2, sampling.By(sampling.KeyProperty("trace_id")))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	both, kept := 0, 0
	const n = 20_000
	for i := range n {
		trace := uuidFor(rng.Uint64())
		start := event(rng, "query_initiated", "org_1")
		start.Properties = map[string]any{"trace_id": trace}
		fail := event(rng, "query_failed", "org_1")
		fail.Properties = map[string]any{"trace_id": trace, "sqlstate": "42P01"}
		k1, _ := r.Sample(start)
		k2, _ := r.Sample(fail)
		if k1 != k2 {
			t.Fatalf("query %d: initiated kept=%v, failed kept=%v", i, k1, k2)
		}
		if k1 {
			kept++
		}
		if k1 && k2 {
			both++
		}
	}
	if math.Abs(float64(kept)-0.2*n) > binomialBound(n, 0.2) {
		t.Errorf("kept %d of %d queries, want %.0f ± %.1f", kept, n, 0.2*n, binomialBound(n, 0.2))
	}
}

func TestRatioMissingKeyFallsBackToTheEvent(t *testing.T) {
	byTrace, _ := sampling.NewRatio(0.5, sampling.By(sampling.KeyProperty("trace_id")))
	perEvent, _ := sampling.NewRatio(0.5)
	rng := rand.New(rand.NewPCG(7, 8))
	differ := 0
	for range 1000 {
		e := event(rng, "query_initiated", "")
		k1, _ := byTrace.Sample(e)
		k2, _ := perEvent.Sample(e)
		if k1 != k2 {
			t.Fatal("an event without trace_id was not decided by its own UUID")
		}
		e.Properties = map[string]any{"trace_id": "fixed"}
		if k3, _ := byTrace.Sample(e); k3 != k1 {
			differ++
		}
	}
	if differ == 0 {
		t.Error("a present trace_id never changed a decision: the key is not used")
	}
}

func TestKeyPropertyValueTypes(t *testing.T) {
	r, _ := sampling.NewRatio(0.5, sampling.By(sampling.KeyProperty("id")))
	decide := func(v any, uuid string) bool {
		k, _ := r.Sample(tracker.Event{Name: "x", UUID: uuid, Properties: map[string]any{"id": v}})
		return k
	}
	// The same number, typed differently (as a JSON round trip does), is one
	// key: compare over many values so that agreement is no coincidence.
	for i := range 200 {
		s := uuidFor(uint64(i) * 0x9E3779B97F4A7C15)
		n := int64(i*7919 + 1)
		want := decide(n, s)
		for _, v := range []any{int(n), float64(n), uint64(n), int32(n), strconv.FormatInt(n, 10)} {
			if got := decide(v, s); got != want {
				t.Fatalf("id %v (%T) decided %v, as int64 %v", v, v, got, want)
			}
		}
	}
	// A value with no text form falls back to the event.
	per, _ := sampling.NewRatio(0.5)
	rng := rand.New(rand.NewPCG(9, 10))
	for range 200 {
		e := event(rng, "x", "")
		want, _ := per.Sample(e)
		e.Properties = map[string]any{"id": []int{1}}
		if got, _ := r.Sample(e); got != want {
			t.Fatal("a slice-valued key did not fall back to the event's UUID")
		}
	}
}
