package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/multitrack/multitrack/eventline"
	"github.com/multitrack/multitrack/internal/natstest"
	"github.com/multitrack/multitrack/internal/syncbuf"
)

func TestRelayEmbedDeliversWhatTheDemoPublishes(t *testing.T) {
	url := fmt.Sprintf("nats://127.0.0.1:%d", natstest.FreePort(t))
	store := t.TempDir() + "/store"
	out := t.TempDir() + "/events.jsonl"
	relayEnv := map[string]string{"MULTITRACK_NATS_URL": url, "MULTITRACK_SINKS": "file", "MULTITRACK_FILE_PATH": out}
	var relayErr syncbuf.Buffer
	m := &Main{Stdout: &bytes.Buffer{}, Stderr: &relayErr, Lookup: lookup(relayEnv)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	go func() {
		done <- exitCode(m.Run(ctx, []string{"relay", "--embed", "--store", store, "--progress", "100ms", "--metrics", "127.0.0.1:0"}), &relayErr)
	}()
	waitUntil(t, func() bool { return strings.Contains(relayErr.String(), "consumer multitrack-relay") }, &relayErr)

	var demoOut, demoErr bytes.Buffer
	demo := &Main{Stdout: &demoOut, Stderr: &demoErr, Lookup: lookup(map[string]string{"MULTITRACK_SINKS": "nats", "MULTITRACK_NATS_URL": url})}
	if code := exitCode(demo.Run(context.Background(), []string{"demo", "-duration", "300ms", "-rate", "50"}), &demoErr); code != 0 {
		t.Fatalf("demo exit %d: %s", code, demoErr.String())
	}
	if demoOut.Len() != 0 {
		t.Errorf("demo printed events although the nats sink is configured: %q", demoOut.String())
	}
	var kept int
	fmt.Sscanf(demoErr.String()[strings.Index(demoErr.String(), "kept"):], "kept %d", &kept)
	if kept == 0 {
		t.Fatalf("demo kept nothing: %s", demoErr.String())
	}
	waitUntil(t, func() bool { return strings.Contains(relayErr.String(), fmt.Sprintf("delivered %d,", kept)) }, &relayErr)
	metricsURL := strings.Fields(relayErr.String()[strings.Index(relayErr.String(), "metrics at ")+len("metrics at "):])[0]
	if body := get(t, strings.TrimSuffix(metricsURL, "/metrics")+"/healthz"); body != "ok\n" {
		t.Errorf("/healthz = %q", body)
	}
	if body := get(t, metricsURL); !strings.Contains(body, fmt.Sprintf(`multitrack_sink_delivered_total{sink="file"} %d`, kept)) {
		t.Errorf("/metrics lacks the file sink's deliveries:\n%s", body)
	}
	if body := get(t, metricsURL); !strings.Contains(body, fmt.Sprintf("multitrack_relay_delivered_total %d\n", kept)) || !strings.Contains(body, "multitrack_relay_lag ") {
		t.Errorf("/metrics lacks the relay's own counters:\n%s", body)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("relay exit %d: %s", code, relayErr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("relay did not stop on cancel")
	}
	events, _, err := eventline.ReadFile(out)
	if err != nil || len(events) != kept {
		t.Fatalf("relay's file has %d events (%v), demo kept %d", len(events), err, kept)
	}
}

func TestRelayRefusesTheNatsSinkAndNamesTheVariable(t *testing.T) {
	var errOut bytes.Buffer
	m := &Main{Stdout: &bytes.Buffer{}, Stderr: &errOut, Lookup: lookup(map[string]string{"MULTITRACK_SINKS": "file,nats", "MULTITRACK_RELAY_MAX_DELIVER": "0", "MULTITRACK_NATS_TOKEN": "s3cr3t-token-value"})}
	code := exitCode(m.Run(context.Background(), []string{"relay"}), &errOut)
	if code != 1 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"MULTITRACK_SINKS", "nats", "MULTITRACK_RELAY_MAX_DELIVER"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("stderr %q lacks %q", errOut.String(), want)
		}
	}
	if strings.Contains(errOut.String(), "s3cr3t") {
		t.Error("the token was printed")
	}
}

func TestRelayUnreachableServerNamesTheURL(t *testing.T) {
	url := fmt.Sprintf("nats://127.0.0.1:%d", natstest.FreePort(t))
	var errOut bytes.Buffer
	m := &Main{Stdout: &bytes.Buffer{}, Stderr: &errOut, Lookup: lookup(map[string]string{"MULTITRACK_NATS_URL": url})}
	if code := exitCode(m.Run(context.Background(), []string{"relay"}), &errOut); code != 1 || !strings.Contains(errOut.String(), url) {
		t.Fatalf("exit %d, stderr %q", code, errOut.String())
	}
}

func lookup(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
}

func waitUntil(t *testing.T, cond func() bool, log fmt.Stringer) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out; relay said: %s", log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
