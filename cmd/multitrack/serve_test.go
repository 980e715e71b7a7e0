package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/multitrack/multitrack/eventline"
	"github.com/multitrack/multitrack/internal/syncbuf"
)

func TestServeRefusesToStartWithoutAPIKeys(t *testing.T) {
	_, errOut, code := runEnv(t, map[string]string{"MULTITRACK_SERVE_ACK": "queued"}, "serve", "--addr", "127.0.0.1:0")
	if code != 1 || !strings.Contains(errOut, "MULTITRACK_SERVE_API_KEYS") || !strings.Contains(errOut, "--insecure-any-key") {
		t.Errorf("exit %d: %s", code, errOut)
	}
	_, errOut, code = runEnv(t, map[string]string{"MULTITRACK_SERVE_ACK": "sometimes", "MULTITRACK_SERVE_RATE": "fast"}, "serve")
	if code != 1 || !strings.Contains(errOut, "MULTITRACK_SERVE_ACK") || !strings.Contains(errOut, "MULTITRACK_SERVE_RATE") {
		t.Errorf("bad variables: exit %d: %s", code, errOut)
	}
	out, _, code := runEnv(t, nil, "serve", "--help")
	if code != 0 || !strings.HasPrefix(out, "Usage: multitrack serve") {
		t.Errorf("--help: exit %d %q", code, out)
	}
	if _, _, code := runEnv(t, nil, "serve", "--max-events", "0"); code != 2 {
		t.Errorf("--max-events 0: exit %d", code)
	}
	// Without Lookup, Main reads the process's environment, as every
	// other command does.
	t.Setenv("MULTITRACK_SERVE_API_KEYS", "")
	var stdout, stderr bytes.Buffer
	m := &Main{Stdout: &stdout, Stderr: &stderr}
	if code := exitCode(m.Run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0"}), &stderr); code != 1 || !strings.Contains(stderr.String(), "MULTITRACK_SERVE_API_KEYS") {
		t.Errorf("without Lookup: exit %d: %s", code, stderr.String())
	}
}

// serveProcess is multitrack serve running as a process (this test binary,
// see TestMain).
type serveProcess struct {
	cmd    *exec.Cmd
	url    string
	stderr *syncbuf.Buffer
	exited chan error
}

func startServe(t *testing.T, env map[string]string, args ...string) *serveProcess {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = []string{"MULTITRACK_TEST_MAIN=1", "PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	pr, pw := io.Pipe()
	p := &serveProcess{cmd: cmd, stderr: &syncbuf.Buffer{}, exited: make(chan error, 1)}
	cmd.Stderr = io.MultiWriter(pw, p.stderr)
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- cmd.Wait(); pw.Close() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-p.exited
		}
	})
	lines := bufio.NewScanner(pr)
	found := make(chan string, 1)
	go func() {
		for lines.Scan() {
			if u, ok := strings.CutPrefix(lines.Text(), "serve: listening on "); ok {
				found <- strings.Fields(u)[0]
			}
		}
		close(found)
	}()
	select {
	case u, ok := <-found:
		if !ok {
			t.Fatalf("serve exited: %s", p.stderr)
		}
		p.url = u
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not start: %s", p.stderr)
	}
	return p
}

// loadOutcome is what a load client learned about one request.
type loadOutcome struct {
	uuids  []string
	status int // 0: no answer (refused while stopping)
}

// load sends batches of n events with fresh UUIDs, gzip as posthog-node
// does, from clients goroutines until stop is closed and a request fails.
func load(url, key string, clients, n int, stop <-chan struct{}) []loadOutcome {
	var (
		mu  sync.Mutex
		out []loadOutcome
		wg  sync.WaitGroup
	)
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 30 * time.Second}
			defer client.CloseIdleConnections()
			for {
				o := loadOutcome{}
				batch := make([]map[string]any, n)
				for i := range batch {
					u := uuid.Must(uuid.NewV7()).String()
					o.uuids = append(o.uuids, u)
					batch[i] = map[string]any{"event": "load", "distinct_id": fmt.Sprint("client_", c), "uuid": u,
						"timestamp": time.Now().UTC().Format(time.RFC3339Nano), "properties": map[string]any{"i": i}}
				}
				body, _ := json.Marshal(map[string]any{"api_key": key, "batch": batch, "sent_at": time.Now().UTC().Format(time.RFC3339Nano)})
				var gz bytes.Buffer
				zw := gzip.NewWriter(&gz)
				zw.Write(body)
				zw.Close()
				req, _ := http.NewRequest(http.MethodPost, url+"/batch/", &gz)
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Content-Encoding", "gzip")
				if resp, err := client.Do(req); err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					o.status = resp.StatusCode
				}
				mu.Lock()
				out = append(out, o)
				mu.Unlock()
				select {
				case <-stop:
					if o.status == 0 {
						return
					}
				default:
				}
			}
		}()
	}
	wg.Wait()
	return out
}

// TestServeDrainsOnSIGTERMAndAccountsForEveryEvent runs serve as a process
// under load into the file sink, sends SIGTERM mid-load, and checks that it
// exits 0 and that the file holds exactly the events of the requests it
// answered 200, each once, and nothing of a request it did not answer.
func TestServeDrainsOnSIGTERMAndAccountsForEveryEvent(t *testing.T) {
	for _, ack := range []string{"queued", "delivered"} {
		t.Run(ack, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "events.jsonl")
			p := startServe(t, map[string]string{
				"MULTITRACK_SINKS": "file", "MULTITRACK_FILE_PATH": path,
				"MULTITRACK_SERVE_API_KEYS": "phc_load", "MULTITRACK_SERVE_ACK": ack,
			})
			stop := make(chan struct{})
			results := make(chan []loadOutcome, 1)
			go func() { results <- load(p.url, "phc_load", 4, 50, stop) }()
			time.Sleep(500 * time.Millisecond)
			if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			close(stop)
			outcomes := <-results
			select {
			case err := <-p.exited:
				if err != nil {
					t.Fatalf("serve exited with %v: %s", err, p.stderr)
				}
			case <-time.After(60 * time.Second):
				t.Fatalf("serve did not exit after SIGTERM: %s", p.stderr)
			}

			events, warnings, err := eventline.ReadFile(path)
			if err != nil || len(warnings) > 0 {
				t.Fatalf("%v %v", err, warnings)
			}
			inFile := map[string]int{}
			for _, e := range events {
				inFile[e.UUID]++
			}
			acked, unanswered := 0, 0
			for _, o := range outcomes {
				found := 0
				for _, u := range o.uuids {
					found += inFile[u]
					delete(inFile, u)
				}
				switch o.status {
				case 200:
					acked++
					if found != len(o.uuids) {
						t.Errorf("a request answered 200 has %d of its %d events in the file", found, len(o.uuids))
					}
				case 0:
					unanswered++
					if found != 0 {
						t.Errorf("a request without an answer has %d events in the file", found)
					}
				default:
					t.Errorf("a request was answered %d", o.status)
				}
			}
			if len(inFile) != 0 {
				t.Errorf("%d events in the file that no request sent", len(inFile))
			}
			if acked < 2 || unanswered == 0 {
				t.Errorf("load: %d requests answered 200, %d unanswered; want some of each", acked, unanswered)
			}
			if !strings.Contains(p.stderr.String(), "events accepted") {
				t.Errorf("no summary on stderr: %s", p.stderr)
			}
			t.Logf("%d requests answered 200, %d refused while stopping, %d events in the file", acked, unanswered, len(events))
		})
	}
}

// inProcessServe runs `multitrack serve` in this process until the test
// stops it; it returns the capture URL and the stderr so far.
type inProcessServe struct {
	url    string
	stderr *syncbuf.Buffer
	stop   context.CancelFunc
	done   chan int // the exit code
}

func runServe(t *testing.T, env map[string]string, args ...string) *inProcessServe {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	s := &inProcessServe{stderr: &syncbuf.Buffer{}, stop: stop, done: make(chan int, 1)}
	m := &Main{Stdout: io.Discard, Stderr: s.stderr, Lookup: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
	go func() {
		s.done <- exitCode(m.Run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)), s.stderr)
	}()
	t.Cleanup(func() { stop(); <-s.done })
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, line := range strings.Split(s.stderr.String(), "\n") {
			if u, ok := strings.CutPrefix(line, "serve: listening on "); ok {
				s.url = strings.Fields(u)[0]
				return s
			}
		}
		select {
		case code := <-s.done:
			t.Fatalf("serve exited %d: %s", code, s.stderr)
		case <-time.After(5 * time.Millisecond):
		}
	}
	t.Fatalf("serve did not start: %s", s.stderr)
	return nil
}

func TestServeMetricsFlagServesTrackerAndHealth(t *testing.T) {
	s := runServe(t, map[string]string{"MULTITRACK_SERVE_API_KEYS": "phc_k", "MULTITRACK_SERVE_ACK": "queued", "MULTITRACK_SINKS": "noop"},
		"--metrics", "127.0.0.1:0")
	resp, err := http.Post(s.url+"/batch/", "application/json", strings.NewReader(`{"api_key":"phc_k","batch":[{"event":"e","distinct_id":"u"}]}`))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("capture: %v %v", resp, err)
	}
	resp.Body.Close()
	var metricsURL string
	for _, line := range strings.Split(s.stderr.String(), "\n") {
		if u, ok := strings.CutPrefix(line, "serve: metrics at "); ok {
			metricsURL = u
		}
	}
	if metricsURL == "" {
		t.Fatalf("no metrics line: %s", s.stderr)
	}
	if body := get(t, metricsURL); !strings.Contains(body, "multitrack_captured_total 1\n") || !strings.Contains(body, "multitrack_serve_accepted_total 1\n") {
		t.Errorf("/metrics lacks the captured event or serve's own count:\n%s", body)
	}
	if body := get(t, strings.TrimSuffix(metricsURL, "/metrics")+"/readyz"); !strings.Contains(body, "ok") {
		t.Errorf("/readyz on the metrics port: %s", body)
	}
	s.stop()
	if code := <-s.done; code != 0 {
		t.Errorf("exit %d: %s", code, s.stderr)
	}
	s.done <- 0 // for the cleanup
	if !strings.Contains(s.stderr.String(), "1 requests, 1 events accepted") {
		t.Errorf("summary: %s", s.stderr)
	}
}
