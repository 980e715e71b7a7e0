package ingest

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// The compressions PostHog's SDKs name in ?compression= or a form's
// compression field.
const (
	compressionGzipJS = "gzip-js" // posthog-js: a gzip body, text/plain
	compressionGzip   = "gzip"
	compressionLZ64   = "lz64"   // posthog-js before 1.100: lz-string, base64, form data=
	compressionBase64 = "base64" // form data= with base64 JSON
)

// limits bound what one request may hold.
type limits struct {
	body    int64 // bytes on the wire
	decoded int64 // bytes of JSON after decompression
}

// readPayload returns the JSON a capture request carries, undoing the
// encodings PostHog's SDKs use: Content-Encoding: gzip; a gzip body with or
// without ?compression=gzip-js; a form whose data field holds JSON, base64
// JSON or lz64; a GET's data query parameter.
func readPayload(r *http.Request, lim limits) ([]byte, *requestError) {
	query := r.URL.Query()
	compression := query.Get("compression")
	var body []byte
	if r.Method == http.MethodGet {
		body = []byte(query.Get("data"))
		if len(body) == 0 {
			return nil, badRequest(codeInvalidPayload, "GET without a data query parameter: send events with POST")
		}
		return decodeData(body, compression, true, lim)
	}

	if r.ContentLength > lim.body {
		return nil, tooLarge("request body of %d bytes is over the limit of %d", r.ContentLength, lim.body)
	}
	body, err := readLimited(r.Body, lim.body, r.ContentLength)
	if errors.Is(err, errTooLarge) {
		return nil, tooLarge("request body is over the limit of %d bytes", lim.body)
	}
	if err != nil {
		return nil, badRequest(codeInvalidPayload, "reading the request body: %v", err)
	}
	if len(body) == 0 {
		return nil, badRequest(codeInvalidPayload, "empty request body")
	}

	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip", "x-gzip":
		if body, err = gunzip(body, lim.decoded); err != nil {
			return nil, decodeError("Content-Encoding: gzip", err, lim)
		}
		if c := strings.ToLower(compression); c == compressionGzip || c == compressionGzipJS {
			compression = "" // posthog-go names the gzip in both places
		}
	default:
		return nil, &requestError{status: http.StatusUnsupportedMediaType, code: codeUnsupported,
			detail: fmt.Sprintf("Content-Encoding %q is not supported: want gzip or none", enc)}
	}

	if isForm(r.Header.Get("Content-Type"), body) {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, badRequest(codeInvalidPayload, "form body: %v", err)
		}
		data := form.Get("data")
		if data == "" {
			return nil, badRequest(codeInvalidPayload, "form body without a data field")
		}
		if compression == "" {
			compression = form.Get("compression")
		}
		return decodeData([]byte(data), compression, true, lim)
	}
	return decodeData(body, compression, false, lim)
}

// decodeData undoes the named compression of data (JSON, base64, lz64 or
// gzip); a gzip stream is recognized by its magic bytes whatever is named,
// as posthog-js sends one without naming it.
func decodeData(data []byte, compression string, fromForm bool, lim limits) ([]byte, *requestError) {
	switch compression = strings.ToLower(strings.TrimSpace(compression)); {
	case isGzip(data):
		out, err := gunzip(data, lim.decoded)
		if err != nil {
			return nil, decodeError("gzip", err, lim)
		}
		return out, nil
	case compression == compressionGzipJS || compression == compressionGzip:
		return nil, badRequest(codeInvalidPayload, "compression=%s, but the body is not gzip", compression)
	case compression == compressionLZ64:
		out, err := decodeLZ64(string(data), int(min(lim.decoded, int64(math.MaxInt))))
		if err != nil {
			return nil, decodeError("lz64", err, lim)
		}
		return out, nil
	case compression == compressionBase64:
		return decodeBase64(data, lim)
	case compression == "" || compression == "none":
		if fromForm && !looksLikeJSON(data) {
			return decodeBase64(data, lim) // posthog-js before 1.100 sends base64 without naming it
		}
		if int64(len(data)) > lim.decoded {
			return nil, tooLarge("payload of %d bytes is over the limit of %d", len(data), lim.decoded)
		}
		return data, nil
	}
	return nil, badRequest(codeInvalidPayload, "unknown compression %q: want gzip-js, gzip, lz64 or base64", compression)
}

func decodeError(what string, err error, lim limits) *requestError {
	if errors.Is(err, errTooLarge) {
		return tooLarge("%s payload decompresses to more than the limit of %d bytes", what, lim.decoded)
	}
	return badRequest(codeInvalidPayload, "%s payload: %v", what, err)
}

func isGzip(b []byte) bool { return len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b }

func looksLikeJSON(b []byte) bool {
	b = bytes.TrimLeft(b, " \t\r\n")
	return len(b) > 0 && (b[0] == '{' || b[0] == '[')
}

// isForm says whether body is a form: by its Content-Type, or, as some SDKs
// send a form as text/plain, by its start.
func isForm(contentType string, body []byte) bool {
	if bytes.HasPrefix(body, []byte("data=")) {
		return true
	}
	if mt, _, err := mime.ParseMediaType(contentType); err != nil || mt != "application/x-www-form-urlencoded" {
		return false
	}
	// curl -d labels JSON as a form: a body that starts as JSON is JSON.
	t := bytes.TrimLeft(body, " \t\r\n")
	return len(t) == 0 || t[0] != '{' && t[0] != '['
}

// decodeBase64 reads standard or URL-safe base64, padded or not; a space is
// a '+' that form decoding undid.
func decodeBase64(data []byte, lim limits) ([]byte, *requestError) {
	s := strings.ReplaceAll(strings.TrimSpace(string(data)), " ", "+")
	s = strings.TrimRight(s, "=")
	enc := base64.RawStdEncoding
	if strings.ContainsAny(s, "-_") {
		enc = base64.RawURLEncoding
	}
	out, err := enc.DecodeString(s)
	if err != nil {
		return nil, badRequest(codeInvalidPayload, "base64 payload: %v", err)
	}
	if int64(len(out)) > lim.decoded {
		return nil, tooLarge("payload of %d bytes is over the limit of %d", len(out), lim.decoded)
	}
	return out, nil
}

// readLimited reads r to its end, or fails with errTooLarge as soon as it
// has read more than max bytes. hint is the expected size (a Content-Length),
// 0 when unknown. It never holds a buffer larger than max+1 bytes, and all
// the buffers it allocates add up to less than three times that.
func readLimited(r io.Reader, max int64, hint int64) ([]byte, error) {
	size := int64(4 << 10)
	if hint > 0 {
		size = hint + 1 // room to see the end
	}
	buf := make([]byte, 0, min(size, max+1))
	for {
		if len(buf) == cap(buf) {
			if int64(len(buf)) > max {
				return nil, errTooLarge
			}
			next := make([]byte, len(buf), min(int64(cap(buf))*2, max+1))
			copy(next, buf)
			buf = next
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > max {
			return nil, errTooLarge
		}
		switch {
		case err == io.EOF:
			return buf, nil
		case err != nil:
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, errTooLarge
			}
			return nil, err
		}
	}
}

var gzipReaders sync.Pool // *gzip.Reader

// gunzip decompresses b, failing with errTooLarge once the output exceeds
// max: a gzip bomb costs at most max bytes.
func gunzip(b []byte, max int64) ([]byte, error) {
	zr, _ := gzipReaders.Get().(*gzip.Reader)
	var err error
	if zr == nil {
		zr, err = gzip.NewReader(bytes.NewReader(b))
	} else {
		err = zr.Reset(bytes.NewReader(b))
	}
	if err != nil {
		return nil, err
	}
	defer gzipReaders.Put(zr)
	out, err := readLimited(zr, max, int64(len(b))*4)
	if err != nil {
		return nil, err
	}
	return out, nil
}
