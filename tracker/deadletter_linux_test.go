package tracker_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/multitrack/multitrack/tracker"
)

// A spill to the dead letter is all in the file or none of it: when the
// disk refuses part of it (here, a lowered file-size limit: the kernel
// writes up to it, then answers EFBIG; Go ignores SIGXFSZ), the file is cut
// back, so the events counted lost are not in it to be replayed twice.
func TestDeadLetterSpillIsAllOrNothing(t *testing.T) {
	dl := filepath.Join(t.TempDir(), "dead.jsonl")
	tr := mustNew(t, tracker.WithSink("s", failingSink{}, tracker.WithBatchSize(100)), tracker.WithDeadLetter(dl))

	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Skipf("getrlimit: %v", err)
	}
	limited := old
	limited.Cur = 2000 // a few of the 100 lines
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &limited); err != nil {
		t.Skipf("setrlimit: %v", err)
	}
	for i := 0; i < 100; i++ {
		tr.Capture(context.Background(), tracker.Event{Name: "e", Properties: map[string]any{"i": i}})
	}
	flushErr := tr.Flush(ctxT(t)) // the failed Write and its spill are done
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Fatalf("restoring the file-size limit: %v", err)
	}
	if flushErr != nil {
		t.Fatal(flushErr)
	}
	err := tr.Close(ctxT(t))
	var ue *tracker.UndeliveredError
	if !errors.As(err, &ue) || ue.Count != 100 || ue.DeadLettered != 0 || !errors.Is(ue.DeadLetterErr, syscall.EFBIG) {
		t.Fatalf("Close = %v", err)
	}
	if fi, err := os.Stat(dl); err != nil || fi.Size() != 0 {
		t.Fatalf("dead letter holds part of a failed spill: %v %v", fi.Size(), err)
	}
	if s := tr.Stats(); s.DeadLetterErrors != 100 {
		t.Fatalf("DeadLetterErrors = %d", s.DeadLetterErrors)
	}
}
