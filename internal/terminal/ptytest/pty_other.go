//go:build !linux

// Package ptytest opens pseudo-terminals for tests of what is written to a
// terminal.
package ptytest

import (
	"os"
	"testing"
)

// Open skips the test: pseudo-terminal tests run on Linux only.
func Open(t testing.TB) (tty, master *os.File) {
	t.Skip("pseudo-terminal test runs on Linux only")
	return nil, nil
}

// ReadLine is never reached: Open skips.
func ReadLine(t testing.TB, master *os.File) string { return "" }

// SetSize is never reached: Open skips.
func SetSize(t testing.TB, tty *os.File, cols, rows int) {}
