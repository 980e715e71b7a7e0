package registry_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-multierror"
	"go.uber.org/goleak"

	"github.com/multitrack/multitrack/registry"
	"github.com/multitrack/multitrack/tracker"
	"github.com/multitrack/multitrack/tracker/trackertest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// probe is the test sink: a Recorder that keeps the settings its factory
// read, and can block or fail its writes.
type probe struct {
	*trackertest.Recorder
	label   string
	count   int
	wait    time.Duration
	on      bool
	buf     int64
	block   bool
	fail    bool
	release chan struct{}
}

func (p *probe) Write(ctx context.Context, events []tracker.Event) error {
	if p.block {
		select {
		case <-p.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if p.fail {
		return errors.New("probe: refused")
	}
	return p.Recorder.Write(ctx, events)
}

// probes holds every probe built, by its MULTITRACK_PROBE_ID.
var probes sync.Map

// probeFor returns the probe built with the given id.
func probeFor(t *testing.T, id string) *probe {
	t.Helper()
	p, ok := probes.Load(id)
	if !ok {
		t.Fatalf("no probe was built with MULTITRACK_PROBE_ID=%s", id)
	}
	return p.(*probe)
}

// builds counts factory calls of the probe sink, to show sinks are fresh.
var builds atomic.Int64

func init() {
	registry.Register("probe", func(cfg registry.Config) (tracker.Sink, error) {
		builds.Add(1)
		p := &probe{
			Recorder: trackertest.NewRecorder(),
			label:    cfg.Get("LABEL"),
			count:    cfg.Int("COUNT", 3, 1),
			wait:     cfg.Duration("WAIT", time.Second),
			on:       cfg.Bool("ON", false),
			buf:      cfg.Size("BUF", 4096),
			block:    cfg.Bool("BLOCK", false),
			fail:     cfg.Bool("FAIL", false),
			release:  make(chan struct{}),
		}
		if cfg.Bool("STRICT", false) {
			cfg.Required("LABEL")
		}
		if err := cfg.Err(); err != nil {
			return nil, err
		}
		if id := cfg.Get("ID"); id != "" {
			probes.Store(id, p)
		}
		return p, nil
	})
	registry.Register("failing", func(registry.Config) (tracker.Sink, error) {
		return nil, errors.New("cannot connect to 127.0.0.1:1")
	})
	registry.Register("panicky", func(registry.Config) (tracker.Sink, error) {
		panic("boom")
	})
	// leaky misbehaves with secrets: it quotes the PostHog key in its error,
	// reads a secret-looking variable as an integer, and parses another
	// with a parser whose error quotes it.
	registry.Register("leaky", func(cfg registry.Config) (tracker.Sink, error) {
		key, _ := cfg.Lookup("POSTHOG_API_KEY")
		cfg.Int("API_KEY", 0, 0)
		// A parser that quotes the value it refuses, of a secret too short
		// to be searched for in messages.
		registry.Parse(cfg, "TOKEN", "", func(s string) (string, error) { return "", fmt.Errorf("bad token %q", s) })
		return nil, fmt.Errorf("key %s rejected", key)
	})
}

// harness is one environment read from a fixture.
type harness struct {
	env    map[string]string
	id     string   // $ID in the fixture: the probe's id
	dir    string   // $TMP in the fixture
	stdout *os.File // a file in dir: safe for the tracker's goroutines
	stderr *os.File
	// undelivered is the sink whose undelivered events Close names, if any.
	undelivered string
}

func (h *harness) lookup(name string) (string, bool) {
	v, ok := h.env[name]
	return v, ok
}

// environ lists the fixture's variables, as os.Environ.
func (h *harness) environ() []string {
	var kv []string
	for k, v := range h.env {
		kv = append(kv, k+"="+v)
	}
	return kv
}

func (h *harness) registryEnv() registry.Env {
	return registry.Env{Lookup: h.lookup, Environ: h.environ, Stdout: h.stdout, Stderr: h.stderr}
}

// build builds a tracker from the harness and closes it at the end of the
// test.
func (h *harness) build(t *testing.T, opts ...tracker.Option) (*tracker.Tracker, error) {
	t.Helper()
	return h.buildEnv(t, h.registryEnv(), opts...)
}

// buildEnv is build from env, the harness's with changes.
func (h *harness) buildEnv(t *testing.T, env registry.Env, opts ...tracker.Option) (*tracker.Tracker, error) {
	t.Helper()
	tr, err := env.Tracker(opts...)
	if err != nil {
		if tr != nil {
			t.Fatal("a tracker returned with an error")
		}
		return nil, err
	}
	t.Cleanup(func() {
		err := tr.Close(context.Background())
		var ue *tracker.UndeliveredError
		switch {
		case h.undelivered != "" && (!errors.As(err, &ue) || ue.Sink != h.undelivered):
			t.Errorf("Close = %v, want undelivered events of sink %q", err, h.undelivered)
		case h.undelivered == "" && err != nil:
			t.Errorf("Close: %v", err)
		}
	})
	return tr, nil
}

var fixtureID atomic.Int64

// loadFixture reads testdata/registry/<name>.env: KEY=VALUE lines, '#'
// comments and blank lines. $TMP in a value is a fresh temporary directory
// and $ID a unique id.
func loadFixture(t *testing.T, name string) *harness {
	t.Helper()
	h := &harness{
		env: make(map[string]string),
		id:  fmt.Sprintf("%s-%d", name, fixtureID.Add(1)),
		dir: t.TempDir(),
	}
	h.stdout, h.stderr = tempFile(t, h.dir, "stdout"), tempFile(t, h.dir, "stderr")
	f, err := os.Open(filepath.Join("..", "testdata", "registry", name+".env"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "" || strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s.env:%d: want KEY=VALUE", name, n)
		}
		v = strings.ReplaceAll(v, "$TMP", h.dir)
		h.env[k] = strings.ReplaceAll(v, "$ID", h.id)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return h
}

// problems returns the problems of an error FromLookup returned.
func problems(t *testing.T, err error) []error {
	t.Helper()
	var me *multierror.Error
	if !errors.As(err, &me) {
		t.Fatalf("error is not a list of problems: %T %v", err, err)
	}
	return me.Errors
}

// tempFile creates a file in dir, closed at the end of the test.
func tempFile(t *testing.T, dir, name string) *os.File {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// contents returns what was written to f so far.
func contents(t *testing.T, f *os.File) string {
	t.Helper()
	b, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
