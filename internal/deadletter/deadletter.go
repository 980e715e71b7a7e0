// Package deadletter keeps a dead-letter file: event lines that could not be
// delivered, appended so that they can be replayed.
package deadletter

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"sync"

	"github.com/multitrack/multitrack/internal/line"
)

// File and directory modes: event files say who did what.
const (
	FileMode os.FileMode = 0o600
	DirMode  os.FileMode = 0o700
)

// PropSink is the property that names, in a dead-letter line, the sink the
// event could not be delivered to (tracker.PropSink).
const PropSink = "$multitrack_sink"

// maxRetained bounds the buffer a File keeps between appends.
const maxRetained = 4 << 20

// File appends to a dead-letter file. It is opened on first use, safe for
// concurrent use, and each Append is all in the file or none of it. Close
// releases the descriptor; an Append after it (an event that raced the
// tracker's Close) opens the file for itself and closes it again.
type File struct {
	path string

	mu      sync.Mutex
	f       *os.File
	buf     []byte
	closed  bool  // Close was called: Append keeps no descriptor open
	lastErr error // the last error writing the file
}

// New returns the dead letter at path; the file is opened at the first
// Append.
func New(path string) *File { return &File{path: path} }

// Path returns the file's path.
func (d *File) Path() string { return d.path }

// Check reports whether a dead-letter file can be kept at path: it creates
// the file (mode 0600, its directory 0700) if need be and opens it for
// appending.
func Check(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), DirMode); err != nil {
		return fmt.Errorf("dead letter: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, FileMode)
	if err != nil {
		return fmt.Errorf("dead letter: %w", err)
	}
	return f.Close()
}

// Append calls lines with an empty buffer and appends what it returns (event
// lines) to the file, then fsyncs it: these are events that failed once
// already. On an error the file is cut back to where it was, so that lines
// counted lost are not in it to be replayed, and closed, so that the next
// Append opens it again (a full disk may have room by then).
func (d *File) Append(lines func(buf []byte) []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if cap(d.buf) > maxRetained {
		d.buf = nil
	}
	d.buf = lines(d.buf[:0])
	if len(d.buf) == 0 {
		return nil
	}
	if d.f == nil {
		if err := d.open(); err != nil {
			d.lastErr = err
			return err // tried again at the next Append
		}
	}
	start, err := d.f.Seek(0, io.SeekEnd)
	if err != nil {
		return d.fail(err, -1)
	}
	if _, err := d.f.Write(d.buf); err != nil {
		return d.fail(err, start)
	}
	if err := d.f.Sync(); err != nil {
		return d.fail(fmt.Errorf("sync: %w", err), start)
	}
	if d.closed {
		// The lines are on disk: an error closing the file loses none.
		_ = d.f.Close()
		d.f = nil
	}
	return nil
}

// AppendEvents appends n events to the file as event lines, in one Append
// (all of them or none). event(i) returns the i-th event's fields and the
// sink it could not be delivered to, which its line names in the property
// PropSink, set on a copy of the properties. An event that cannot be encoded
// is left out: AppendEvents returns how many lines it wrote and, when it left
// some out, the encoding error. When the Append fails it wrote none.
func (d *File) AppendEvents(n int, event func(i int) (sink string, f line.Fields)) (int, error) {
	written := 0
	var encErr error
	err := d.Append(func(buf []byte) []byte {
		written, encErr = 0, nil
		for i := range n {
			sink, f := event(i)
			f.Properties = withSink(f.Properties, sink)
			b, err := line.Append(buf, &f)
			if err != nil {
				encErr = err
				continue
			}
			buf = b
			written++
		}
		return buf
	})
	switch {
	case err != nil:
		return 0, err
	case encErr != nil:
		return written, fmt.Errorf("dead letter %s: %w", d.path, encErr)
	}
	return written, nil
}

// withSink returns a copy of props with PropSink set to sink.
func withSink(props map[string]any, sink string) map[string]any {
	p := make(map[string]any, len(props)+1)
	maps.Copy(p, props)
	p[PropSink] = sink
	return p
}

// fail cuts the file back to size start (unless negative), closes it, and
// returns the error.
func (d *File) fail(err error, start int64) error {
	if start >= 0 {
		_ = d.f.Truncate(start)
	}
	_ = d.f.Close()
	d.f = nil
	d.lastErr = fmt.Errorf("dead letter %s: %w", d.path, err)
	return d.lastErr
}

// LastError returns the last error writing the file; a nil File has none.
func (d *File) LastError() error {
	if d == nil {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.lastErr
}

func (d *File) open() error {
	if err := os.MkdirAll(filepath.Dir(d.path), DirMode); err != nil {
		return fmt.Errorf("dead letter: %w", err)
	}
	f, err := os.OpenFile(d.path, os.O_RDWR|os.O_APPEND|os.O_CREATE, FileMode)
	if err != nil {
		return fmt.Errorf("dead letter: %w", err)
	}
	// A process killed mid-write leaves a torn last line, which nothing can
	// read: cut it off, so that new lines do not follow it.
	if err := cutTornTail(f); err != nil {
		f.Close()
		return fmt.Errorf("dead letter %s: %w", d.path, err)
	}
	d.f = f
	return nil
}

// Close closes the file; a later Append opens it only for itself. A nil
// File is fine.
func (d *File) Close() error {
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
	d.f = nil
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
