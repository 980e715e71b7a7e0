package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/multitrack/multitrack/internal/plural"
	"github.com/multitrack/multitrack/internal/terminal"
)

// progress draws replay's one-line progress bar, sized to the terminal. A
// nil *progress draws nothing: stderr is not a terminal (a file, a pipe),
// or -q was given.
type progress struct {
	w     io.Writer
	cols  int   // the terminal's width
	total int64 // bytes in all the inputs; 0 when unknown (standard input)
	drawn bool
}

// defaultColumns is the width assumed of a terminal that does not say.
const defaultColumns = 80

func newProgress(w io.Writer, total int64, quiet bool) *progress {
	f, ok := w.(*os.File)
	if quiet || !ok || !terminal.Is(f) {
		return nil
	}
	cols := terminalColumns(f)
	if cols <= 0 {
		cols = defaultColumns
	}
	return &progress{w: w, cols: cols, total: total}
}

// update redraws the line: a bar and a percentage when the size is known,
// and the events so far.
func (p *progress) update(read int64, events int) {
	if p == nil {
		return
	}
	text := fmt.Sprintf(" %d %s", events, plural.Of(events, "event", "events"))
	if p.total > 0 {
		read = min(read, p.total)
		text = fmt.Sprintf(" %3d%%%s", read*100/p.total, text)
		// The bar takes what is left of the line, less a column, so that
		// the line never wraps.
		if width := p.cols - len(text) - 3; width >= 10 {
			done := int(int64(width) * read / p.total)
			text = "[" + strings.Repeat("=", done) + strings.Repeat(" ", width-done) + "]" + text
		}
	}
	if len(text) > p.cols-1 {
		text = text[:max(p.cols-1, 0)]
	}
	fmt.Fprintf(p.w, "\r%-*s", p.cols-1, text)
	p.drawn = true
}

// done ends the line.
func (p *progress) done() {
	if p != nil && p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}
