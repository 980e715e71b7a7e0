//go:build linux

package faults

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// smallDisk mounts a tmpfs of kb KiB for the test, or skips the test,
// saying why, where that cannot be done (not root, or no CAP_SYS_ADMIN in
// a container).
func smallDisk(t *testing.T, kb int) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the disk-full scenario mounts a small tmpfs: it needs root")
	}
	dir := filepath.Join(t.TempDir(), "small")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%dk,mode=0700", kb)); err != nil {
		t.Skipf("the disk-full scenario mounts a small tmpfs, and this machine refuses: mount -t tmpfs: %v", err)
	}
	// Registered after t.TempDir: it runs before the directory is removed.
	t.Cleanup(func() {
		if err := unix.Unmount(dir, 0); err != nil {
			t.Errorf("unmounting the tmpfs: %v", err)
			unix.Unmount(dir, unix.MNT_DETACH)
		}
	})
	return dir
}

// grow makes the tmpfs at dir kb KiB large.
func grow(t *testing.T, dir string, kb int) {
	t.Helper()
	if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_REMOUNT, fmt.Sprintf("size=%dk", kb)); err != nil {
		t.Fatalf("growing the tmpfs: %v", err)
	}
}

// TestFileSinkDiskFullThenRoom fills the file sink's disk while events
// flow, keeps it full, then makes room: batches that could not be written
// are dead-lettered whole (the dead letter is on another disk), the file
// holds only complete lines, and writing resumes by itself.
func TestFileSinkDiskFullThenRoom(t *testing.T) {
	sc := size()
	disk := smallDisk(t, sc.diskKB)
	path, dl := filepath.Join(disk, "events.jsonl"), filepath.Join(t.TempDir(), "dead-letter.jsonl")
	tr, h := newFileTracker(t, path, dl)
	l := startLoad(t, tr, sc)
	full := time.Now()
	for tr.Stats().Sinks["file"].WriteErrors == 0 {
		if time.Since(full) > time.Minute {
			t.Fatalf("the %d KiB disk never filled", sc.diskKB)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("the disk filled after %v", time.Since(full).Round(time.Millisecond))
	time.Sleep(sc.outage)
	grow(t, disk, 64*sc.diskKB)
	if err := tr.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	mark := l.mark()
	time.Sleep(sc.recovered)
	c := l.finish()
	closeErr := tr.Close(context.Background())

	inFile, torn := readEvents(t, path)
	if torn > 0 {
		t.Errorf("the file ends in a torn line: a failed batch was not cut back")
	}
	st := tr.Stats()
	f := audit(t, c, st, outcome{sink: "file", delivered: inFile, deadLettered: readDeadLetter(t, dl)["file"]}, h, expect{})
	checkCloseError(t, closeErr, f)
	if f.DeadLettered == 0 {
		t.Errorf("no event was dead-lettered: the disk never refused a batch")
	}
	for _, u := range l.after(mark) {
		if inFile[u] == 0 {
			t.Errorf("event %s, captured after the disk had room again, is not in the file", u)
			break
		}
	}
	f.Replayed, inFile = replayIntoFile(t, dl, path)
	mustComplete(t, c, f, "file", inFile, h)
	logFigures(t, f)
	t.Logf("%d failed writes", st.Sinks["file"].WriteErrors)
}
