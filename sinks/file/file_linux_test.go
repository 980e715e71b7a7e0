package file_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/multitrack/multitrack/sinks/file"
)

// TestShortWriteLeavesNoPartOfTheBatch lowers the process's file-size limit
// so that a batch is written only in part (the kernel writes up to the
// limit, then refuses with EFBIG; Go ignores SIGXFSZ): the sink cuts the
// file back to where it was, and writes again once there is room.
func TestShortWriteLeavesNoPartOfTheBatch(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	s := newSink(t, path, file.WithSync(file.SyncNever))
	if err := s.Write(ctx, batch(0, 10)); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	// Room for a few lines of the next 10.
	underFileSizeLimit(t, uint64(len(before))+1000, func() { err = s.Write(ctx, batch(10, 10)) })
	if !errors.Is(err, syscall.EFBIG) {
		t.Fatalf("got %v, want EFBIG", err)
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(after, before) {
		t.Fatalf("file changed by a failed batch: %d bytes before, %d after", len(before), len(after))
	}

	if err := s.Write(ctx, batch(20, 10)); err != nil {
		t.Fatal(err)
	}
	ids := readIDs(t, path)
	if len(ids) != 20 || ids[9] != "event-00000009" || ids[10] != "event-00000020" {
		t.Fatalf("file holds %v", ids)
	}
}

// TestFailedBatchAfterATruncationIsCutBackToTheNewEnd: after logrotate's
// copytruncate, a batch written only in part is cut back to where the
// truncated file ended, not to the size it had before (which would leave
// the part of the batch, or a hole of NUL bytes, in it).
func TestFailedBatchAfterATruncationIsCutBackToTheNewEnd(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	s := newSink(t, path, file.WithSync(file.SyncNever))
	if err := s.Write(ctx, batch(0, 10)); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, 0); err != nil { // copytruncate
		t.Fatal(err)
	}

	// Past the old size, short of 30 lines.
	underFileSizeLimit(t, uint64(fi.Size())+1000, func() { err = s.Write(ctx, batch(10, 30)) })
	if !errors.Is(err, syscall.EFBIG) {
		t.Fatalf("got %v, want EFBIG", err)
	}
	if after, err := os.Stat(path); err != nil || after.Size() != 0 {
		t.Fatalf("the file holds %d bytes after a failed batch, want the 0 it was truncated to (%v)", after.Size(), err)
	}
	if err := s.Write(ctx, batch(40, 5)); err != nil {
		t.Fatal(err)
	}
	if ids := readIDs(t, path); len(ids) != 5 || ids[0] != "event-00000040" {
		t.Fatalf("file holds %v", ids)
	}
}

// underFileSizeLimit runs f with the process's file-size limit lowered to
// limit bytes, then restores it. It skips the test where the limit cannot
// be changed.
func underFileSizeLimit(t *testing.T, limit uint64, f func()) {
	t.Helper()
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Skipf("getrlimit: %v", err)
	}
	limited := old
	limited.Cur = limit
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &limited); err != nil {
		t.Skipf("setrlimit: %v", err)
	}
	defer func() {
		if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
			t.Fatalf("restoring the file-size limit: %v", err)
		}
	}()
	f()
}
