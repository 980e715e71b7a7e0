package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/multitrack/multitrack/tracker"
)

// FuzzCaptureRequest throws arbitrary bodies, encodings and queries at the
// whole request path (decoding, parsing, mapping, capture): it never
// panics, answers 200, 400, 401, 413 or 415, and every answer is JSON.
func FuzzCaptureRequest(f *testing.F) {
	for _, fx := range loadFixtures(f) {
		u, _ := url.Parse(fx.target)
		f.Add(fx.body, fx.headers["content-type"], fx.headers["content-encoding"], u.RawQuery)
	}
	f.Add(gz([]byte(`{"api_key":"phc_test_project_key","batch":[{"event":"e","distinct_id":1}]}`)), "text/plain", "", "compression=gzip-js")
	f.Add([]byte(`data=`+lzBomb(40)), "application/x-www-form-urlencoded", "", "compression=lz64")
	f.Add([]byte(`[{"event":"e","properties":{"token":"phc_test_project_key","distinct_id":"u","$groups":{"a":1}}}]`), "", "", "")

	tr, err := tracker.New()
	if err != nil {
		f.Fatal(err)
	}
	defer tr.Close(context.Background())
	srv, err := New(tr, WithAPIKeys(testKey), WithMaxBodyBytes(1<<16), WithMaxDecodedBytes(1<<16), WithMaxEvents(50))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte, contentType, contentEncoding, query string) {
		req := httptest.NewRequest(http.MethodPost, "/e/", bytes.NewReader(body))
		req.URL.RawQuery = query
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("Content-Encoding", contentEncoding)
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		switch w.Code {
		case 200, 400, 401, 413, 415:
		default:
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
		if !json.Valid(w.Body.Bytes()) {
			t.Fatalf("answer is not JSON: %q", w.Body)
		}
	})
}
