package plan_test

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/multitrack/multitrack/plan"
)

func loadDemoPlan(t testing.TB) *plan.Checker {
	t.Helper()
	c, err := plan.Load("../testdata/plans/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestLintGolden: one line per problem, file:line: event: problem, with
// blank lines counted; values never shown.
func TestLintGolden(t *testing.T) {
	const in, golden = "testdata/lint/events.jsonl", "testdata/lint/events.golden"
	f, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out bytes.Buffer
	res, err := loadDemoPlan(t).Lint(&out, f, in)
	if err != nil {
		t.Fatal(err)
	}
	out.WriteString("summary: " + res.String() + "\n")
	if *update {
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if out.String() != string(want) {
		t.Errorf("lint output:\n%s\nwant:\n%s", out.String(), want)
	}
	if !res.Failed() || res.Events != 6 || res.BadLines != 1 || res.Warnings != 1 || res.Violations.Total() != 7 {
		t.Errorf("result %+v", res)
	}
	if strings.Contains(out.String(), "hunter2") || strings.Contains(out.String(), "bankrupt") {
		t.Error("lint shows a property value")
	}
}

func TestLintOfValidEventsFindsNothing(t *testing.T) {
	in := `{"uuid":"u","event":"warehouse_password_reset","distinct_id":"o","timestamp":"2026-11-28T10:15:03Z","properties":{"warehouse":"w","user":"u"}}` + "\n"
	var out bytes.Buffer
	res, err := loadDemoPlan(t).Lint(&out, strings.NewReader(in), "ok.jsonl")
	if err != nil || res.Failed() || res.Events != 1 || out.Len() != 0 {
		t.Errorf("result %+v, err %v, output %q", res, err, out.String())
	}
	if got := res.String(); got != "1 event, 0 violations" {
		t.Errorf("summary %q", got)
	}
}

// failingReader yields its data, then an error.
type failingReader struct {
	data []byte
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestLintStopsAtAReadErrorAndKeepsWhatItRead(t *testing.T) {
	ioErr := errors.New("disk on fire")
	line := `{"uuid":"u","event":"nope","distinct_id":"o","timestamp":"2026-11-28T10:15:03Z"}` + "\n"
	var out bytes.Buffer
	res, err := loadDemoPlan(t).Lint(&out, &failingReader{data: []byte(line + line), err: ioErr}, "f.jsonl")
	if !errors.Is(err, ioErr) {
		t.Fatalf("want the read error, got %v", err)
	}
	if res.Events != 2 || res.Violations.Unplanned != 2 || res.BadLines != 0 {
		t.Errorf("result %+v (the read error is not a bad line)", res)
	}
	if got := strings.Count(out.String(), "f.jsonl:"); got != 2 {
		t.Errorf("output:\n%s", out.String())
	}
}

// errWriter fails every write.
type errWriter struct{ err error }

func (w errWriter) Write([]byte) (int, error) { return 0, w.err }

func TestLintReportsAFailedWrite(t *testing.T) {
	wErr := errors.New("stdout closed")
	line := `{"uuid":"u","event":"nope","distinct_id":"o","timestamp":"2026-11-28T10:15:03Z"}` + "\n"
	res, err := loadDemoPlan(t).Lint(errWriter{wErr}, strings.NewReader(line+line), "f.jsonl")
	if !errors.Is(err, wErr) || res.Events != 2 {
		t.Errorf("result %+v, err %v", res, err)
	}
}
