package sampling_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/multitrack/multitrack/sampling"
	"github.com/multitrack/multitrack/tracker"
)

// A spec keeps every failure and 1% of query starts; Format shows how it was
// read.
func ExampleParseSpec() {
	s, err := sampling.ParseSpec("query_initiated=0.01,query_failed=1,*=1")
	if err != nil {
		panic(err)
	}
	fmt.Println(sampling.Format(s))
	keep, rate := s.Sample(tracker.Event{Name: "query_failed"})
	fmt.Println("query_failed:", keep, rate)
	_, rate = s.Sample(tracker.Event{Name: "query_initiated"})
	fmt.Println("query_initiated rate:", rate)
	// Output:
	// query_initiated=ratio:0.01,query_failed=always
	// query_failed: true 1
	// query_initiated rate: 0.01
}

// Every mistake of a spec is reported at once, each naming its rule.
func ExampleParseSpec_errors() {
	_, err := sampling.ParseSpec("query_initiated=1.5,query_*=rate:100/fortnight")
	fmt.Println(errors.Is(err, sampling.ErrBadRate), errors.Is(err, sampling.ErrBadDuration))
	var se *sampling.SpecError
	if errors.As(err, &se) {
		fmt.Println(se)
	}
	// Output:
	// true true
	// sampling spec: rule 1 "query_initiated=1.5" (byte 0): rate out of range: 1.5 is not in [0, 1]
}

// Keyed by trace_id, the start and the failure of one query are kept or
// dropped together, in every process.
func ExampleRatio() {
	r, err := sampling.NewRatio(0.5, sampling.By(sampling.KeyProperty("trace_id")))
	if err != nil {
		panic(err)
	}
	for i, trace := range []string{"4bf92f3577b34da6", "a3ce929d0e0e4736", "00f067aa0ba902b7"} {
		props := map[string]any{"trace_id": trace}
		started, _ := r.Sample(tracker.Event{Name: "query_initiated", UUID: fmt.Sprint("start-", i), Properties: props})
		failed, _ := r.Sample(tracker.Event{Name: "query_failed", UUID: fmt.Sprint("fail-", i), Properties: props})
		fmt.Println(trace, started, failed)
	}
	// Output:
	// 4bf92f3577b34da6 true true
	// a3ce929d0e0e4736 true true
	// 00f067aa0ba902b7 false false
}

// A Burst keeps the first events of each period, then defers to a fallback.
func ExampleBurst() {
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	b, err := sampling.NewBurst(2, time.Minute, sampling.WithClock(func() time.Time { return now }))
	if err != nil {
		panic(err)
	}
	for range 3 {
		fmt.Print(b.Sample(tracker.Event{Name: "job_step"}))
		fmt.Print(" ")
	}
	now = now.Add(time.Minute)
	fmt.Println(b.Sample(tracker.Event{Name: "job_step"}))
	// Output: true 1 true 1 false 0 true 1
}

// A RateLimit gives each organization its own budget: a quiet one keeps
// everything even while a noisy one is thinned.
func ExampleRateLimit() {
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	rl, err := sampling.NewRateLimit(10, time.Second,
		sampling.By(sampling.KeyOrganization), sampling.WithClock(func() time.Time { return now }))
	if err != nil {
		panic(err)
	}
	org := func(id string) tracker.Event {
		return tracker.Event{Name: "query_initiated", Groups: map[string]string{"organization": id}}
	}
	noisy := 0
	for range 1000 {
		if keep, _ := rl.Sample(org("org_noisy")); keep {
			noisy++
		}
	}
	keep, rate := rl.Sample(org("org_quiet"))
	fmt.Println("noisy kept:", noisy)
	fmt.Println("quiet:", keep, rate)
	// Output:
	// noisy kept: 10
	// quiet: true 1
}

// Rules route by event name; the first match wins.
func ExampleNewRules() {
	tenth, _ := sampling.NewRatio(0.1)
	r, err := sampling.NewRules(sampling.Never{},
		sampling.Rule{Pattern: "*_failed", Sampler: sampling.Always{}},
		sampling.Rule{Pattern: "query_*", Sampler: tenth},
	)
	if err != nil {
		panic(err)
	}
	fmt.Println(r)
	for _, name := range []string{"query_failed", "query_initiated", "job_step"} {
		_, rate := r.Sample(tracker.Event{Name: name})
		fmt.Println(name, rate)
	}
	// Output:
	// *_failed=always,query_*=ratio:0.1,*=never
	// query_failed 1
	// query_initiated 0.1
	// job_step 0
}
