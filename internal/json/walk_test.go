package json

import (
	"errors"
	"strings"
	"testing"

	"github.com/multitrack/multitrack/internal/secret"
)

func nested(levels int) any {
	var v any = "leaf"
	for range levels {
		v = []any{v}
	}
	return v
}

// TestOneDepthLimitForMeasuringAndEncoding: a value under MaxDepth
// containers is measured and encoded; one more level is refused by both,
// with the same error.
func TestOneDepthLimitForMeasuringAndEncoding(t *testing.T) {
	var w Walker
	if _, err := w.Measure(nested(MaxDepth), false); err != nil {
		t.Fatalf("measuring %d levels: %v", MaxDepth, err)
	}
	if _, err := AppendValue(nil, nested(MaxDepth)); err != nil {
		t.Fatalf("encoding %d levels: %v", MaxDepth, err)
	}
	_, merr := w.Measure(nested(MaxDepth+1), false)
	_, eerr := AppendValue(nil, nested(MaxDepth+1))
	if merr == nil || eerr == nil || merr.Error() != eerr.Error() || !errors.Is(merr, ErrUnencodable) {
		t.Fatalf("measuring: %v; encoding: %v", merr, eerr)
	}
	if !strings.Contains(merr.Error(), "nested deeper than 32 levels") {
		t.Fatalf("error %v", merr)
	}
}

// TestMeasureCountsSecretKeysOnce: secret keys are counted in every kind of
// container, but not inside a secret key's own value (it goes whole).
func TestMeasureCountsSecretKeysOnce(t *testing.T) {
	type creds struct {
		User     string
		Password string `json:"password"`
		Hidden   string `json:"-"`
	}
	props := map[string]any{
		"user":    "alice",
		"nested":  map[string]any{"db_password": "x", "list": []any{map[string]string{"apiKey": "y"}}},
		"typed":   []map[string]any{{"token": "z"}},
		"struct":  creds{User: "u", Password: "p"},
		"session": map[string]any{"cookie": "c"},
		"secret":  map[string]any{"password": "goes with its key, uncounted"},
	}
	w := Walker{Rule: secret.Default()}
	n, err := w.MeasureObject(props)
	if err != nil {
		t.Fatal(err)
	}
	if w.Secrets != 6 {
		t.Fatalf("Secrets = %d, want 6 (db_password, apiKey, token, password, cookie, secret)", w.Secrets)
	}
	b, _ := AppendObject(nil, props)
	if n < len(b)/2 || n > 2*len(b) {
		t.Fatalf("measured %d bytes; the encoding has %d", n, len(b))
	}
}
