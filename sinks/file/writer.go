package file

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// writers holds the writer of every path open in this process, by absolute
// path: a second New on a path shares its writer, reference-counted, rather
// than appending to and rotating the file behind the first one's back (as
// Caddy's log writers share through a UsagePool).
var writers = struct {
	sync.Mutex
	m map[string]*writer
}{m: map[string]*writer{}}

// writer owns one file: its descriptor, size, rotation and fsyncs. Every
// Sink on the path writes through it, under its mutex.
type writer struct {
	path    string
	absPath string
	cfg     config
	maxSize int64
	refs    int // Sinks sharing it; guarded by writers' lock

	mu       sync.Mutex
	f        *os.File // nil after a failed reopen, or after the last Close
	regular  bool     // a regular file: it is rotated and fsynced
	size     int64    // bytes of complete lines in f
	dirty    bool     // written since the last fsync
	pending  []byte   // the batch being written
	stopSync chan struct{}
	syncDone chan struct{}
}

// acquire returns the writer of path, opening the file for the first Sink
// on it; a later Sink must ask for the same options.
func acquire(path string, c config) (*writer, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	writers.Lock()
	defer writers.Unlock()
	if w, ok := writers.m[abs]; ok {
		if !w.cfg.sameAs(c) {
			return nil, fmt.Errorf("already open in this process with other options (%s)", w.cfg)
		}
		w.refs++
		return w, nil
	}
	w := &writer{path: path, absPath: abs, cfg: c, maxSize: int64(c.maxSizeMB) << 20, refs: 1}
	if err := w.open(); err != nil {
		return nil, err
	}
	if w.regular && w.size > 0 {
		if err := w.rotateTornTail(); err != nil {
			if w.f != nil {
				w.f.Close()
			}
			return nil, err
		}
	}
	if c.sync == SyncInterval && w.regular {
		w.stopSync = make(chan struct{})
		w.syncDone = make(chan struct{})
		go w.syncLoop()
	}
	writers.m[abs] = w
	return w, nil
}

// release gives up one Sink's share: it fsyncs (unless SyncNever) what was
// written, and the last share closes the file.
func (w *writer) release() error {
	writers.Lock()
	w.refs--
	last := w.refs == 0
	if last {
		delete(writers.m, w.absPath)
	}
	writers.Unlock()
	if last && w.stopSync != nil {
		close(w.stopSync)
		<-w.syncDone
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return nil
	}
	err := w.flushAndSync()
	if !last {
		return err
	}
	if cerr := w.f.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("file sink %s: %w", w.path, cerr)
	}
	w.f = nil
	return err
}

// open opens or creates the file at w.path. Called with mu held (or before
// the writer is shared).
func (w *writer) open() error {
	if err := os.MkdirAll(filepath.Dir(w.path), DirMode); err != nil {
		return err
	}
	f, err := os.OpenFile(w.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, FileMode)
	if err != nil {
		return err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	w.f, w.regular, w.size, w.dirty = f, fi.Mode().IsRegular(), fi.Size(), false
	return nil
}

// ensureOpen reopens the file when an earlier failure closed it. Every
// batch passes here first: it is where to notice that the path now names
// another file.
func (w *writer) ensureOpen() error {
	if w.f == nil {
		return w.open()
	}
	return nil
}

// rotateTornTail rotates the file away when its last byte is not a newline.
func (w *writer) rotateTornTail() error {
	r, err := os.Open(w.path)
	if err != nil {
		return err
	}
	defer r.Close()
	var last [1]byte
	if _, err := r.ReadAt(last[:], w.size-1); err != nil && err != io.EOF {
		return fmt.Errorf("reading its last byte: %w", err)
	}
	if last[0] == '\n' {
		return nil
	}
	return w.rotate()
}

// writeBatch writes the pending lines, after a rotation if they would take
// the file past its maximum size. On a short write it truncates the file
// back to where it was. Called with mu held.
func (w *writer) writeBatch() error {
	if len(w.pending) == 0 {
		return nil
	}
	if err := w.ensureOpen(); err != nil {
		return err
	}
	if w.regular && w.maxSize > 0 && w.size > 0 && w.size+int64(len(w.pending)) > w.maxSize {
		if err := w.rotate(); err != nil {
			return err
		}
	}
	n, err := w.f.Write(w.pending)
	if err == nil {
		w.size += int64(n)
		w.dirty = true
		return nil
	}
	if n > 0 && w.regular {
		if terr := w.cutBack(w.size); terr != nil {
			err = fmt.Errorf("%w (and %v)", err, terr)
		}
	}
	return err
}

// cutBack truncates the file to size, the end of its last complete line,
// after a batch failed.
func (w *writer) cutBack(size int64) error {
	if err := w.f.Truncate(size); err != nil {
		return fmt.Errorf("cutting the file back to its last complete line: %w", err)
	}
	return nil
}

// fsync syncs the file; unless force, only when it was written to since the
// last fsync. Called with mu held. Flush, Close and rotations force it: the
// interval loop may have taken the dirty mark for an fsync still under way.
func (w *writer) fsync(force bool) error {
	if !w.regular || w.f == nil || !force && !w.dirty {
		return nil
	}
	if err := w.cfg.fsync(w.f); err != nil {
		return err
	}
	w.dirty = false
	return nil
}

// flushAndSync fsyncs unless the policy is SyncNever. Called with mu held.
func (w *writer) flushAndSync() error {
	if w.f == nil || w.cfg.sync == SyncNever {
		return nil
	}
	if err := w.fsync(true); err != nil {
		return fmt.Errorf("file sink %s: %w", w.path, err)
	}
	return nil
}

// syncLoop fsyncs every SyncPeriod (SyncInterval) when something was
// written. The fsync runs without mu held, so that a slow disk does not hold
// up Write; a rotation meanwhile fsyncs and closes the file itself.
func (w *writer) syncLoop() {
	defer close(w.syncDone)
	t := time.NewTicker(w.cfg.syncPeriod)
	defer t.Stop()
	for {
		select {
		case <-w.stopSync:
			return
		case <-t.C:
		}
		w.mu.Lock()
		f, dirty := w.f, w.dirty
		w.dirty = false
		w.mu.Unlock()
		if !dirty || f == nil {
			continue
		}
		if err := w.cfg.fsync(f); err != nil {
			// Mark it again: the next tick, Flush or Close tries again, and
			// they report the error.
			w.mu.Lock()
			if w.f == f {
				w.dirty = true
			}
			w.mu.Unlock()
		}
	}
}
