package tracker

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// deadLetter appends undeliverable events to a file as event lines. It is
// opened on first use and shared by every sink's worker and by sinks that
// report undelivered events from their own goroutines.
type deadLetter struct {
	path string

	mu     sync.Mutex
	f      *os.File
	w      *bufio.Writer
	buf    []byte
	err    error // the first open or write error; later writes are refused
	closed bool
}

// spill writes events that sink w could not deliver to the dead-letter file,
// each with the sink's name in PropSink, and returns how many were written.
// Without a dead-letter file they are only counted (and logged).
func (t *Tracker) spill(w *worker, events []Event) int {
	if len(events) == 0 {
		return 0
	}
	if t.deadLetter == nil {
		t.logLimit.do(limitDeadLetter, func() {
			t.log.Error().Str("sink", w.name).Int("events", len(events)).Msg("multitrack: events not delivered and no dead-letter file configured")
		})
		return 0
	}
	n, err := t.deadLetter.write(w.name, events)
	w.counters.deadLettered.Add(uint64(n))
	if lost := len(events) - n; lost > 0 {
		t.counters.deadLetterErrors.Add(uint64(lost))
		t.logLimit.do(limitDeadLetter, func() {
			t.log.Error().Str("sink", w.name).Int("events", lost).Err(err).Msg("multitrack: could not write to the dead-letter file")
		})
	}
	return n
}

func (t *Tracker) deadLetterPath() string {
	if t.deadLetter == nil {
		return ""
	}
	return t.deadLetter.path
}

func (d *deadLetter) write(sink string, events []Event) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return 0, fmt.Errorf("dead letter %s: already closed", d.path)
	}
	if d.f == nil && d.err == nil {
		d.err = d.open()
	}
	if d.err != nil {
		return 0, d.err
	}
	n := 0
	var encErr error
	for i := range events {
		e := events[i]
		e.Properties = withProperty(e.Properties, PropSink, sink)
		line, err := AppendEventLine(d.buf[:0], &e)
		if err != nil {
			encErr = err // an event no encoder can write is lost, and counted
			continue
		}
		d.buf = line
		if _, err := d.w.Write(line); err != nil {
			d.err = fmt.Errorf("dead letter %s: %w", d.path, err)
			return n, d.err
		}
		n++
	}
	// Flush and sync every spill: these are events that failed once already.
	if err := d.w.Flush(); err != nil {
		d.err = fmt.Errorf("dead letter %s: %w", d.path, err)
		return 0, d.err
	}
	if err := d.f.Sync(); err != nil {
		d.err = fmt.Errorf("dead letter %s: sync: %w", d.path, err)
		return 0, d.err
	}
	if encErr != nil {
		return n, fmt.Errorf("dead letter %s: %w", d.path, encErr)
	}
	return n, nil
}

func (d *deadLetter) open() error {
	if err := os.MkdirAll(filepath.Dir(d.path), 0o700); err != nil {
		return fmt.Errorf("dead letter: %w", err)
	}
	f, err := os.OpenFile(d.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("dead letter: %w", err)
	}
	d.f, d.w = f, bufio.NewWriter(f)
	return nil
}

// close closes the file; nil d is fine.
func (d *deadLetter) close() error {
	if d == nil {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	if d.f == nil {
		return nil
	}
	err := d.f.Close()
	d.f, d.w = nil, nil
	if err != nil {
		return fmt.Errorf("dead letter %s: close: %w", d.path, err)
	}
	return nil
}
