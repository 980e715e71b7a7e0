package sampling_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/multitrack/multitrack/sampling"
	"github.com/multitrack/multitrack/tracker"
)

// arrival is one simulated event: when, whose, which.
type arrival struct {
	at   time.Duration
	org  string
	name string
}

const (
	heavyOrg  = "org_heavy"
	lightOrgs = 20
)

// skewedTraffic simulates dur of traffic with Poisson arrivals: one
// organization at 1000 events/s, 100× each of 20 others at 10 events/s.
// Names: 90% query_initiated, 5% query_failed, 5% job_step.
func skewedTraffic(seed uint64, dur time.Duration) []arrival {
	rng := rand.New(rand.NewPCG(seed, seed^0x5EED))
	var out []arrival
	emit := func(org string, perSecond float64) {
		for at := 0.0; ; {
			at += rng.ExpFloat64() / perSecond
			if at >= dur.Seconds() {
				return
			}
			name := "query_initiated"
			switch u := rng.Float64(); {
			case u < 0.05:
				name = "query_failed"
			case u < 0.10:
				name = "job_step"
			}
			out = append(out, arrival{time.Duration(at * float64(time.Second)), org, name})
		}
	}
	emit(heavyOrg, 1000)
	for i := range lightOrgs {
		emit(fmt.Sprintf("org_%02d", i), 10)
	}
	slices.SortFunc(out, func(a, b arrival) int { return int(a.at - b.at) })
	return out
}

// replay feeds the arrivals to s on clock, calling f with each decision.
func replay(s tracker.Sampler, clock *fakeClock, traffic []arrival, seed uint64, f func(a arrival, keep bool, rate float64)) {
	rng := rand.New(rand.NewPCG(seed, 11))
	start := clock.ns.Load()
	for _, a := range traffic {
		clock.ns.Store(start + int64(a.at))
		keep, rate := s.Sample(event(rng, a.name, a.org))
		f(a, keep, rate)
	}
}

// TestHorvitzThompsonRecoversCounts checks, for every sampler under skewed
// traffic, that Σ 1/rate over kept events estimates the true count, overall
// and for the heavy organization alone.
func TestHorvitzThompsonRecoversCounts(t *testing.T) {
	traffic := skewedTraffic(42, 40*time.Second)
	cases := []struct {
		name   string
		spec   string
		warmUp time.Duration // arrivals before it are not tallied
		window time.Duration // of a systematic sampler: also check its tighter bound
	}{
		{"always", "*=1", 0, 0},
		{"ratio", "*=0.05", 0, 0},
		{"ratio by org", "*=ratio:0.5:by=org", 0, 0}, // checked per organization below
		{"rate limit by org", "*=rate:100/s:by=org", time.Second, time.Second},
		{"rate limit", "*=rate:300/s", time.Second, time.Second},
		{"burst by org then ratio", "*=burst:200/1s:then=0.1:by=org", 0, 0},
		{"burst per event name", "*=burst:50/200ms:then=0.02:by=event", 0, 0},
		{"dynamic by org", "*=dynamic:50/s:by=org", 0, sampling.DefaultDynamicWindow},
		{"dynamic fast window", "*=dynamic:20/s:by=org:window=1s", 0, time.Second},
		{"rules", "query_failed=1,query_initiated=dynamic:50/s:by=org,job_*=rate:20/s:by=org,*=never", time.Second, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clock := newFakeClock()
			s := mustParse(t, tc.spec, clock)
			var all, heavy htTally
			var segments segmentTally
			perOrg := map[string]*htTally{}
			replay(s, clock, traffic, 7, func(a arrival, keep bool, rate float64) {
				if keep && (rate <= 0 || rate > 1) {
					t.Fatalf("kept an event at rate %v", rate)
				}
				if a.at < tc.warmUp {
					return
				}
				all.add(keep, rate)
				if tc.window > 0 {
					org := a.org
					if !strings.Contains(tc.spec, "by=org") {
						org = ""
					}
					segments.add(fmt.Sprint(org, a.at/tc.window), keep, rate)
				}
				if a.org == heavyOrg {
					heavy.add(keep, rate)
				}
				if perOrg[a.org] == nil {
					perOrg[a.org] = &htTally{}
				}
				perOrg[a.org].add(keep, rate)
			})
			if all.kept == 0 || all.kept == all.n && tc.name != "always" {
				t.Fatalf("kept %d of %d: not sampling", all.kept, all.n)
			}
			if tc.name == "ratio by org" {
				// Whole organizations are kept or dropped: the estimate is exact
				// for each kept one and zero for the others.
				for org, h := range perOrg {
					if h.kept != 0 && h.kept != h.n {
						t.Errorf("%s: kept %d of %d events", org, h.kept, h.n)
					}
				}
				return
			}
			all.check(t, "all events")
			if tc.window > 0 {
				segments.check(t, "all events")
			}
			heavy.check(t, "heavy organization")
		})
	}
}

// mustParse parses spec with the samplers' clocks replaced by clock.
func mustParse(t *testing.T, spec string, clock *fakeClock) tracker.Sampler {
	t.Helper()
	s, err := sampling.ParseSpecWithClock(spec, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestRateLimitIsFairAcrossKeys: a noisy organization is held to its own
// limit and the quiet ones keep everything.
func TestRateLimitIsFairAcrossKeys(t *testing.T) {
	clock := newFakeClock()
	const limit = 100
	rl, err := sampling.NewRateLimit(limit, time.Second, sampling.By(sampling.KeyOrganization), sampling.WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	type win struct {
		org string
		w   int
	}
	kept := map[win]int{}
	traffic := skewedTraffic(99, 30*time.Second)
	replay(rl, clock, traffic, 3, func(a arrival, keep bool, rate float64) {
		if a.org != heavyOrg && (!keep || rate != 1) {
			t.Fatalf("%s at %v: keep=%v rate=%v; a quiet organization must keep everything", a.org, a.at, keep, rate)
		}
		if keep {
			kept[win{a.org, int(a.at / time.Second)}]++
		}
	})
	total := 0
	for w := range 30 {
		n := kept[win{heavyOrg, w}]
		if n > limit {
			t.Errorf("second %d: heavy organization kept %d > %d", w, n, limit)
		}
		if w > 0 && n < 70 {
			t.Errorf("second %d: heavy organization kept only %d (limit %d, headroom %v)", w, n, limit, sampling.DefaultHeadroom)
		}
		if w > 0 {
			total += n
		}
	}
	if mean := float64(total) / 29; math.Abs(mean-limit*sampling.DefaultHeadroom) > 5 {
		t.Errorf("heavy organization kept %.1f a second on average, want about %v", mean, limit*sampling.DefaultHeadroom)
	}
}

func TestBurstWindow(t *testing.T) {
	clock := newFakeClock()
	half, _ := sampling.NewRatio(0.5)
	b, err := sampling.NewBurst(3, time.Minute, sampling.Then(half), sampling.By(sampling.KeyOrganization), sampling.WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	sample := func(org string) (bool, float64) { return b.Sample(event(rng, "job_step", org)) }
	for i := range 3 {
		if keep, rate := sample("a"); !keep || rate != 1 {
			t.Fatalf("event %d of the burst: keep=%v rate=%v", i+1, keep, rate)
		}
	}
	for range 50 {
		if _, rate := sample("a"); rate != 0.5 {
			t.Fatalf("after the burst the fallback's rate 0.5 applies, got %v", rate)
		}
	}
	if keep, rate := sample("b"); !keep || rate != 1 {
		t.Fatalf("another organization has its own burst: keep=%v rate=%v", keep, rate)
	}
	clock.Advance(59 * time.Second)
	if _, rate := sample("a"); rate != 0.5 {
		t.Fatal("the burst came back before the period ended")
	}
	clock.Advance(time.Second)
	for i := range 3 {
		if keep, rate := sample("a"); !keep || rate != 1 {
			t.Fatalf("next period, event %d: keep=%v rate=%v", i+1, keep, rate)
		}
	}
	if _, rate := sample("a"); rate != 0.5 {
		t.Fatal("the new period's burst is not 3")
	}
}

func TestPerKeyStateIsBounded(t *testing.T) {
	clock := newFakeClock()
	rl, err := sampling.NewRateLimit(5, time.Second, sampling.By(sampling.KeyDistinctID), sampling.WithMaxKeys(10), sampling.WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(2, 2))
	for i := range 1000 {
		e := event(rng, "query_initiated", "")
		e.DistinctID = fmt.Sprintf("user_%d", i)
		rl.Sample(e)
		if k := rl.Keys(); k > 10 {
			t.Fatalf("after %d keys, %d held; the bound is 10", i+1, k)
		}
	}
	if got := rl.Overflows(); got != 990 {
		t.Errorf("overflows = %d, want 990", got)
	}
	// Burst and Dynamic hold the same bound.
	burst, _ := sampling.NewBurst(1, time.Second, sampling.By(sampling.KeyDistinctID), sampling.WithMaxKeys(10), sampling.WithClock(clock.Now))
	dyn, _ := sampling.NewDynamic(1, sampling.By(sampling.KeyDistinctID), sampling.WithMaxKeys(10), sampling.WithClock(clock.Now))
	for i := range 100 {
		e := event(rng, "query_initiated", "")
		e.DistinctID = fmt.Sprintf("user_%d", i)
		burst.Sample(e)
		dyn.Sample(e)
	}
	if burst.Keys() != 10 || burst.Overflows() != 90 || dyn.Keys() != 10 || dyn.Overflows() != 90 {
		t.Errorf("burst holds %d keys (%d overflows), dynamic %d (%d); want 10 (90)", burst.Keys(), burst.Overflows(), dyn.Keys(), dyn.Overflows())
	}
	// The overflow keys share one budget: a burst of new keys keeps at most
	// the limit more.
	kept := 0
	for i := range 1000 {
		e := event(rng, "query_initiated", "")
		e.DistinctID = fmt.Sprintf("other_%d", i)
		if k, _ := rl.Sample(e); k {
			kept++
		}
	}
	if kept > 5 {
		t.Errorf("overflowing keys kept %d in one second, limit 5", kept)
	}
	// Idle keys are forgotten after a generation, making room again.
	clock.Advance(5 * time.Second)
	e := event(rng, "query_initiated", "")
	e.DistinctID = "late"
	if keep, rate := rl.Sample(e); !keep || rate != 1 {
		t.Errorf("a new key after the others went idle: keep=%v rate=%v", keep, rate)
	}
	if k := rl.Keys(); k != 1 {
		t.Errorf("after idling, %d keys held, want 1", k)
	}
}

func TestDynamicThinsFrequentKeysOnly(t *testing.T) {
	clock := newFakeClock()
	const target = 50.0
	d, err := sampling.NewDynamic(target, sampling.By(sampling.KeyOrganization), sampling.WithWindow(time.Second), sampling.WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	heavyRates := map[int][]float64{}
	replay(d, clock, skewedTraffic(5, 20*time.Second), 4, func(a arrival, keep bool, rate float64) {
		if a.org == heavyOrg {
			heavyRates[int(a.at/time.Second)] = append(heavyRates[int(a.at/time.Second)], rate)
		} else if !keep || rate != 1 {
			t.Fatalf("%s (10/s, under the target) was thinned: keep=%v rate=%v", a.org, keep, rate)
		}
	})
	for w := 5; w < 20; w++ {
		rates := heavyRates[w]
		if r := rates[0]; math.Abs(r-target/1000) > 0.2*target/1000 {
			t.Errorf("second %d: heavy organization's rate %v, want about %v", w, r, target/1000)
		}
	}
}

func TestConstructorsRejectBadArguments(t *testing.T) {
	never := sampling.Never{}
	for name, f := range map[string]func() error{
		"rate zero limit":    func() error { _, err := sampling.NewRateLimit(0, time.Second); return err },
		"rate zero interval": func() error { _, err := sampling.NewRateLimit(1, 0); return err },
		"rate headroom":      func() error { _, err := sampling.NewRateLimit(1, time.Second, sampling.WithHeadroom(1.5)); return err },
		"rate max keys":      func() error { _, err := sampling.NewRateLimit(1, time.Second, sampling.WithMaxKeys(0)); return err },
		"rate then":          func() error { _, err := sampling.NewRateLimit(1, time.Second, sampling.Then(never)); return err },
		"burst zero":         func() error { _, err := sampling.NewBurst(0, time.Second); return err },
		"burst nil then":     func() error { _, err := sampling.NewBurst(1, time.Second, sampling.Then(nil)); return err },
		"burst nil clock":    func() error { _, err := sampling.NewBurst(1, time.Second, sampling.WithClock(nil)); return err },
		"dynamic target":     func() error { _, err := sampling.NewDynamic(math.NaN()); return err },
		"dynamic weight":     func() error { _, err := sampling.NewDynamic(1, sampling.WithEMAWeight(0)); return err },
		"dynamic window":     func() error { _, err := sampling.NewDynamic(1, sampling.WithWindow(-time.Second)); return err },
		"rules nil sampler":  func() error { _, err := sampling.NewRules(nil, sampling.Rule{Pattern: "x"}); return err },
		"rules unreachable": func() error {
			_, err := sampling.NewRules(nil, sampling.Rule{"query_*", never}, sampling.Rule{"query_failed", never})
			return err
		},
	} {
		if f() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestConcurrentSampling runs every sampler from many goroutines (run it
// with -race); with the clock frozen, the limits hold exactly.
func TestConcurrentSampling(t *testing.T) {
	clock := newFakeClock()
	rl, _ := sampling.NewRateLimit(100, time.Second, sampling.By(sampling.KeyOrganization), sampling.WithClock(clock.Now))
	burst, _ := sampling.NewBurst(250, time.Minute, sampling.WithClock(clock.Now))
	dyn, _ := sampling.NewDynamic(10, sampling.By(sampling.KeyOrganization), sampling.WithClock(clock.Now))
	ratio, _ := sampling.NewRatio(0.25)
	rules, _ := sampling.NewRules(sampling.Never{}, sampling.Rule{"query_*", ratio}, sampling.Rule{"job_*", burst})

	const workers, each = 8, 2000
	events := make([][]tracker.Event, workers)
	for w := range events {
		rng := rand.New(rand.NewPCG(uint64(w), 77))
		for range each {
			events[w] = append(events[w], event(rng, "query_initiated", "org_1"))
		}
	}
	var mu sync.Mutex
	counts := map[string]int{}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			local := map[string]int{}
			for i, e := range events[w] {
				if k, _ := rl.Sample(e); k {
					local["rate"]++
				}
				if k, _ := burst.Sample(e); k {
					local["burst"]++
				}
				if k, _ := dyn.Sample(e); k {
					local["dynamic"]++
				}
				k1, _ := ratio.Sample(e)
				k2, _ := rules.Sample(e)
				if k1 != k2 {
					t.Errorf("worker %d event %d: rules and its ratio disagree", w, i)
				}
				if k1 {
					local["ratio"]++
				}
			}
			mu.Lock()
			defer mu.Unlock()
			for k, v := range local {
				counts[k] += v
			}
		})
	}
	wg.Wait()
	if counts["rate"] != 100 {
		t.Errorf("rate limit kept %d in one frozen second, want exactly 100", counts["rate"])
	}
	if counts["burst"] != 250 {
		t.Errorf("burst kept %d, want exactly 250", counts["burst"])
	}
	if counts["dynamic"] == 0 || counts["dynamic"] >= workers*each {
		t.Errorf("dynamic kept %d of %d", counts["dynamic"], workers*each)
	}
	n := workers * each
	if math.Abs(float64(counts["ratio"])-0.25*float64(n)) > binomialBound(n, 0.25) {
		t.Errorf("ratio kept %d of %d", counts["ratio"], n)
	}
}

// TestConcurrentKeyChurn runs a keyed limiter from many goroutines while the
// clock moves and keys come and go (run it with -race): the state stays
// bounded and every key is held to its limit.
func TestConcurrentKeyChurn(t *testing.T) {
	clock := newFakeClock()
	const maxKeys, limit = 16, 5
	rl, err := sampling.NewRateLimit(limit, time.Second, sampling.By(sampling.KeyDistinctID),
		sampling.WithMaxKeys(maxKeys), sampling.WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	kept := map[string]int{} // key and second -> kept
	for w := range 4 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 5))
			for i := range 3000 {
				if w == 0 && i%100 == 0 {
					clock.Advance(300 * time.Millisecond)
				}
				e := event(rng, "query_initiated", "")
				e.DistinctID = fmt.Sprintf("user_%d", rng.IntN(40))
				second := clock.Since() / time.Second
				if keep, _ := rl.Sample(e); keep && clock.Since()/time.Second == second {
					mu.Lock()
					kept[fmt.Sprint(e.DistinctID, "@", second)]++
					mu.Unlock()
				}
				if k := rl.Keys(); k > 2*maxKeys {
					t.Errorf("%d keys held, bound %d", k, 2*maxKeys)
					return
				}
			}
		})
	}
	wg.Wait()
	if rl.Overflows() == 0 {
		t.Error("40 keys over a bound of 16 never overflowed")
	}
	for k, n := range kept {
		if n > limit {
			t.Errorf("%s: kept %d, limit %d", k, n, limit)
		}
	}
}
