package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/multitrack/multitrack/eventline"
	"github.com/multitrack/multitrack/internal/posthogtest"
	"github.com/multitrack/multitrack/tracker"
)

// readEvents and appendEventLine isolate the event-line codec's names
// (tracker today, package eventline after issue 11).
var (
	readEvents      = eventline.ReadFile
	appendEventLine = eventline.Append
)

// writeEventFile writes n event lines to a new file and returns its path
// and the events.
func writeEventFile(t testing.TB, dir string, n int) (string, []tracker.Event) {
	t.Helper()
	ts := time.Date(2026, 11, 28, 10, 15, 3, 0, time.UTC)
	events := make([]tracker.Event, n)
	var b []byte
	for i := range events {
		events[i] = tracker.Event{
			Name: "query_initiated", DistinctID: "org_42", UUID: fmt.Sprintf("0190f3c4-0000-7000-8000-%012d", i),
			Timestamp: ts.Add(time.Duration(i) * time.Millisecond), Groups: map[string]string{"organization": "org_42"},
			Properties: map[string]any{"i": i, "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "$multitrack_sink": "posthog"},
		}
		var err error
		if b, err = appendEventLine(b, &events[i]); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "dead.jsonl")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, events
}

// runReplay runs replay with env and args, stdin as given, stderr to a file.
func runReplay(t *testing.T, ctx context.Context, env map[string]string, stdin io.Reader, args ...string) (stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errOut, Stdin: stdin, Lookup: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
	code = exitCode(m.Run(ctx, append([]string{"replay"}, args...)), &errOut)
	return errOut.String(), code
}

// Flags may follow the files ("replay FILE -q"), and "--" ends them.
func TestReplayFlagsAfterTheFiles(t *testing.T) {
	dir := t.TempDir()
	in, events := writeEventFile(t, dir, 3)
	dashed := filepath.Join(dir, "-dashed.jsonl")
	if err := os.Rename(in, dashed); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.jsonl")
	env := map[string]string{"MULTITRACK_SINKS": "file", "MULTITRACK_FILE_PATH": out}
	errOut, code := runReplay(t, context.Background(), env, nil, "-sink", "posthog", "--", dashed)
	if code != 0 || !strings.Contains(errOut, "replayed 3 events") {
		t.Fatalf("replay -- FILE: exit %d, stderr %q", code, errOut)
	}
	if err := os.Rename(dashed, in); err != nil {
		t.Fatal(err)
	}
	errOut, code = runReplay(t, context.Background(), env, nil, in, "-q", "-sink", "file")
	if code != 0 || !strings.Contains(errOut, "replayed 0 events") {
		t.Fatalf("replay FILE -q -sink file: exit %d, stderr %q; want the flags applied", code, errOut)
	}
	if got, _, err := readEvents(out); err != nil || len(got) != len(events) {
		t.Fatalf("replayed %d events, %v", len(got), err)
	}
}

func TestReplayUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "no files given"},
		{[]string{"x.jsonl", "-nope"}, "flag provided but not defined: -nope"},
		{[]string{"x.jsonl", "-timeout", "0s"}, "-timeout must be positive"},
	} {
		if errOut, code := runReplay(t, context.Background(), nil, nil, tc.args...); code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("replay %v: exit %d, stderr %q; want 2 and %q", tc.args, code, errOut, tc.want)
		}
	}
}

func TestReplayReadsStandardInput(t *testing.T) {
	dir := t.TempDir()
	in, events := writeEventFile(t, dir, 30)
	data, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.jsonl")
	env := map[string]string{"MULTITRACK_SINKS": "file", "MULTITRACK_FILE_PATH": out}
	if errOut, code := runReplay(t, context.Background(), env, bytes.NewReader(data), "-"); code != 0 || !strings.Contains(errOut, "replayed 30 events from 1 file") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if got, _, err := readEvents(out); err != nil || len(got) != len(events) || got[29].UUID != events[29].UUID {
		t.Fatalf("replayed %d events, %v", len(got), err)
	}
}

// An input that fails to read (a disk error on standard input) ends replay
// with that error: it is not taken for a bad line again and again.
func TestReplayStopsOnAReadError(t *testing.T) {
	dir := t.TempDir()
	in, _ := writeEventFile(t, dir, 5)
	data, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	stdin := io.MultiReader(bytes.NewReader(data), iotest.ErrReader(errors.New("disk on fire")))
	out := filepath.Join(dir, "out.jsonl")
	env := map[string]string{"MULTITRACK_SINKS": "file", "MULTITRACK_FILE_PATH": out}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	errOut, code := runReplay(t, ctx, env, stdin, "-")
	if ctx.Err() != nil {
		t.Fatal("replay kept reading a failed input until the deadline")
	}
	if code != 1 || strings.Count(errOut, "disk on fire") != 1 || !strings.Contains(errOut, "replayed 5 events") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
}

// Replaying the dead-letter file itself would feed on itself (what fails
// again is appended to the file being read): replay refuses, with a usage
// error naming the variable, and leaves the file as it was, whether it is
// named or given on standard input.
func TestReplayRefusesItsOwnDeadLetter(t *testing.T) {
	dir := t.TempDir()
	dl, _ := writeEventFile(t, dir, 20)
	before, err := os.ReadFile(dl)
	if err != nil {
		t.Fatal(err)
	}
	f := posthogtest.NewServer(t, posthogtest.Always(http.StatusServiceUnavailable))
	env := map[string]string{"POSTHOG_API_KEY": "phc_replay_test", "POSTHOG_HOST": f.URL, "MULTITRACK_DEAD_LETTER_PATH": dl}
	stdin, err := os.Open(dl)
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	link := filepath.Join(dir, "link.jsonl")
	if err := os.Symlink(dl, link); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{dl}, {link, "-q"}, {"-"}} {
		errOut, code := runReplay(t, context.Background(), env, stdin, args...)
		if code != 2 || !strings.Contains(errOut, "is the dead-letter file (MULTITRACK_DEAD_LETTER_PATH)") {
			t.Errorf("replay %v: exit %d, stderr %q; want 2, naming the dead letter", args, code, errOut)
		}
	}
	if after, err := os.ReadFile(dl); err != nil || !bytes.Equal(before, after) {
		t.Errorf("the dead letter changed: %d bytes, was %d (%v)", len(after), len(before), err)
	}
	if n := len(f.Requests()); n != 0 {
		t.Errorf("PostHog got %d requests", n)
	}
}

// interruptingReader gives data, then, asked for more, presses Ctrl-C
// (cancel) and waits like a pipe until it is closed.
type interruptingReader struct {
	data   *bytes.Reader
	cancel context.CancelFunc
	closed chan struct{}
}

func (r *interruptingReader) Read(p []byte) (int, error) {
	if r.data.Len() > 0 {
		return r.data.Read(p)
	}
	r.cancel()
	<-r.closed
	return 0, os.ErrClosed
}

func (r *interruptingReader) Close() error {
	close(r.closed)
	return nil
}

// The first Ctrl-C stops reading, even a pipe that has nothing to read yet,
// delivers what was read, says so, and exits 1.
func TestReplayFirstInterruptDeliversWhatWasRead(t *testing.T) {
	dir := t.TempDir()
	in, events := writeEventFile(t, dir, 50)
	data, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stdin := &interruptingReader{data: bytes.NewReader(data), cancel: cancel, closed: make(chan struct{})}
	out := filepath.Join(dir, "out.jsonl")
	env := map[string]string{"MULTITRACK_SINKS": "file", "MULTITRACK_FILE_PATH": out}
	errOut, code := runReplay(t, ctx, env, stdin, "-")
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	for _, want := range []string{"interrupted: stopped reading after stdin line 50; delivering the 50 events read", "replayed 50 events", "file: 50 delivered", "nothing after stdin line 50 was read"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr %q does not say %q", errOut, want)
		}
	}
	if got, _, err := readEvents(out); err != nil || len(got) != len(events) {
		t.Errorf("delivered %d of the 50 events read (%v)", len(got), err)
	}
}

// postHogEnv configures the PostHog sink alone, sending to f, with a dead
// letter in dir.
func postHogEnv(f *posthogtest.Server, dir string) map[string]string {
	return map[string]string{
		"POSTHOG_API_KEY":             "phc_replay_test",
		"POSTHOG_HOST":                f.URL,
		"MULTITRACK_DEAD_LETTER_PATH": filepath.Join(dir, "replay-dead-letter.jsonl"),
	}
}

// assertReplayAccounted checks that every event replayed was accepted by f
// or written to the dead letter, exactly once, and returns how many of each.
func assertReplayAccounted(t *testing.T, events []tracker.Event, f *posthogtest.Server, deadLetter string) (delivered, deadLettered int) {
	t.Helper()
	dead, _, err := readEvents(deadLetter)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	inDead := map[string]int{}
	for _, e := range dead {
		inDead[e.UUID]++
	}
	acc := f.Accepted()
	for _, e := range events {
		if a, d := acc[e.UUID], inDead[e.UUID]; a+d != 1 {
			t.Fatalf("event %s accepted %d times, dead-lettered %d times; want once in all", e.UUID, a, d)
		}
	}
	if len(acc)+len(inDead) != len(events) {
		t.Errorf("%d accepted + %d dead-lettered, %d replayed", len(acc), len(inDead), len(events))
	}
	return len(acc), len(dead)
}

// Replay into PostHog at default settings (posthog-go's 5 s interval): no
// chunk waits for the interval. Every event arrives once, with its UUID.
func TestReplayIntoPostHog(t *testing.T) {
	dir := t.TempDir()
	in, events := writeEventFile(t, dir, 20000)
	f := posthogtest.NewServer(t, nil)
	env := postHogEnv(f, dir)
	start := time.Now()
	errOut, code := runReplay(t, context.Background(), env, nil, in, "-timeout", "60s")
	elapsed := time.Since(start)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if delivered, dead := assertReplayAccounted(t, events, f, env["MULTITRACK_DEAD_LETTER_PATH"]); delivered != len(events) || dead != 0 {
		t.Errorf("delivered %d, dead-lettered %d", delivered, dead)
	}
	if !strings.Contains(errOut, "replayed 20000 events from 1 file; posthog: 20000 delivered") {
		t.Errorf("stderr %q", errOut)
	}
	t.Logf("replayed %d events into PostHog in %v (%.0f events/s, %d requests)", len(events), elapsed, float64(len(events))/elapsed.Seconds(), len(f.Requests()))
}

// What PostHog rejects goes to the dead letter, and replay exits 1; with
// --historical every batch is marked as a backfill.
func TestReplayIntoPostHogDeadLettersWhatIsRejected(t *testing.T) {
	dir := t.TempDir()
	in, events := writeEventFile(t, dir, 3000)
	f := posthogtest.NewServer(t, func(n int) posthogtest.Answer {
		if n%4 == 3 {
			return posthogtest.Answer{Status: http.StatusBadRequest}
		}
		return posthogtest.Answer{}
	})
	env := postHogEnv(f, dir)
	errOut, code := runReplay(t, context.Background(), env, nil, "--historical", in)
	if code != 1 || !strings.Contains(errOut, "not delivered") {
		t.Fatalf("exit %d, stderr %q; want 1, saying what was not delivered", code, errOut)
	}
	delivered, dead := assertReplayAccounted(t, events, f, env["MULTITRACK_DEAD_LETTER_PATH"])
	if delivered == 0 || dead == 0 {
		t.Errorf("delivered %d, dead-lettered %d; want some of each", delivered, dead)
	}
	for _, r := range f.Requests() {
		if !r.Historical {
			t.Fatal("a batch without historical_migration")
		}
	}
}

// The progress bar is drawn on a terminal, within its width, and never
// when stderr is a file.
func TestReplayProgressOnlyOnATerminal(t *testing.T) {
	dir := t.TempDir()
	in, _ := writeEventFile(t, dir, 3*replayChunk)
	env := map[string]string{"MULTITRACK_SINKS": "file", "MULTITRACK_FILE_PATH": filepath.Join(dir, "out.jsonl")}
	run := func(stderr *os.File, args ...string) int {
		m := &Main{Stdout: io.Discard, Stderr: stderr, Lookup: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
		return exitCode(m.Run(context.Background(), append([]string{"replay"}, args...)), stderr)
	}

	file, err := os.Create(filepath.Join(dir, "stderr.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	if code := run(file, in); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if got, _ := os.ReadFile(file.Name()); strings.ContainsAny(string(got), "\r[") || !strings.HasPrefix(string(got), "replayed 3072 events") {
		t.Errorf("stderr to a file: %q, want the summary alone", got)
	}

	const cols = 50
	shown := onTerminal(t, cols, func(tty *os.File) {
		if code := run(tty, in); code != 0 {
			t.Errorf("exit %d", code)
		}
	})
	lines := strings.Split(strings.ReplaceAll(shown, "\r\n", "\n"), "\r")
	var bars int
	for _, l := range lines {
		l = strings.TrimRight(strings.SplitN(l, "\n", 2)[0], " ")
		if strings.HasPrefix(l, "[") {
			bars++
			if len(l) >= cols {
				t.Errorf("a bar of %d columns on a %d-column terminal: %q", len(l), cols, l)
			}
		}
	}
	if bars < 3 || !strings.Contains(shown, "100% 3072 events") {
		t.Errorf("%d bars drawn on the terminal: %q", bars, shown)
	}
	quiet := onTerminal(t, cols, func(tty *os.File) { run(tty, "-q", in) })
	if strings.Contains(quiet, "[") {
		t.Errorf("-q drew a bar: %q", quiet)
	}
}
