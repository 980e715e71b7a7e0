package file

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

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

// openPaths holds the absolute paths open by a Sink in this process: two
// sinks appending to and rotating one file would trip over each other.
var openPaths sync.Map

// maxRetained bounds the encoding buffer a Sink keeps between batches.
const maxRetained = 4 << 20

// Sink appends event lines (eventline.Append) to a file.
//
// It is safe for concurrent use, and several Sinks in one process can write
// different files. Each Write encodes its whole batch into a buffer and
// hands it to the OS in one write, so that a crash of the process loses
// nothing Write accepted, and a batch is either all in the file or, when
// Write fails, not at all (the file is cut back); the Sync policy decides
// when the OS is asked to put it on disk. A batch never straddles a
// rotation.
type Sink struct {
	path    string
	absPath string
	cfg     config
	maxSize int64

	mu       sync.Mutex
	f        *os.File // nil after a failed reopen, or after Close
	regular  bool     // a regular file: it is rotated and fsynced
	size     int64    // bytes of complete lines in f
	dirty    bool     // written since the last fsync
	pending  []byte
	closed   bool
	stopSync chan struct{}
	syncDone chan struct{}

	undelivered tracker.UndeliveredFunc
}

// New opens (or creates, mode 0600, with missing directories 0700) the file
// at path for appending. When the file ends in a torn line (the process was
// killed mid-write), it is first rotated to a backup, where readers skip that
// line with a warning, so that new lines do not follow it.
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
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("file sink %s: %w", path, err)
	}
	if _, loaded := openPaths.LoadOrStore(abs, true); loaded {
		return nil, fmt.Errorf("file sink %s: already open by another file sink in this process", path)
	}
	s := &Sink{
		path:    path,
		absPath: abs,
		cfg:     c,
		maxSize: int64(c.maxSizeMB) << 20,
	}
	if err := s.open(); err != nil {
		openPaths.Delete(abs)
		return nil, fmt.Errorf("file sink %s: %w", path, err)
	}
	if s.regular && s.size > 0 {
		if err := s.rotateTornTail(); err != nil {
			if s.f != nil {
				s.f.Close()
			}
			openPaths.Delete(abs)
			return nil, fmt.Errorf("file sink %s: %w", path, err)
		}
	}
	if c.sync == SyncInterval && s.regular {
		s.stopSync = make(chan struct{})
		s.syncDone = make(chan struct{})
		go s.syncLoop()
	}
	return s, nil
}

// Path returns the path the sink writes.
func (s *Sink) Path() string { return s.path }

// open opens or creates the file at s.path. Called with mu held (or before
// the sink is shared).
func (s *Sink) open() error {
	if err := os.MkdirAll(filepath.Dir(s.path), DirMode); err != nil {
		return err
	}
	f, err := os.OpenFile(s.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, FileMode)
	if err != nil {
		return err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	s.f, s.regular, s.size, s.dirty = f, fi.Mode().IsRegular(), fi.Size(), false
	return nil
}

// rotateTornTail rotates the file away when its last byte is not a newline.
func (s *Sink) rotateTornTail() error {
	r, err := os.Open(s.path)
	if err != nil {
		return err
	}
	defer r.Close()
	var last [1]byte
	if _, err := r.ReadAt(last[:], s.size-1); err != nil && err != io.EOF {
		return fmt.Errorf("reading its last byte: %w", err)
	}
	if last[0] == '\n' {
		return nil
	}
	return s.rotate()
}

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
	var bad []error // why events could not be encoded
	var badAt []int // where they are in events
	encoded := 0
	if cap(s.pending) > maxRetained {
		s.pending = nil
	}
	s.pending = s.pending[:0]
	for i := range events {
		var err error
		if s.pending, err = eventline.Append(s.pending, &events[i]); err != nil {
			bad = append(bad, fmt.Errorf("file sink %s: event %q not written: %w", s.path, events[i].Name, err))
			badAt = append(badAt, i)
			continue
		}
		encoded++
	}
	if err := s.writeBatch(); err != nil {
		return errors.Join(append(bad, fmt.Errorf("file sink %s: %d events not written: %w", s.path, encoded, err))...)
	}
	if s.cfg.sync == SyncAlways {
		if err := s.fsync(false); err != nil {
			// Failed as a whole, the batch must not stay in the file: the
			// tracker dead-letters it.
			if terr := s.cutBack(s.size - int64(len(s.pending))); terr != nil {
				err = fmt.Errorf("%w (and %v)", err, terr)
			} else {
				s.size -= int64(len(s.pending))
			}
			return errors.Join(append(bad, fmt.Errorf("file sink %s: %d events not written: %w", s.path, encoded, err))...)
		}
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

// writeBatch writes the pending lines, after a rotation if they would take
// the file past its maximum size. On a short write it truncates the file
// back to where it was.
func (s *Sink) writeBatch() error {
	if len(s.pending) == 0 {
		return nil
	}
	if s.f == nil {
		if err := s.open(); err != nil {
			return err
		}
	}
	if s.regular && s.maxSize > 0 && s.size > 0 && s.size+int64(len(s.pending)) > s.maxSize {
		if err := s.rotate(); err != nil {
			return err
		}
	}
	n, err := s.f.Write(s.pending)
	if err == nil {
		s.size += int64(n)
		s.dirty = true
		return nil
	}
	if n > 0 && s.regular {
		if terr := s.cutBack(s.size); terr != nil {
			err = fmt.Errorf("%w (and %v)", err, terr)
		}
	}
	return err
}

// cutBack truncates the file to size, the end of its last complete line,
// after a batch failed.
func (s *Sink) cutBack(size int64) error {
	if err := s.f.Truncate(size); err != nil {
		return fmt.Errorf("cutting the file back to its last complete line: %w", err)
	}
	return nil
}

// fsync syncs the file; unless force, only when it was written to since the
// last fsync. Called with mu held. Flush, Close and rotations force it: the
// interval loop may have taken the dirty mark for an fsync still under way.
func (s *Sink) fsync(force bool) error {
	if !s.regular || s.f == nil || !force && !s.dirty {
		return nil
	}
	if err := s.cfg.fsync(s.f); err != nil {
		return err
	}
	s.dirty = false
	return nil
}

// syncLoop fsyncs every SyncPeriod (SyncInterval) when something was
// written. The fsync runs without mu held, so that a slow disk does not hold
// up Write; a rotation meanwhile fsyncs and closes the file itself.
func (s *Sink) syncLoop() {
	defer close(s.syncDone)
	t := time.NewTicker(s.cfg.syncPeriod)
	defer t.Stop()
	for {
		select {
		case <-s.stopSync:
			return
		case <-t.C:
		}
		s.mu.Lock()
		f, dirty := s.f, s.dirty
		s.dirty = false
		s.mu.Unlock()
		if !dirty || f == nil {
			continue
		}
		if err := s.cfg.fsync(f); err != nil {
			// Mark it again: the next tick, Flush or Close tries again, and
			// they report the error.
			s.mu.Lock()
			if s.f == f {
				s.dirty = true
			}
			s.mu.Unlock()
		}
	}
}

// Flush fsyncs, unless the policy is SyncNever: after it returns, what
// earlier Writes accepted is on disk (each Write has already handed its
// batch to the OS). It implements tracker.Flusher.
func (s *Sink) Flush(ctx context.Context) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	return s.flushAndSync()
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

func (s *Sink) flushAndSync() error {
	if s.f == nil {
		return nil
	}
	if s.cfg.sync != SyncNever {
		if err := s.fsync(true); err != nil {
			return fmt.Errorf("file sink %s: %w", s.path, err)
		}
	}
	return nil
}

// Close fsyncs (unless SyncNever) and closes the file. It is idempotent;
// calls after the first return nil. An fsync cannot be interrupted, so ctx
// is not consulted.
func (s *Sink) Close(context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	if s.stopSync != nil {
		close(s.stopSync)
		<-s.syncDone
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	defer openPaths.Delete(s.absPath)
	if s.f == nil {
		return nil
	}
	err := s.flushAndSync()
	if cerr := s.f.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("file sink %s: %w", s.path, cerr)
	}
	s.f = nil
	return err
}

var (
	_ tracker.Flusher             = (*Sink)(nil)
	_ tracker.UndeliveredReporter = (*Sink)(nil)
	_ tracker.Sink                = (*Sink)(nil)
)
