package main

import (
	"io"
	"os"
	"testing"
	"time"

	"github.com/multitrack/multitrack/internal/terminal/ptytest"
)

// onTerminal runs f with a terminal of cols columns and returns what f
// wrote to it.
func onTerminal(t *testing.T, cols int, f func(tty *os.File)) string {
	t.Helper()
	tty, master := ptytest.Open(t)
	ptytest.SetSize(t, tty, cols, 24)
	got := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(master) // until the terminal side closes
		got <- string(b)
	}()
	f(tty)
	tty.Close()
	select {
	case s := <-got:
		return s
	case <-time.After(10 * time.Second):
		master.Close()
		return <-got
	}
}
