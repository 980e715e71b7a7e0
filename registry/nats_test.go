package registry_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/multitrack/multitrack/internal/natstest"
	"github.com/multitrack/multitrack/registry"
	"github.com/multitrack/multitrack/tracker"
)

func TestNatsSinkFromTheEnvironmentPublishesToTheStream(t *testing.T) {
	srv := natstest.Run(t)
	env := map[string]string{"MULTITRACK_SINKS": "nats", "MULTITRACK_NATS_URL": srv.ClientURL(), "MULTITRACK_NATS_STREAM": "EVENTS",
		"MULTITRACK_NATS_SUBJECT": "app.events", "MULTITRACK_NATS_MAX_AGE": "48h"}
	tr, err := registry.FromLookup(mapLookup(env))
	if err != nil {
		t.Fatal(err)
	}
	tr.Capture(context.Background(), tracker.Event{Name: "signed_up", DistinctID: "u1"})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tr.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if st := tr.Stats().Sinks["nats"]; st.Delivered != 1 || st.Undelivered != 0 {
		t.Fatalf("nats sink stats = %+v", st)
	}
}

func TestNatsSettingsProblemsAreReportedTogetherWithoutTheToken(t *testing.T) {
	env := map[string]string{
		"MULTITRACK_SINKS": "nats", "MULTITRACK_NATS_URL": "http://x:1", "MULTITRACK_NATS_STREAM": "a.b",
		"MULTITRACK_NATS_SUBJECT": "a.>", "MULTITRACK_NATS_REPLICAS": "9", "MULTITRACK_NATS_MAX_AGE": "soon",
		"MULTITRACK_NATS_TOKEN": "tok-0123456789abcdef", "MULTITRACK_NATS_TLS_CERT": "c.pem",
	}
	_, err := registry.FromLookup(mapLookup(env))
	if !errors.Is(err, registry.ErrInvalid) {
		t.Fatalf("err = %v", err)
	}
	for _, v := range []string{"MULTITRACK_NATS_URL", "MULTITRACK_NATS_STREAM", "MULTITRACK_NATS_SUBJECT", "MULTITRACK_NATS_REPLICAS", "MULTITRACK_NATS_MAX_AGE", "MULTITRACK_NATS_TLS_KEY"} {
		if !strings.Contains(err.Error(), v) {
			t.Errorf("error lacks %s: %v", v, err)
		}
	}
	if strings.Contains(err.Error(), "0123456789abcdef") {
		t.Error("the token was shown")
	}
}

func TestRelaySettingsReadTheStreamTheConsumerAndTheDeadLetter(t *testing.T) {
	env := map[string]string{"MULTITRACK_NATS_URL": "nats://a:1, nats://b:2", "MULTITRACK_RELAY_CONSUMER": "eu-relay",
		"MULTITRACK_RELAY_MAX_DELIVER": "4", "MULTITRACK_DEAD_LETTER_PATH": "/tmp/x.jsonl", "MULTITRACK_SINKS": "posthog"}
	s, err := registry.Env{Lookup: mapLookup(env)}.Relay()
	if err != nil {
		t.Fatal(err)
	}
	if s.NATS.URL != "nats://a:1,nats://b:2" || s.Consumer != "eu-relay" || s.MaxDeliver != 4 || s.DeadLetter != "/tmp/x.jsonl" || s.NATS.StreamName() != "MULTITRACK" {
		t.Errorf("settings = %+v", s)
	}
	env = map[string]string{"MULTITRACK_SINKS": "stdout, NATS", "MULTITRACK_RELAY_CONSUMER": "a b", "MULTITRACK_RELAY_MAX_DELIVER": "0"}
	_, err = registry.Env{Lookup: mapLookup(env)}.Relay()
	for _, v := range []string{"MULTITRACK_SINKS", "MULTITRACK_RELAY_CONSUMER", "MULTITRACK_RELAY_MAX_DELIVER"} {
		if err == nil || !strings.Contains(err.Error(), v) {
			t.Errorf("error lacks %s: %v", v, err)
		}
	}
}
