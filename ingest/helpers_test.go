package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/multitrack/multitrack/tracker"
	"github.com/multitrack/multitrack/tracker/trackertest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const testKey = "phc_test_project_key"

// fixture is one request recorded from a PostHog SDK (testdata/serve).
type fixture struct {
	name    string // e.g. "posthog-node-5.70.0/batch-gzip"
	method  string
	target  string
	headers map[string]string
	body    []byte
	payload any // the JSON the SDK encoded, decoded by Node when recorded
}

func loadFixtures(t testing.TB) []fixture {
	t.Helper()
	metas, err := filepath.Glob(filepath.Join("..", "testdata", "serve", "*", "*.http.json"))
	if err != nil || len(metas) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	var out []fixture
	for _, m := range metas {
		base := strings.TrimSuffix(m, ".http.json")
		var meta struct {
			Method  string            `json:"method"`
			Target  string            `json:"target"`
			Headers map[string]string `json:"headers"`
		}
		readJSON(t, m, &meta)
		body, err := os.ReadFile(base + ".body")
		if err != nil {
			t.Fatal(err)
		}
		f := fixture{
			name:   filepath.ToSlash(strings.TrimPrefix(base, filepath.Join("..", "testdata", "serve")+string(filepath.Separator))),
			method: meta.Method, target: meta.Target, headers: meta.Headers, body: body,
		}
		readJSON(t, base+".payload.json", &f.payload)
		out = append(out, f)
	}
	return out
}

func readJSON(t testing.TB, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// request builds the recorded request against base (an httptest URL).
func (f fixture) request(t testing.TB, base string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(f.method, base+f.target, bytes.NewReader(f.body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range f.headers {
		req.Header.Set(k, v)
	}
	return req
}

// events returns the fixture's events as the SDK built them.
func (f fixture) events() (events []map[string]any, sentAt string) {
	switch p := f.payload.(type) {
	case []any:
		for _, e := range p {
			events = append(events, e.(map[string]any))
		}
	case map[string]any:
		if b, ok := p["batch"].([]any); ok {
			for _, e := range b {
				events = append(events, e.(map[string]any))
			}
			sentAt, _ = p["sent_at"].(string)
		} else {
			events = append(events, p)
		}
	}
	return events, sentAt
}

// rig is a Server over a tracker whose sink is a Recorder, behind httptest.
type rig struct {
	t   testing.TB
	srv *Server
	tr  *tracker.Tracker
	rec *trackertest.Recorder
	url string
}

func newRig(t testing.TB, opts ...Option) *rig {
	t.Helper()
	tr, rec := trackertest.NewTracker(t)
	return newRigOn(t, tr, rec, opts...)
}

func newRigOn(t testing.TB, tr *tracker.Tracker, rec *trackertest.Recorder, opts ...Option) *rig {
	t.Helper()
	srv, err := New(tr, append([]Option{WithAPIKeys(testKey)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return &rig{t: t, srv: srv, tr: tr, rec: rec, url: hs.URL}
}

// response is an answer, its body decoded.
type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (r *rig) do(req *http.Request) response {
	r.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := response{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &out.body)
	return out
}

// post sends body to path with the given headers (pairs of name, value).
func (r *rig) post(path string, body []byte, headers ...string) response {
	r.t.Helper()
	req, err := http.NewRequest(http.MethodPost, r.url+path, bytes.NewReader(body))
	if err != nil {
		r.t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return r.do(req)
}

// flushed returns every event the recorder holds once the tracker has
// flushed.
func (r *rig) flushed() []tracker.Event {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.tr.Flush(ctx); err != nil {
		r.t.Fatal(err)
	}
	return r.rec.Events()
}

// batch encodes a posthog-node style batch of events.
func batch(key string, events ...map[string]any) []byte {
	b, err := json.Marshal(map[string]any{"api_key": key, "batch": events, "sent_at": time.Now().UTC().Format(time.RFC3339Nano)})
	if err != nil {
		panic(err)
	}
	return b
}

func ev(name, id string, props map[string]any) map[string]any {
	return map[string]any{"event": name, "distinct_id": id, "properties": props}
}

func byUUID(events []tracker.Event) map[string]tracker.Event {
	m := make(map[string]tracker.Event, len(events))
	for _, e := range events {
		m[e.UUID] = e
	}
	return m
}

// allocated returns the bytes f allocates (the process's, measured around
// it: other goroutines' add noise, never hide f's).
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// serving runs srv.Serve on a loopback port until the test ends, or until
// stop is called; it returns the address and stop, which waits for Serve
// and returns its error.
func serving(t testing.TB, srv *Server) (addr string, stop func() error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	var once sync.Once
	var serveErr error
	stop = func() error {
		once.Do(func() { cancel(); serveErr = <-served })
		return serveErr
	}
	t.Cleanup(func() { _ = stop() })
	return ln.Addr().String(), stop
}

func sortedKeys[M ~map[string]V, V any](m M) []string { return slices.Sorted(maps.Keys(m)) }
