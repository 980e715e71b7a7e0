package stdout_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/multitrack/multitrack/eventline"
	"github.com/multitrack/multitrack/sinks/stdout"
	"github.com/multitrack/multitrack/tracker"
)

var errFull = errors.New("no space left on device")

// fullWriter takes bytes up to limit, then writes what fits and fails, as
// a pipe or disk that runs out does.
type fullWriter struct {
	bytes.Buffer
	limit int
}

func (w *fullWriter) Write(p []byte) (int, error) {
	room := w.limit - w.Len()
	if len(p) <= room {
		return w.Buffer.Write(p)
	}
	n, _ := w.Buffer.Write(p[:max(room, 0)])
	return n, errFull
}

// unencodable encodes the first time, when the tracker checks the event on
// the caller, and fails after that, when the sink encodes it.
type unencodable struct{ calls atomic.Int32 }

func (m *unencodable) MarshalJSON() ([]byte, error) {
	if m.calls.Add(1) == 1 {
		return []byte(`"ok"`), nil
	}
	return nil, errors.New("cannot marshal")
}

var prettyIndex = regexp.MustCompile(`\bi=(\d+)\b`)

// writtenIndices returns the property i of every complete line in out.
func writtenIndices(t *testing.T, format stdout.Format, out []byte) []int {
	t.Helper()
	var idx []int
	out = out[:bytes.LastIndexByte(out, '\n')+1] // without a torn last line
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if format == stdout.FormatJSON {
			e, err := eventline.Parse(sc.Bytes())
			if err != nil {
				t.Fatalf("output line %d: %v", len(idx)+1, err)
			}
			idx = append(idx, int(e.Properties["i"].(int64)))
			continue
		}
		m := prettyIndex.FindStringSubmatch(sc.Text())
		if m == nil {
			t.Fatalf("pretty line without i: %q", sc.Text())
		}
		n, _ := strconv.Atoi(m[1])
		idx = append(idx, n)
	}
	return idx
}

// TestTrackerWriterFailingMidBatch: the writer runs out part way through a
// batch. Every event is then either written or dead-lettered, never both,
// and an event the sink could not encode is reported once.
func TestTrackerWriterFailingMidBatch(t *testing.T) {
	const n = 400 // ~120 KiB of JSON: two writes of up to 64 KiB
	pad := strings.Repeat("x", 200)
	for _, tc := range []struct {
		format stdout.Format
		limit  int
	}{
		{stdout.FormatJSON, 100 << 10}, // the second write fails part way
		{stdout.FormatJSON, 0},         // nothing written
		{stdout.FormatPretty, 30 << 10},
		{stdout.FormatPretty, 0},
	} {
		t.Run(tc.format.String()+"/"+strconv.Itoa(tc.limit), func(t *testing.T) {
			w := &fullWriter{limit: tc.limit}
			s, err := stdout.New(stdout.WithWriter(w), stdout.WithFormat(tc.format))
			if err != nil {
				t.Fatal(err)
			}
			dead := filepath.Join(t.TempDir(), "dead.jsonl")
			tr, err := tracker.New(
				tracker.WithSink("stdout", s, tracker.WithBatchSize(n), tracker.WithFlushInterval(time.Hour)),
				tracker.WithDeadLetter(dead),
			)
			if err != nil {
				t.Fatal(err)
			}
			const bad = 0 // met before the writer fails, in every case
			for i := range n {
				props := map[string]any{"i": i, "pad": pad}
				if i == bad {
					props["custom"] = &unencodable{}
				}
				tr.Capture(context.Background(), tracker.Event{Name: "e", DistinctID: "org_42", Properties: props})
			}
			closeErr := tr.Close(context.Background()) // one batch: the worker wakes only for Close

			seen := make(map[int]string)
			note := func(i int, where string) {
				if prev, ok := seen[i]; ok {
					t.Fatalf("event %d both %s and %s", i, prev, where)
				}
				seen[i] = where
			}
			written := writtenIndices(t, tc.format, w.Bytes())
			for _, i := range written {
				note(i, "written")
			}
			deadEvents, _, err := eventline.ReadFile(dead)
			if err != nil && len(written) < n-1 {
				t.Fatalf("dead letter: %v", err)
			}
			for _, e := range deadEvents {
				note(int(e.Properties["i"].(int64)), "dead-lettered")
			}
			if _, ok := seen[bad]; ok {
				t.Fatalf("the unencodable event was %s", seen[bad])
			}
			if len(seen) != n-1 {
				t.Fatalf("%d events written or dead-lettered (%d written), want %d", len(seen), len(written), n-1)
			}
			st := tr.Stats()
			ss := st.Sinks["stdout"]
			if st.DeadLetterErrors != 1 {
				t.Errorf("DeadLetterErrors %d: the unencodable event reported %d times", st.DeadLetterErrors, st.DeadLetterErrors)
			}
			if lost := ss.Failed + ss.Undelivered; lost != uint64(n-len(written)) {
				t.Errorf("Failed %d + Undelivered %d = %d, want %d not written", ss.Failed, ss.Undelivered, lost, n-len(written))
			}
			var ue *tracker.UndeliveredError
			if !errors.As(closeErr, &ue) || ue.Count != n-len(written) || !errors.Is(closeErr, errFull) && !errors.Is(closeErr, eventline.ErrUnencodable) {
				t.Errorf("Close: %v", closeErr)
			}
		})
	}
}
