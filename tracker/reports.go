package tracker

import (
	"slices"
	"sync"
)

// claims sees to it that each event a sink did not deliver is reported to
// the hook, written to the dead letter and counted once, by one party: the
// sink's own report (UndeliveredFunc), the worker when Write fails, or Close
// when the Write overruns its deadline. Events are told apart by UUID.
type claims struct {
	mu        sync.Mutex
	writing   bool                // a Write is under way
	reported  map[string]struct{} // what the sink reported during it
	abandoned map[string]struct{} // the overrunning Write's batch, which Close has taken
}

// startWrite marks a Write under way: what the sink reports until endWrite
// is noted.
func (c *claims) startWrite() {
	c.mu.Lock()
	c.writing = true
	c.mu.Unlock()
}

// endWrite ends the Write of batch. When it failed, it returns the events of
// batch the sink did not report during it: the worker's to report.
func (c *claims) endWrite(batch []Event, failed bool) []Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	if failed {
		batch = c.unreportedLocked(batch)
	}
	c.writing, c.reported = false, nil
	return batch
}

// abandon takes, for Close, the events of an overrunning Write's batch that
// the sink has not reported; the sink's later reports of them are left out
// (claim). It returns a copy.
func (c *claims) abandon(batch []Event) []Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	taken := slices.Clone(c.unreportedLocked(batch))
	if len(taken) > 0 {
		c.abandoned = make(map[string]struct{}, len(taken))
		for i := range taken {
			c.abandoned[taken[i].UUID] = struct{}{}
		}
	}
	return taken
}

// claim returns the events of a sink's report that are the report's: all
// but those Close has taken (abandon). During a Write it notes them, so that
// neither Close nor a failing Write takes them again. It never changes the
// sink's slice.
func (c *claims) claim(events []Event) []Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.writing && c.abandoned == nil {
		return events
	}
	mine, copied := events, false
	for i := range events {
		u := events[i].UUID
		if _, taken := c.abandoned[u]; taken {
			if !copied {
				mine, copied = slices.Clone(events[:i]), true
			}
			continue
		}
		if c.writing {
			if c.reported == nil {
				c.reported = make(map[string]struct{})
			}
			c.reported[u] = struct{}{}
		}
		if copied {
			mine = append(mine, events[i])
		}
	}
	return mine
}

// unreportedLocked returns the events of batch the sink has not reported
// during the Write: batch itself when there are none.
func (c *claims) unreportedLocked(batch []Event) []Event {
	if len(c.reported) == 0 {
		return batch
	}
	rest := make([]Event, 0, len(batch))
	for i := range batch {
		if _, ok := c.reported[batch[i].UUID]; !ok {
			rest = append(rest, batch[i])
		}
	}
	return rest
}

// tally is what Close's error counts of a sink (UndeliveredError): events
// not delivered, each once, and how many of them the dead letter took. Both
// move in one step, after the dead letter was written, so that the error
// never counts as lost an event whose write is still under way.
type tally struct {
	mu            sync.Mutex
	lost, written int
}

func (t *tally) add(lost, written int) {
	t.mu.Lock()
	t.lost += lost
	t.written += written
	t.mu.Unlock()
}

func (t *tally) read() (lost, written int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.lost, t.written
}

// reporting counts the sink's reports under way (UndeliveredFunc calls: the
// hook and the dead-letter write), so that Close does not return in the
// middle of one: a process that exits once Close returns would lose them.
type reporting struct {
	mu     sync.Mutex
	n      int
	change broadcast // when n changes
}

func (r *reporting) begin() { r.add(1) }
func (r *reporting) end()   { r.add(-1) }

func (r *reporting) add(d int) {
	r.mu.Lock()
	r.n += d
	r.change.notify()
	r.mu.Unlock()
}

// watch returns how many reports are under way, and a channel closed when
// that changes.
func (r *reporting) watch() (int, <-chan struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n, r.change.wait()
}

// wait returns when no report is under way.
func (r *reporting) wait() {
	for {
		n, change := r.watch()
		if n == 0 {
			return
		}
		<-change
	}
}
