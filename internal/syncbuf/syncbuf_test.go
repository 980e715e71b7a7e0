package syncbuf_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/multitrack/multitrack/internal/syncbuf"
)

func TestBufferKeepsEveryWriteOfConcurrentWriters(t *testing.T) {
	var b syncbuf.Buffer
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				if n, err := b.Write([]byte("ab\n")); n != 3 || err != nil {
					t.Errorf("Write = %d, %v", n, err)
				}
				_ = b.String()
			}
		})
	}
	wg.Wait()
	if got := b.String(); got != strings.Repeat("ab\n", 800) {
		t.Errorf("%d bytes, want %d of whole writes", len(got), 800*3)
	}
}
