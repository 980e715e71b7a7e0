package faults

import (
	"context"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/multitrack/multitrack/tracker"
)

// eventUUID is the UUID of goroutine g's i-th event in run: in the
// canonical UUIDv7 layout, so that every sink sends it as it is, and
// readable back (burstIndex), so that a burst of millions is accounted for
// with bitsets rather than sets of strings.
func eventUUID(run, g, i int) string {
	return fmt.Sprintf("%08x-%04x-7000-8000-%012x", run, g, i)
}

var runs atomic.Int32

// nextRun numbers a load, so that two loads of one process never share a UUID.
func nextRun() int { return int(runs.Add(1)) }

// badEvery makes every badEvery-th event unencodable (a NaN property): the
// tracker rejects it, a reason counted in Stats.
const badEvery = 500

// newEvent is goroutine g's i-th event: a query event with five
// properties, its own maps, as a service would capture it.
func newEvent(run, g, i int) tracker.Event {
	u := eventUUID(run, g, i)
	name := "query_initiated"
	if i%10 == 9 {
		name = "query_failed"
	}
	props := map[string]any{"user": fmt.Sprintf("user_%d", i%100), "trace_id": u[24:], "seq": i, "sqlstate": "42P01", "rows": i % 1000}
	if i%badEvery == badEvery-1 {
		props["ratio"] = math.NaN()
	}
	return tracker.Event{Name: name, UUID: u, Properties: props}
}

// isBad says whether newEvent(_, _, i) is one the tracker rejects.
func isBad(i int) bool { return i%badEvery == badEvery-1 }

// load is sustained capture from several goroutines, each at a steady rate,
// until finish. It remembers every UUID it captured.
type load struct {
	run   int
	start time.Time
	stop  chan struct{}
	wg    sync.WaitGroup
	per   [][]string     // per goroutine, the UUIDs captured, in order
	done  []atomic.Int64 // per goroutine, how many it has captured
	// longest is the longest single Capture call, in nanoseconds.
	longest atomic.Int64
}

// startLoad starts sc.goroutines goroutines capturing into tr at sc.rate
// events a second each. finish stops them.
func startLoad(t *testing.T, tr *tracker.Tracker, sc scale) *load {
	l := &load{run: nextRun(), start: time.Now(), stop: make(chan struct{}), per: make([][]string, sc.goroutines), done: make([]atomic.Int64, sc.goroutines)}
	const tick = 5 * time.Millisecond
	maxPerTick := max(1, sc.rate/20) // catching up after a stall, at most 50 ms' worth at once
	for g := range sc.goroutines {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			ctx := tracker.WithOrganization(context.Background(), fmt.Sprintf("org_%d", g))
			tk := time.NewTicker(tick)
			defer tk.Stop()
			for i := 0; ; {
				due := int(time.Since(l.start).Seconds() * float64(sc.rate))
				for n := 0; i < due && n < maxPerTick; n++ {
					e := newEvent(l.run, g, i)
					start := time.Now()
					tr.Capture(ctx, e)
					l.noteCapture(time.Since(start))
					l.per[g] = append(l.per[g], e.UUID)
					i++
					l.done[g].Store(int64(i))
				}
				select {
				case <-l.stop:
					return
				case <-tk.C:
				}
			}
		}()
	}
	t.Cleanup(l.halt)
	return l
}

// noteCapture keeps d if it is the longest Capture call yet.
func (l *load) noteCapture(d time.Duration) {
	for {
		old := l.longest.Load()
		if int64(d) <= old || l.longest.CompareAndSwap(old, int64(d)) {
			return
		}
	}
}

// halt stops the goroutines and waits for them; it may be called twice.
func (l *load) halt() {
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	l.wg.Wait()
}

// mark is where each goroutine is now: events captured after it are
// l.after(mark).
func (l *load) mark() []int {
	m := make([]int, len(l.done))
	for g := range l.done {
		m[g] = int(l.done[g].Load())
	}
	return m
}

// after returns the valid events captured after mark; call it after
// finish.
func (l *load) after(mark []int) []string {
	var us []string
	for g, per := range l.per {
		for i := mark[g]; i < len(per); i++ {
			if !isBad(i) {
				us = append(us, per[i])
			}
		}
	}
	return us
}

// finish stops the load and returns what it captured.
func (l *load) finish() *captured {
	l.halt()
	c := &captured{valid: map[string]bool{}, bad: map[string]bool{}, elapsed: time.Since(l.start), longest: time.Duration(l.longest.Load())}
	for _, us := range l.per {
		for i, u := range us {
			c.total++
			if isBad(i) {
				c.bad[u] = true
			} else {
				c.valid[u] = true
			}
		}
	}
	return c
}

// captured is every event a load captured: those the tracker can keep,
// and those it must reject.
type captured struct {
	total      int
	valid, bad map[string]bool
	elapsed    time.Duration
	longest    time.Duration // the longest single Capture call
}

// add adds o's events to c's.
func (c *captured) add(o *captured) *captured {
	c.total += o.total
	for u := range o.valid {
		c.valid[u] = true
	}
	for u := range o.bad {
		c.bad[u] = true
	}
	c.elapsed = max(c.elapsed, o.elapsed)
	c.longest = max(c.longest, o.longest)
	return c
}
