// Package terminal answers, in one place, whether output goes to a terminal
// and whether it may be coloured there.
package terminal

import (
	"io"
	"os"

	"github.com/mattn/go-isatty"
)

// Is reports whether w is a terminal.
func Is(w io.Writer) bool {
	f, ok := w.(interface{ Fd() uintptr })
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// ColorAllowed reports whether the environment, read with getenv (os.Getenv
// when nil), lets a terminal be coloured: NO_COLOR is empty
// (https://no-color.org) and TERM is not "dumb".
func ColorAllowed(getenv func(string) string) bool {
	if getenv == nil {
		getenv = os.Getenv
	}
	return getenv("NO_COLOR") == "" && getenv("TERM") != "dumb"
}

// Color reports whether output to w is coloured by default: w is a
// terminal and the environment allows colours.
func Color(w io.Writer, getenv func(string) string) bool {
	return Is(w) && ColorAllowed(getenv)
}
