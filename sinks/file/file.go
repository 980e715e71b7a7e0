package file

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/multitrack/multitrack/eventline"
	"github.com/multitrack/multitrack/tracker"
)

// File and directory modes: event files say who did what.
const (
	FileMode os.FileMode = 0o600
	DirMode  os.FileMode = 0o700
)

// ErrClosed is returned by Write and Flush after Close.
var ErrClosed = errors.New("file sink closed")

// maxRetained bounds the encoding buffer a file's writer keeps between
// batches.
const maxRetained = 4 << 20

// Sink appends event lines (eventline.Append) to a file.
//
// It is safe for concurrent use. Sinks on the same path in one process
// share one writer, reference-counted, so their lines never interleave and
// one rotation serves them all; they must ask for the same options. Each
// Write encodes its whole batch and hands it to the OS in one write, so
// that a crash of the process loses nothing Write accepted, and a batch is
// either all in the file or, when Write fails, not at all (the file is cut
// back); the Sync policy decides when the OS is asked to put it on disk. A
// batch never straddles a rotation.
type Sink struct {
	path string
	w    *writer

	mu          sync.Mutex
	closed      bool
	undelivered tracker.UndeliveredFunc
}

// New opens (or creates, mode 0600, with missing directories 0700) the file
// at path for appending, or shares it with the Sinks of this process that
// have it open. When the file ends in a torn line (the process was killed
// mid-write), it is first rotated to a backup, where readers skip that line
// with a warning, so that new lines do not follow it.
func New(path string, opts ...Option) (*Sink, error) {
	c := config{
		sync:       DefaultSync,
		maxSizeMB:  DefaultMaxSizeMB,
		maxBackups: DefaultMaxBackups,
		syncPeriod: SyncPeriod,
		fsync:      (*os.File).Sync,
	}
	for _, o := range opts {
		o(&c)
	}
	if path == "" {
		return nil, errors.New("file sink: a path is required")
	}
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("file sink %s: %w", path, err)
	}
	w, err := acquire(path, c)
	if err != nil {
		return nil, fmt.Errorf("file sink %s: %w", path, err)
	}
	return &Sink{path: path, w: w}, nil
}

// Path returns the path the sink writes.
func (s *Sink) Path() string { return s.path }

// Backups returns the paths of the file's rotated backups, oldest first.
func (s *Sink) Backups() ([]string, error) { return s.w.backups() }

// SetUndelivered implements tracker.UndeliveredReporter: an event that
// cannot be encoded is reported to f, and the rest of its batch written.
func (s *Sink) SetUndelivered(f tracker.UndeliveredFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.undelivered = f
}

// Write appends the events, one line each, in one write.
//
// An event that cannot be encoded is skipped: it is reported to the
// tracker's UndeliveredFunc (SetUndelivered) when there is one, else named
// in the returned error (matching eventline.ErrUnencodable); the others are
// written. When the file cannot be written (disk full, a directory gone),
// the file is cut back to where it was, so that none of the batch is in it,
// and the error, naming the path, stands for the whole batch (nothing of it
// is reported to the UndeliveredFunc); the next Write tries again, reopening
// the file if need be.
func (s *Sink) Write(ctx context.Context, events []tracker.Event) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	w := s.w
	w.mu.Lock()
	bad, badAt, err := w.write(events)
	w.mu.Unlock()
	if err != nil {
		return errors.Join(append(bad, err)...)
	}
	// The batch is written: the events that could not be encoded are the
	// only ones not delivered.
	if s.undelivered == nil {
		return errors.Join(bad...)
	}
	for k, i := range badAt {
		s.undelivered(events[i:i+1], bad[k])
	}
	return nil
}

// write encodes events and writes them as one batch (see Sink.Write). It
// returns why events could not be encoded, where they are in events, and
// the error that stands for the whole batch. Called with mu held.
func (w *writer) write(events []tracker.Event) (bad []error, badAt []int, err error) {
	encoded := 0
	if cap(w.pending) > maxRetained {
		w.pending = nil
	}
	w.pending = w.pending[:0]
	for i := range events {
		var err error
		if w.pending, err = eventline.Append(w.pending, &events[i]); err != nil {
			bad = append(bad, fmt.Errorf("file sink %s: event %q not written: %w", w.path, events[i].Name, err))
			badAt = append(badAt, i)
			continue
		}
		encoded++
	}
	if err := w.writeBatch(); err != nil {
		return bad, badAt, fmt.Errorf("file sink %s: %d events not written: %w", w.path, encoded, err)
	}
	if w.cfg.sync == SyncAlways {
		if err := w.fsync(false); err != nil {
			// Failed as a whole, the batch must not stay in the file: the
			// tracker dead-letters it.
			if terr := w.cutBack(w.size - int64(len(w.pending))); terr != nil {
				err = fmt.Errorf("%w (and %v)", err, terr)
			} else {
				w.size -= int64(len(w.pending))
			}
			return bad, badAt, fmt.Errorf("file sink %s: %d events not written: %w", w.path, encoded, err)
		}
	}
	return bad, badAt, nil
}

// Flush fsyncs, unless the policy is SyncNever: after it returns, what
// earlier Writes accepted is on disk (each Write has already handed its
// batch to the OS). It implements tracker.Flusher.
func (s *Sink) Flush(ctx context.Context) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	s.w.mu.Lock()
	defer s.w.mu.Unlock()
	return s.w.flushAndSync()
}

// lock takes mu, unless ctx has ended or the sink is closed.
func (s *Sink) lock(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return fmt.Errorf("file sink %s: %w", s.path, ErrClosed)
	}
	return nil
}

// Close fsyncs (unless SyncNever) and gives up the sink's share of the
// file, closing it when no other Sink has it open. It is idempotent; calls
// after the first return nil. An fsync cannot be interrupted, so ctx is not
// consulted.
func (s *Sink) Close(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.w.release()
}

var (
	_ tracker.Flusher             = (*Sink)(nil)
	_ tracker.UndeliveredReporter = (*Sink)(nil)
	_ tracker.Sink                = (*Sink)(nil)
)
