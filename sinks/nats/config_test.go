package nats_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/multitrack/multitrack/internal/natstest"
	natssink "github.com/multitrack/multitrack/sinks/nats"
)

func TestUnreachableServerIsAnErrorNamingTheURLWithoutCredentials(t *testing.T) {
	port := natstest.FreePort(t)
	url := "nats://relay:hunter2secret@127.0.0.1:" + itoa(port)
	_, err := natssink.New(natssink.WithConfig(natssink.Config{URL: url, Token: "tok3nvalue", ConnectTimeout: time.Second}))
	if err == nil {
		t.Fatal("New succeeded without a server")
	}
	msg := err.Error()
	if !strings.Contains(msg, "nats://***@127.0.0.1:"+itoa(port)) {
		t.Errorf("error does not name the URL: %v", msg)
	}
	if strings.Contains(msg, "hunter2") || strings.Contains(msg, "tok3n") {
		t.Errorf("error shows a credential: %v", msg)
	}
}

func TestExistingStreamWithOtherSubjectsIsAnErrorNamingBoth(t *testing.T) {
	srv := natstest.Run(t)
	js := natstest.JetStream(t, srv.ClientURL())
	if _, err := js.CreateStream(context.Background(), jetstream.StreamConfig{Name: "MULTITRACK", Subjects: []string{"orders.>"}}); err != nil {
		t.Fatal(err)
	}
	_, err := natssink.New(natssink.WithConfig(natssink.Config{URL: srv.ClientURL()}))
	if err == nil {
		t.Fatal("New accepted a stream that does not take its subjects")
	}
	for _, want := range []string{"MULTITRACK", "orders.>", "multitrack.events.>"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
}

func TestExistingStreamIsUsedAsIs(t *testing.T) {
	srv := natstest.Run(t)
	js := natstest.JetStream(t, srv.ClientURL())
	ctx := context.Background()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "EVENTS", Subjects: []string{"app.*.*"}, MaxAge: time.Hour}); err != nil {
		t.Fatal(err)
	}
	s := newSink(t, natssink.Config{URL: srv.ClientURL(), Stream: "EVENTS", Subject: "app.analytics", MaxAge: time.Minute, Replicas: 1})
	if err := s.Write(ctx, events(5, "signed_up")); err != nil {
		t.Fatal(err)
	}
	st, err := js.Stream(ctx, "EVENTS")
	if err != nil {
		t.Fatal(err)
	}
	info := st.CachedInfo()
	if info.Config.MaxAge != time.Hour || len(info.Config.Subjects) != 1 || info.State.Msgs != 5 {
		t.Errorf("stream changed or not written: %+v %+v", info.Config, info.State)
	}
}

func TestMissingStreamIsCreatedWithTheConfiguredLimits(t *testing.T) {
	srv := natstest.Run(t)
	newSink(t, natssink.Config{URL: srv.ClientURL(), Stream: "ANALYTICS", Subject: "a.b", MaxAge: 48 * time.Hour, MaxBytes: 1 << 30, DuplicateWindow: 10 * time.Minute})
	st, err := natstest.JetStream(t, srv.ClientURL()).Stream(context.Background(), "ANALYTICS")
	if err != nil {
		t.Fatal(err)
	}
	c := st.CachedInfo().Config
	if c.Subjects[0] != "a.b.>" || c.MaxAge != 48*time.Hour || c.MaxBytes != 1<<30 || c.Duplicates != 10*time.Minute ||
		c.Discard != jetstream.DiscardNew || c.Storage != jetstream.FileStorage || c.Replicas != 1 {
		t.Errorf("stream config = %+v", c)
	}
}

func TestInvalidConfigIsRefusedBeforeConnecting(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  natssink.Config
		want string
	}{
		{"stream with a dot", natssink.Config{Stream: "a.b"}, "stream name"},
		{"wildcard subject", natssink.Config{Subject: "events.>"}, "subject"},
		{"empty token", natssink.Config{Subject: "a..b"}, "subject"},
		{"bad scheme", natssink.Config{URL: "http://127.0.0.1:4222"}, "unknown scheme"},
		{"replicas", natssink.Config{Replicas: 7}, "replicas 7"},
		{"cert without key", natssink.Config{TLSCert: "c.pem"}, "key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := natssink.New(natssink.WithConfig(tc.cfg))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

func TestSubjectTokenKeepsOneTokenPerEventName(t *testing.T) {
	for in, want := range map[string]string{
		"query_failed": "query_failed", "$pageview": "$pageview", "a.b": "a_b", "a b\t": "a_b_",
		"*": "_", ">x": "_x", "": "_", "héllo": "héllo",
	} {
		if got := natssink.SubjectToken(in); got != want {
			t.Errorf("SubjectToken(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseURLAcceptsListsAndHidesCredentials(t *testing.T) {
	got, err := natssink.ParseURL(" nats://a:4222 , tls://b:4222,127.0.0.1:4223")
	if err != nil || got != "nats://a:4222,tls://b:4222,127.0.0.1:4223" {
		t.Errorf("ParseURL = %q, %v", got, err)
	}
	_, err = natssink.ParseURL("ftp://user:pa55word@host:1")
	if err == nil || strings.Contains(err.Error(), "pa55word") {
		t.Errorf("ParseURL error = %v", err)
	}
	if got := natssink.RedactURL("nats://u:p@a:1, nats://tok@b:2,c:3"); got != "nats://***@a:1,nats://***@b:2,c:3" {
		t.Errorf("RedactURL = %q", got)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
