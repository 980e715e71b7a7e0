package ingest

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func gz(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return buf.Bytes()
}

func form(fields ...string) []byte {
	v := url.Values{}
	for i := 0; i+1 < len(fields); i += 2 {
		v.Set(fields[i], fields[i+1])
	}
	return []byte(v.Encode())
}

// TestEveryRouteAndEncodingCarriesTheEvents sends the same batch through
// every capture route in every encoding PostHog's SDKs use.
func TestEveryRouteAndEncodingCarriesTheEvents(t *testing.T) {
	lzBatch := lzCases(t)[7] // a batch, compressed by lz-string itself
	if !strings.Contains(lzBatch.Text, `"lz_event"`) {
		t.Fatal("lz-string case 7 is not the batch")
	}
	plain := []byte(lzBatch.Text)
	b64 := base64.StdEncoding.EncodeToString(plain)
	formCT := "application/x-www-form-urlencoded"
	encodings := []struct {
		name    string
		query   string
		body    []byte
		headers []string
	}{
		{"json", "", plain, []string{"Content-Type", "application/json"}},
		{"Content-Encoding gzip", "", gz(plain), []string{"Content-Type", "application/json", "Content-Encoding", "gzip"}},
		{"posthog-go: both", "?compression=gzip", gz(plain), []string{"Content-Type", "application/json", "Content-Encoding", "gzip"}},
		{"compression=gzip-js", "?compression=gzip-js", gz(plain), []string{"Content-Type", "text/plain"}},
		{"gzip unnamed", "", gz(plain), []string{"Content-Type", "text/plain"}},
		{"form base64", "", form("data", b64), []string{"Content-Type", formCT}},
		{"form base64 named", "?compression=base64", form("data", b64), []string{"Content-Type", formCT}},
		{"form base64 url-safe", "", form("data", base64.RawURLEncoding.EncodeToString(plain)), []string{"Content-Type", formCT}},
		{"form base64 plus as space", "", []byte("data=" + strings.ReplaceAll(b64, "+", " ")), []string{"Content-Type", formCT}},
		{"form json", "", form("data", string(plain)), []string{"Content-Type", formCT}},
		{"form lz64", "", form("data", lzBatch.Base64, "compression", "lz64"), []string{"Content-Type", formCT}},
		{"query lz64", "?compression=lz64", form("data", lzBatch.Base64), []string{"Content-Type", formCT}},
		{"form as text/plain", "", form("data", b64), []string{"Content-Type", "text/plain"}},
		{"JSON labelled as a form (curl -d)", "", plain, []string{"Content-Type", formCT}},
	}
	routes := []string{"/batch/", "/capture/", "/e/", "/i/v0/e/", "/track/", "/batch", "/e"}
	r := newRig(t)
	sent := 0
	for _, enc := range encodings {
		for _, route := range routes {
			resp := r.post(route+enc.query, enc.body, enc.headers...)
			if resp.status != 200 {
				t.Errorf("%s %s: %d %s", route, enc.name, resp.status, resp.raw)
			}
			sent++
		}
	}
	get := r.do(httptestGet(t, r.url+"/e/?data="+url.QueryEscape(b64)))
	if get.status != 200 {
		t.Errorf("GET data=: %d %s", get.status, get.raw)
	}
	sent++
	events := r.flushed()
	if len(events) != sent {
		t.Fatalf("%d events at the sink, %d requests of one event", len(events), sent)
	}
	for _, e := range events {
		if e.Name != "lz_event" || e.DistinctID != "user_lz" || e.Groups["organization"] != "org_lz" ||
			e.Properties["n"] != json.Number("12345678901234567890") || e.Properties["f"] != json.Number("1.0") ||
			e.Properties["s"] != "héllo 猫 🚀" {
			t.Fatalf("event changed on the way: %+v", e)
		}
	}
}

func httptestGet(t *testing.T, u string) *http.Request {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// gzipBomb returns n concatenated gzip members of 1 MiB of spaces each (a
// valid multi-member stream): n MiB of JSON whitespace from about n KiB.
func gzipBomb(n int) []byte {
	member := gz(bytes.Repeat([]byte(" "), 1<<20))
	return bytes.Repeat(member, n)
}

func TestGzipBombGets413WithoutTheMemory(t *testing.T) {
	const limit = 1 << 20
	r := newRig(t, WithMaxDecodedBytes(limit))
	bomb := gzipBomb(256) // 256 MiB decompressed
	for _, tc := range []struct {
		name    string
		query   string
		headers []string
	}{
		{"Content-Encoding", "", []string{"Content-Encoding", "gzip"}},
		{"gzip-js", "?compression=gzip-js", []string{"Content-Type", "text/plain"}},
	} {
		req := httptest.NewRequest(http.MethodPost, "/batch/"+tc.query, bytes.NewReader(bomb))
		for i := 0; i+1 < len(tc.headers); i += 2 {
			req.Header.Set(tc.headers[i], tc.headers[i+1])
		}
		w := httptest.NewRecorder()
		alloc := allocated(func() { r.srv.ServeHTTP(w, req) })
		if w.Code != http.StatusRequestEntityTooLarge || !strings.Contains(w.Body.String(), "decompresses to more than") {
			t.Errorf("%s: %d %s", tc.name, w.Code, w.Body)
		}
		if alloc > 4*limit {
			t.Errorf("%s: allocated %d bytes refusing a 256 MiB bomb over a limit of %d", tc.name, alloc, limit)
		}
	}
	if got := r.srv.Stats().TooLarge; got != 2 {
		t.Errorf("Stats().TooLarge = %d, want 2", got)
	}
}

func TestOversizeBodyGets413(t *testing.T) {
	r := newRig(t, WithMaxBodyBytes(1000))
	big := batch(testKey, ev("e", "u", map[string]any{"pad": strings.Repeat("x", 2000)}))
	if resp := r.post("/batch/", big); resp.status != 413 || !strings.Contains(resp.body["detail"].(string), "over the limit of 1000") {
		t.Errorf("with Content-Length: %d %s", resp.status, resp.raw)
	}
	// Without a Content-Length (chunked), the body is cut at the limit.
	req, _ := http.NewRequest(http.MethodPost, r.url+"/batch/", struct{ *bytes.Reader }{bytes.NewReader(big)})
	if resp := r.do(req); resp.status != 413 {
		t.Errorf("chunked: %d %s", resp.status, resp.raw)
	}
	if got := r.flushed(); len(got) != 0 {
		t.Errorf("%d events kept from refused requests", len(got))
	}
}

// TestMalformedRequestsAreRefusedNamingTheProblem checks the 4xx answers:
// status, PostHog's error shape, and a detail naming what was wrong.
func TestMalformedRequestsAreRefusedNamingTheProblem(t *testing.T) {
	r := newRig(t)
	good := string(batch(testKey, ev("e", "u", nil)))
	cases := []struct {
		name    string
		body    string
		headers []string
		query   string
		status  int
		detail  string
	}{
		{"empty", "", nil, "", 400, "empty request body"},
		{"not JSON", "hello", nil, "", 400, "not JSON"},
		{"truncated", good[:len(good)-5], nil, "", 400, "not valid JSON"},
		{"syntax", `{"api_key":"k","batch":[{"event":"e",}]}`, nil, "", 400, "at byte"},
		{"batch not an array", `{"api_key":"phc_test_project_key","batch":{"event":"e"}}`, nil, "", 400, "batch: want an array, got an object"},
		{"no events", `{"api_key":"phc_test_project_key"}`, nil, "", 400, "no events"},
		{"empty batch", `{"api_key":"phc_test_project_key","batch":[]}`, nil, "", 400, "holds no events"},
		{"api_key a number", `{"api_key":7,"batch":[]}`, nil, "", 400, "api_key: want a string, got a number"},
		{"bad gzip", "\x1f\x8bnot gzip at all", nil, "", 400, "gzip payload"},
		{"gzip-js not gzip", good, nil, "?compression=gzip-js", 400, "not gzip"},
		{"unknown compression", good, nil, "?compression=zstd", 400, `unknown compression "zstd"`},
		{"bad base64", "data=%25%25%25", []string{"Content-Type", "application/x-www-form-urlencoded"}, "", 400, "base64 payload"},
		{"form without data", "compression=lz64", []string{"Content-Type", "application/x-www-form-urlencoded"}, "", 400, "without a data field"},
		{"brotli", good, []string{"Content-Encoding", "br"}, "", 415, `Content-Encoding "br" is not supported`},
		{"bad lz64", "data=Ab*c&compression=lz64", []string{"Content-Type", "application/x-www-form-urlencoded"}, "", 400, "lz64 payload"},
	}
	for _, c := range cases {
		resp := r.post("/batch/"+c.query, []byte(c.body), c.headers...)
		detail, _ := resp.body["detail"].(string)
		if resp.status != c.status || !strings.Contains(detail, c.detail) || resp.body["type"] != "validation_error" {
			t.Errorf("%s: %d %s; want %d with %q", c.name, resp.status, resp.raw, c.status, c.detail)
		}
	}
	if got := r.flushed(); len(got) != 0 {
		t.Errorf("%d events kept from malformed requests", len(got))
	}
}

// TestInvalidEventsAreNamedAndTheRestKept: a batch with bad events keeps
// the good ones and names each bad one by its index.
func TestInvalidEventsAreNamedAndTheRestKept(t *testing.T) {
	r := newRig(t)
	body := `{"api_key":"phc_test_project_key","batch":[
		{"event":"ok_1","distinct_id":"u","uuid":"0190f3c4-8b2a-7d4e-9f10-3c5a7b9d1e21"},
		{"distinct_id":"u"},
		{"event":"no_id","properties":{}},
		"not an event",
		{"event":"bad_props","distinct_id":"u","properties":"x"},
		{"event":"bad_groups","distinct_id":"u","properties":{"$groups":{"organization":{"id":1}}}},
		{"event":"other_key","distinct_id":"u","properties":{"token":"phc_another"}},
		{"event":"ok_2","distinct_id":7,"uuid":"0190f3c4-8b2a-7d4e-9f10-3c5a7b9d1e22"}]}`
	resp := r.post("/batch/", []byte(body))
	if resp.status != 400 || resp.body["code"] != "invalid_event" || resp.body["accepted"] != 2.0 {
		t.Fatalf("%d %s", resp.status, resp.raw)
	}
	detail := resp.body["detail"].(string)
	for _, want := range []string{
		"6 of 8 events refused",
		"batch[1]: event: want the event's name, got nothing",
		"batch[2]: distinct_id: want a string, got nothing",
		"batch[3]: want an event object, got a string",
		"batch[4]: properties: want an object, got a string",
		"batch[5]: properties.$groups.organization: want a string, got an object",
		"batch[6]: properties.token names another project API key than the request's api_key",
	} {
		if !strings.Contains(detail, want) {
			t.Errorf("detail %q lacks %q", detail, want)
		}
	}
	if strings.Contains(resp.raw, "phc_another") || strings.Contains(resp.raw, testKey) {
		t.Errorf("an API key in the answer: %s", resp.raw)
	}
	got := r.flushed()
	if len(got) != 2 || got[0].Name != "ok_1" || got[1].Name != "ok_2" || got[1].DistinctID != "7" {
		t.Errorf("kept %+v", got)
	}
}

func TestReadLimitedStopsAtTheLimit(t *testing.T) {
	if _, err := readLimited(strings.NewReader(strings.Repeat("x", 11)), 10, 0); !errors.Is(err, errTooLarge) {
		t.Errorf("11 bytes over 10: %v", err)
	}
	if b, err := readLimited(strings.NewReader(strings.Repeat("x", 10)), 10, 10); err != nil || len(b) != 10 {
		t.Errorf("10 bytes under 10: %d %v", len(b), err)
	}
}

// TestManyTinyEventsStopAtTheEventLimit: a body of a million empty events
// is refused at the limit, without decoding the rest.
func TestManyTinyEventsStopAtTheEventLimit(t *testing.T) {
	r := newRig(t, WithMaxEvents(100))
	body := "[" + strings.Repeat("{},", 1_000_000) + "{}]"
	req := httptest.NewRequest(http.MethodPost, "/e/?api_key="+testKey, strings.NewReader(body))
	w := httptest.NewRecorder()
	alloc := allocated(func() { r.srv.ServeHTTP(w, req) })
	if w.Code != 413 || !strings.Contains(w.Body.String(), "more than 100 events") {
		t.Errorf("%d %s", w.Code, w.Body)
	}
	if alloc > 4*uint64(len(body)) {
		t.Errorf("allocated %d bytes for a body of %d", alloc, len(body))
	}
}
