package plan

import (
	"fmt"
	"strings"

	"github.com/multitrack/multitrack/internal/plural"
)

// Problem is one thing wrong with a plan.
type Problem struct {
	// File is the plan file's name; empty for a plan declared in Go.
	File string
	// Line is the 1-based line of the field in the file; 0 when unknown.
	Line int
	// Field is the path of the field, e.g.
	// events.query_failed.properties.sqlstate.pattern.
	Field string
	// Msg says what is wrong.
	Msg string
}

// String returns "file:line: field: msg", leaving out what is unknown.
func (p Problem) String() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		if p.Line > 0 {
			fmt.Fprintf(&b, ":%d", p.Line)
		}
		b.WriteString(": ")
	} else if p.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", p.Line)
	}
	if p.Field != "" {
		b.WriteString(p.Field)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Error is every problem found in a plan, in the order of the file. Load,
// Parse and Compile return it (as an error) when a plan cannot be used.
type Error struct {
	Problems []Problem
}

// maxShown bounds how many problems Error's text lists.
const maxShown = 20

// Error lists the problems, one a line: at most 20, then how many more.
func (e *Error) Error() string {
	var b strings.Builder
	n := len(e.Problems)
	fmt.Fprintf(&b, "tracking plan: %d %s", n, plural.Of(n, "problem", "problems"))
	for i, p := range e.Problems {
		if i == maxShown {
			fmt.Fprintf(&b, "\n\tand %d more", n-maxShown)
			break
		}
		b.WriteString("\n\t")
		b.WriteString(p.String())
	}
	return b.String()
}
