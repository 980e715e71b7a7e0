package embedded_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/goleak"

	"github.com/multitrack/multitrack/internal/natstest"
	"github.com/multitrack/multitrack/relay/embedded"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestEmbeddedServerListensOnTheURLRequiresTheTokenAndKeepsTheStream(t *testing.T) {
	url := fmt.Sprintf("nats://127.0.0.1:%d", natstest.FreePort(t))
	store := t.TempDir() + "/data"
	srv, err := embedded.Start(embedded.Config{URL: url, StoreDir: store, Token: "t0ken"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := natsgo.Connect(url, natsgo.Timeout(time.Second)); err == nil {
		t.Error("connected without the token")
	}
	publishOne(t, url)
	if _, err := embedded.Start(embedded.Config{URL: url, StoreDir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "127.0.0.1") {
		t.Errorf("a second server on the same port: %v", err)
	}
	srv.Close()
	if fi, err := os.Stat(store); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("store: %v %v", fi.Mode(), err)
	}

	srv, err = embedded.Start(embedded.Config{URL: url, StoreDir: store, Token: "t0ken"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	nc, err := natsgo.Connect(url, natsgo.Token("t0ken"))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	s, err := js.Stream(context.Background(), "KEPT")
	if err != nil || s.CachedInfo().State.Msgs != 1 {
		t.Fatalf("the stream did not survive a restart: %v", err)
	}
}

func publishOne(t *testing.T, url string) {
	t.Helper()
	nc, err := natsgo.Connect(url, natsgo.Token("t0ken"))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx := context.Background()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "KEPT", Subjects: []string{"kept.>"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, "kept.x", []byte("{}")); err != nil {
		t.Fatal(err)
	}
}
