//go:build linux

// Package ptytest opens pseudo-terminals for tests of what is written to a
// terminal.
package ptytest

import (
	"bytes"
	"fmt"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Open returns the terminal side of a new pseudo-terminal and its other
// side, from which what is written to the terminal is read; it skips the
// test where there is none. Both are closed when the test ends.
func Open(t testing.TB) (tty, master *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	t.Cleanup(func() { master.Close() })
	if err := unix.IoctlSetPointerInt(int(master.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Skipf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetInt(int(master.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Skipf("ptsname: %v", err)
	}
	tty, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("open terminal: %v", err)
	}
	t.Cleanup(func() { tty.Close() })
	return tty, master
}

// ReadLine returns what was written to the terminal up to and including
// its first newline, read from master; it fails the test when none comes
// within 10 seconds (a generous bound for a loaded machine, not a speed
// check).
func ReadLine(t testing.TB, master *os.File) string {
	t.Helper()
	fd := int(master.Fd())
	deadline := time.Now().Add(10 * time.Second)
	var out []byte
	buf := make([]byte, 4096)
	for !bytes.Contains(out, []byte("\n")) {
		wait := time.Until(deadline)
		if wait <= 0 {
			t.Fatalf("no line written to the terminal; got %q", out)
		}
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, int(wait.Milliseconds())+1)
		if err == unix.EINTR || n == 0 {
			continue
		}
		if err != nil {
			t.Fatalf("poll: %v", err)
		}
		m, err := unix.Read(fd, buf)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		out = append(out, buf[:m]...)
	}
	return string(out)
}

// SetSize sets the terminal's size in columns and rows; it skips the test
// where the terminal refuses.
func SetSize(t testing.TB, tty *os.File, cols, rows int) {
	t.Helper()
	ws := &unix.Winsize{Col: uint16(cols), Row: uint16(rows)}
	if err := unix.IoctlSetWinsize(int(tty.Fd()), unix.TIOCSWINSZ, ws); err != nil {
		t.Skipf("set the terminal's size: %v", err)
	}
}
