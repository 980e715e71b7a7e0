package terminal_test

import (
	"bytes"
	"testing"

	"github.com/multitrack/multitrack/internal/terminal"
)

func TestColorAllowed(t *testing.T) {
	cases := []struct {
		env  map[string]string
		want bool
	}{
		{map[string]string{"TERM": "xterm-256color"}, true},
		{map[string]string{}, true},
		{map[string]string{"TERM": "xterm", "NO_COLOR": "1"}, false},
		{map[string]string{"TERM": "dumb"}, false},
	}
	for _, c := range cases {
		if got := terminal.ColorAllowed(func(k string) string { return c.env[k] }); got != c.want {
			t.Errorf("%v: ColorAllowed = %v, want %v", c.env, got, c.want)
		}
	}
	if terminal.Color(&bytes.Buffer{}, func(string) string { return "" }) {
		t.Error("a buffer is coloured")
	}
}
