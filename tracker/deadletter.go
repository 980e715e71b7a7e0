package tracker

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/multitrack/multitrack/internal/line"
)

// deadLetter appends undeliverable events to a file as event lines. It is
// opened on first use and shared by every sink's worker and by sinks that
// report undelivered events from their own goroutines.
type deadLetter struct {
	path string

	mu      sync.Mutex
	f       *os.File
	w       *bufio.Writer
	buf     []byte
	closed  bool
	lastErr error // the last error writing the file, for Close's error
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
	if d.f == nil {
		if err := d.open(); err != nil {
			d.lastErr = err
			return 0, err // tried again on the next spill
		}
	}
	// A spill is all in the file or none of it: on an error the file is
	// cut back to here, so that what is counted lost is not replayed too.
	start, err := d.f.Seek(0, io.SeekEnd)
	if err != nil {
		return 0, d.fail(err, -1)
	}
	n := 0
	var encErr error
	for i := range events {
		e := events[i]
		e.Properties = withProperty(e.Properties, PropSink, sink)
		b, err := line.Append(d.buf[:0], &line.Fields{UUID: e.UUID, Name: e.Name, DistinctID: e.DistinctID, Timestamp: e.Timestamp, Groups: e.Groups, Properties: e.Properties})
		if err != nil {
			encErr = err // an event no encoder can write is lost, and counted
			continue
		}
		d.buf = b
		if _, err := d.w.Write(b); err != nil {
			return 0, d.fail(err, start)
		}
		n++
	}
	// Flush and sync every spill: these are events that failed once already.
	if err := d.w.Flush(); err != nil {
		return 0, d.fail(err, start)
	}
	if err := d.f.Sync(); err != nil {
		return 0, d.fail(fmt.Errorf("sync: %w", err), start)
	}
	if encErr != nil {
		return n, fmt.Errorf("dead letter %s: %w", d.path, encErr)
	}
	return n, nil
}

// fail cuts the file back to size start (unless negative), closes it so
// that the next spill opens it again (a full disk may have room by then),
// and returns the error.
func (d *deadLetter) fail(err error, start int64) error {
	d.w.Reset(d.f) // drop what bufio still holds
	if start >= 0 {
		_ = d.f.Truncate(start)
	}
	_ = d.f.Close()
	d.f, d.w = nil, nil
	d.lastErr = fmt.Errorf("dead letter %s: %w", d.path, err)
	return d.lastErr
}

// lastError returns the last error writing the file; nil d is fine.
func (d *deadLetter) lastError() error {
	if d == nil {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.lastErr
}

// CheckDeadLetter reports whether a dead-letter file can be kept at path: it
// creates the file (mode 0600, its directory 0700) if need be and opens it
// for appending. New calls it for WithDeadLetter; configuration code can
// call it to name the setting at fault.
func CheckDeadLetter(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("dead letter: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("dead letter: %w", err)
	}
	return f.Close()
}

func (d *deadLetter) open() error {
	if err := os.MkdirAll(filepath.Dir(d.path), 0o700); err != nil {
		return fmt.Errorf("dead letter: %w", err)
	}
	f, err := os.OpenFile(d.path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("dead letter: %w", err)
	}
	// A process killed mid-write leaves a torn last line, which nothing can
	// read: cut it off, so that new lines do not follow it.
	if err := cutTornTail(f); err != nil {
		f.Close()
		return fmt.Errorf("dead letter %s: %w", d.path, err)
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

// cutTornTail truncates f after its last newline when it does not end in
// one. A torn line is at most one event line long, so only that much of the
// file's end is read.
func cutTornTail(f *os.File) error {
	fi, err := f.Stat()
	if err != nil || fi.Size() == 0 || !fi.Mode().IsRegular() {
		return err
	}
	size := fi.Size()
	tail := make([]byte, min(size, line.Max+1))
	if _, err := f.ReadAt(tail, size-int64(len(tail))); err != nil {
		return err
	}
	if tail[len(tail)-1] == '\n' {
		return nil
	}
	// Without a newline in the tail, the whole tail is one torn line.
	return f.Truncate(size - int64(len(tail)) + int64(bytes.LastIndexByte(tail, '\n')+1))
}
