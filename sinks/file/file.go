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

	"github.com/multitrack/multitrack/tracker"
)

// File and directory modes: event files say who did what.
const (
	FileMode os.FileMode = 0o600
	DirMode  os.FileMode = 0o700
)

// ErrClosed is returned by Write and Flush after Close.
var ErrClosed = errors.New("file sink closed")

// WriteError reports events of a batch that did not reach the file.
type WriteError struct {
	Path string
	// Written is how many events at the head of the batch were handled:
	// written, or skipped as unencodable (reported separately).
	Written int
	// Failed is how many events after those were not written.
	Failed int
	Err    error
}

// Error names the path and the counts.
func (e *WriteError) Error() string {
	return fmt.Sprintf("file sink %s: %d of %d events not written: %v", e.Path, e.Failed, e.Written+e.Failed, e.Err)
}

// Unwrap returns the underlying error.
func (e *WriteError) Unwrap() error { return e.Err }

// openPaths holds the absolute paths open by a Sink in this process: two
// sinks appending to and rotating one file would trip over each other.
var openPaths sync.Map

// Sink appends event lines (tracker.AppendEventLine) to a file.
//
// It is safe for concurrent use, and several Sinks in one process can write
// different files. Each Write encodes its batch into a buffer and hands it to
// the OS in writes of up to the buffer size (never splitting a line across a
// rotation), so that a crash of the process loses nothing Write accepted;
// the Sync policy decides when the OS is asked to put it on disk.
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
		bufSize:    DefaultBufferSize,
		now:        time.Now,
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
		pending: make([]byte, 0, c.bufSize),
	}
	if err := s.open(); err != nil {
		openPaths.Delete(abs)
		return nil, err
	}
	if s.regular && s.size > 0 {
		if err := s.rotateTornTail(); err != nil {
			s.f.Close()
			openPaths.Delete(abs)
			return nil, err
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
		return fmt.Errorf("file sink %s: %w", s.path, err)
	}
	f, err := os.OpenFile(s.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, FileMode)
	if err != nil {
		return fmt.Errorf("file sink %s: %w", s.path, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("file sink %s: %w", s.path, err)
	}
	s.f, s.regular, s.size, s.dirty = f, fi.Mode().IsRegular(), fi.Size(), false
	return nil
}

// rotateTornTail rotates the file away when its last byte is not a newline.
func (s *Sink) rotateTornTail() error {
	r, err := os.Open(s.path)
	if err != nil {
		return fmt.Errorf("file sink %s: %w", s.path, err)
	}
	defer r.Close()
	var last [1]byte
	if _, err := r.ReadAt(last[:], s.size-1); err != nil && err != io.EOF {
		return fmt.Errorf("file sink %s: reading its last byte: %w", s.path, err)
	}
	if last[0] == '\n' {
		return nil
	}
	return s.rotate()
}

// Write appends the events, one line each. An event that cannot be encoded
// is skipped and named in the returned error (matching
// tracker.ErrUnencodable). When the file cannot be written (disk full,
// permissions), Write stops, cuts the file back to its last complete line,
// and returns a *WriteError saying how many events were not written; the
// next Write tries again.
func (s *Sink) Write(ctx context.Context, events []tracker.Event) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	var errs []error
	flushed := 0 // events at the head of the batch whose lines reached the file (or were skipped)
	fail := func(err error) error {
		s.pending = s.pending[:0]
		return errors.Join(append(errs, &WriteError{Path: s.path, Written: flushed, Failed: len(events) - flushed, Err: err})...)
	}
	if s.f == nil {
		if err := s.open(); err != nil {
			return fail(errors.Unwrap(err))
		}
	}
	for i := range events {
		start := len(s.pending)
		var err error
		if s.pending, err = tracker.AppendEventLine(s.pending, &events[i]); err != nil {
			errs = append(errs, fmt.Errorf("file sink %s: event %q not written: %w", s.path, events[i].Name, err))
			continue
		}
		rotate := s.rotateBefore(start, len(s.pending)-start)
		if !rotate && len(s.pending) <= s.cfg.bufSize {
			continue
		}
		// Write out the lines before this one, which stays pending.
		if err := s.writeOut(start); err != nil {
			return fail(err)
		}
		flushed = i
		if rotate {
			if err := s.rotate(); err != nil {
				return fail(err)
			}
		}
	}
	if err := s.flushPending(); err != nil {
		return fail(err)
	}
	if s.cfg.sync == SyncAlways {
		if err := s.fsync(); err != nil {
			return errors.Join(append(errs, fmt.Errorf("file sink %s: %w", s.path, err))...)
		}
	}
	return errors.Join(errs...)
}

// rotateBefore says whether a line of n bytes, after before bytes pending,
// must go to a new file.
func (s *Sink) rotateBefore(before, n int) bool {
	ahead := s.size + int64(before)
	return s.regular && s.maxSize > 0 && ahead+int64(n) > s.maxSize && ahead > 0
}

// flushPending writes every pending line.
func (s *Sink) flushPending() error { return s.writeOut(len(s.pending)) }

// writeOut writes the first n pending bytes (whole lines) and keeps the
// rest pending. On a short write it truncates the file back to its last
// complete line, so that no torn line is left in the middle of the file.
func (s *Sink) writeOut(n int) error {
	if n == 0 {
		return nil
	}
	written, err := s.f.Write(s.pending[:n])
	if err == nil {
		s.size += int64(written)
		s.dirty = true
		s.pending = s.pending[:copy(s.pending, s.pending[n:])]
		return nil
	}
	if written > 0 && s.regular {
		if terr := s.f.Truncate(s.size); terr != nil {
			err = fmt.Errorf("%w (and truncating back to the last complete line: %v)", err, terr)
		}
	}
	return err
}

// fsync syncs the file when it was written to since the last fsync.
func (s *Sink) fsync() error {
	if !s.dirty || !s.regular || s.f == nil {
		return nil
	}
	if err := s.f.Sync(); err != nil {
		return err
	}
	s.dirty = false
	return nil
}

// syncLoop fsyncs every SyncPeriod (SyncInterval).
func (s *Sink) syncLoop() {
	defer close(s.syncDone)
	t := time.NewTicker(SyncPeriod)
	defer t.Stop()
	for {
		select {
		case <-s.stopSync:
			return
		case <-t.C:
			s.mu.Lock()
			// An error here shows again in the next Write, Flush or Close.
			_ = s.fsync()
			s.mu.Unlock()
		}
	}
}

// Flush writes what is buffered and, unless the policy is SyncNever, fsyncs:
// after it returns, what earlier Writes accepted is on disk. It implements
// tracker.Flusher.
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
	if err := s.flushPending(); err != nil {
		return fmt.Errorf("file sink %s: %w", s.path, err)
	}
	if s.cfg.sync != SyncNever {
		if err := s.fsync(); err != nil {
			return fmt.Errorf("file sink %s: %w", s.path, err)
		}
	}
	return nil
}

// Close flushes, fsyncs (unless SyncNever) and closes the file. It is
// idempotent; calls after the first return nil.
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
	_ tracker.Flusher = (*Sink)(nil)
	_ tracker.Sink    = (*Sink)(nil)
)
