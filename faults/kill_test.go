package faults

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/multitrack/multitrack/eventline"
	"github.com/multitrack/multitrack/internal/posthogtest"
	"github.com/multitrack/multitrack/sinks/file"
	"github.com/multitrack/multitrack/sinks/posthog"
	"github.com/multitrack/multitrack/tracker"
)

// The kill -9 scenario: this test binary, re-executed with childEnv set,
// is a service capturing into a file sink and a PostHog sink with a dead
// letter. After each Flush that returns nil it prints what it has
// acknowledged; the test kills it with SIGKILL mid-stream, a few times on
// the same files, then checks that everything acknowledged is in the file,
// and delivered or dead-lettered for PostHog, and that replaying the dead
// letter delivers it.

// childEnv, set, makes TestMain run childMain instead of the tests.
const childEnv = "MULTITRACK_FAULTS_CHILD"

// The child's settings, from the parent.
const (
	envDir        = "MULTITRACK_FAULTS_DIR"
	envPostHog    = "MULTITRACK_FAULTS_POSTHOG"
	envRun        = "MULTITRACK_FAULTS_RUN"
	envGoroutines = "MULTITRACK_FAULTS_GOROUTINES"
	envRate       = "MULTITRACK_FAULTS_RATE"
)

// childQueue is the child's queue per sink: larger than everything it can
// capture before it is killed, so that no event is dropped (a dropped event
// is acknowledged by Flush too, as counted).
const childQueue = 1 << 17

// childMain is the process the test kills. It captures until it is killed
// and prints "ack RUN N0 N1 …" after every Flush that returned nil: the
// first Ng events of each goroutine g are acknowledged.
func childMain() int {
	dir, url := os.Getenv(envDir), os.Getenv(envPostHog)
	run, _ := strconv.Atoi(os.Getenv(envRun))
	goroutines, _ := strconv.Atoi(os.Getenv(envGoroutines))
	rate, _ := strconv.Atoi(os.Getenv(envRate))
	fs, err := file.New(filepath.Join(dir, "events.jsonl"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ps, err := posthog.New(testKey, posthog.WithEndpoint(url), posthog.WithBatchSize(100), posthog.WithInterval(20*time.Millisecond), posthog.WithMaxRetries(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	tr, err := tracker.New(
		// Large batches: one write(2) of about a megabyte, which a SIGKILL
		// can cut short, leaving a torn line.
		tracker.WithSink("file", fs, tracker.WithQueueSize(childQueue), tracker.WithBatchSize(4096)),
		tracker.WithSink("posthog", ps, tracker.WithQueueSize(childQueue)),
		tracker.WithDeadLetter(filepath.Join(dir, "dead-letter.jsonl")))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	done := make([]atomic.Int64, goroutines)
	start := time.Now()
	for g := range goroutines {
		go func() { // killed with the process: nothing stops it
			ctx := tracker.WithOrganization(context.Background(), fmt.Sprintf("org_%d", g))
			for i := 0; ; i++ {
				for int(time.Since(start).Seconds()*float64(rate)) < i {
					time.Sleep(time.Millisecond)
				}
				tr.Capture(ctx, newEvent(run, g, i))
				done[g].Store(int64(i + 1))
			}
		}()
	}
	for {
		time.Sleep(50 * time.Millisecond) // batches of tens of milliseconds' worth of events
		line := fmt.Sprintf("ack %d", run)
		for g := range done {
			line += fmt.Sprintf(" %d", done[g].Load())
		}
		if err := tr.Flush(context.Background()); err != nil {
			fmt.Fprintln(os.Stderr, "flush:", err)
			continue
		}
		os.Stdout.WriteString(line + "\n") // one write: whole lines on the pipe
	}
}

// killed is one child's run: the events it acknowledged before it died.
type killed struct {
	run   int
	acked []int // per goroutine
	acks  int   // ack lines read
}

// runAndKill starts a child on dir and kills it with SIGKILL a random
// few hundred milliseconds after its first acknowledgement.
func runAndKill(t *testing.T, dir, url string, sc scale) killed {
	t.Helper()
	k := killed{run: nextRun()}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1", envDir+"="+dir, envPostHog+"="+url, envRun+"="+strconv.Itoa(k.run),
		envGoroutines+"="+strconv.Itoa(sc.goroutines), envRate+"="+strconv.Itoa(sc.rate))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	first := make(chan struct{})
	read := make(chan struct{})
	go func() { // the acknowledgements, until the pipe closes with the child
		defer close(read)
		lines := bufio.NewScanner(out)
		for lines.Scan() {
			f := strings.Fields(lines.Text())
			if len(f) != 2+sc.goroutines || f[0] != "ack" {
				continue
			}
			acked := make([]int, 0, sc.goroutines)
			for _, s := range f[2:] {
				n, _ := strconv.Atoi(s)
				acked = append(acked, n)
			}
			if k.acks++; k.acks == 1 {
				close(first)
			}
			k.acked = acked
		}
	}()
	select {
	case <-first:
		time.Sleep(time.Duration(200+rand.IntN(500)) * time.Millisecond)
	case <-read:
	case <-time.After(2 * time.Minute):
	}
	cmd.Process.Kill()
	<-read
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != -1 {
		t.Fatalf("child: %v, not killed; stderr:\n%s", err, stderr.String())
	}
	if k.acks == 0 {
		t.Fatalf("the child acknowledged nothing; stderr:\n%s", stderr.String())
	}
	return k
}

// TestKill9ThenReplayLosesNothingAcknowledged kills a capturing process
// with SIGKILL, several times on the same files: every event acknowledged
// by a Flush is in the file sink's output, and delivered or in the dead
// letter for PostHog; readers skip a torn last line; replaying the dead
// letter delivers every acknowledged event.
func TestKill9ThenReplayLosesNothingAcknowledged(t *testing.T) {
	sc := size()
	sc.goroutines = min(sc.goroutines, 4)
	dir := t.TempDir()
	var failing atomic.Bool
	failing.Store(true)
	srv := posthogtest.NewServer(t, func(n int) posthogtest.Answer {
		if failing.Load() && n%3 == 2 { // a third of the batches fail: dead-lettered
			return posthogtest.Answer{Status: http.StatusServiceUnavailable}
		}
		return posthogtest.Answer{}
	})
	start := time.Now()
	var runs []killed
	for range sc.kills {
		runs = append(runs, runAndKill(t, dir, srv.URL, sc))
	}
	elapsed := time.Since(start)

	acked := map[string]bool{}
	for _, k := range runs {
		for g, n := range k.acked {
			for i := range n {
				if !isBad(i) {
					acked[eventUUID(k.run, g, i)] = true
				}
			}
		}
	}
	outputs, err := filepath.Glob(filepath.Join(dir, "events*.jsonl"))
	if err != nil || len(outputs) == 0 {
		t.Fatalf("no output files: %v", err)
	}
	inFile, tornFile := readEvents(t, outputs...)
	dlPath := filepath.Join(dir, "dead-letter.jsonl")
	inDL, tornDL := readEvents(t, dlPath)
	accepted := srv.Accepted()
	lostFile, lostPH, twice := 0, 0, 0
	for u := range acked {
		if inFile[u] == 0 {
			lostFile++
		}
		if accepted[u] == 0 && inDL[u] == 0 {
			lostPH++
		}
	}
	for _, n := range inFile {
		if n > 1 {
			twice++
		}
	}
	if lostFile > 0 {
		t.Errorf("%d acknowledged events are not in the file sink's output", lostFile)
	}
	if lostPH > 0 {
		t.Errorf("%d acknowledged events neither reached PostHog nor the dead letter", lostPH)
	}
	if twice > 0 {
		t.Errorf("%d events are in the file sink's output twice", twice)
	}
	if len(inDL) == 0 {
		t.Errorf("nothing was dead-lettered: the failing PostHog batches were not met")
	}

	// Replay the dead letter, moved aside, into a healthy PostHog.
	failing.Store(false)
	acceptedBefore := len(accepted)
	moved := filepath.Join(dir, "dead-letter.replay.jsonl")
	if err := os.Rename(dlPath, moved); err != nil {
		t.Fatal(err)
	}
	replayed := replayKilled(t, moved, srv.URL)
	accepted = srv.Accepted()
	notDelivered := 0
	for u := range acked {
		if accepted[u] == 0 {
			notDelivered++
		}
	}
	if notDelivered > 0 {
		t.Errorf("after the replay, %d acknowledged events are not delivered to PostHog", notDelivered)
	}
	lines := 0
	for _, n := range inFile {
		lines += n
	}
	t.Logf("figures: %d kill -9 rounds in %v; %d events acknowledged; file sink: %d lines in %d files, %d torn last lines; dead letter: %d events, %d torn last lines; PostHog: %d accepted before the replay, %d replayed",
		len(runs), elapsed.Round(time.Millisecond), len(acked), lines, len(outputs), tornFile, len(inDL), tornDL, acceptedBefore, replayed)
}

// replayKilled replays a dead letter into PostHog: with the multitrack
// command in the long run, in process otherwise. It returns how many
// events it replayed.
func replayKilled(t *testing.T, path, url string) int {
	t.Helper()
	events, _, err := eventline.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if isLong() {
		replayWithCLI(t, path, url)
		return len(events)
	}
	s, err := posthog.New(testKey, posthog.WithEndpoint(url))
	if err != nil {
		t.Fatal(err)
	}
	return replay(t, path, "posthog", s)
}
