package thumbnails_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails"
	"github.com/gorm-thumbnails/thumbnails/backends"
	"github.com/gorm-thumbnails/thumbnails/field"
)

// testKey is the signing key of the tests' on-demand URLs.
var testKey = []byte("0123456789abcdef0123456789abcdef")

// withKey turns on-demand generation on.
func withKey(c *thumbnails.Config) { c.SigningKey = testKey }

// newHandler returns the plugin's handler on db.
func newHandler(t testing.TB, db *gorm.DB, opts thumbnails.HandlerOptions) http.Handler {
	t.Helper()
	h, err := thumbnails.Handler(db, opts)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// get serves one request to h.
func get(h http.Handler, method, target string, header http.Header) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		r.Header[k] = v
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestHandlerServesThumbnails(t *testing.T) {
	e := setup(t, openSQLite(t), &Food{})
	food := savedFood(t, e.db)
	ctx := context.Background()
	small, err := food.Image.Thumbnail(ctx, "small")
	if err != nil {
		t.Fatal(err)
	}
	medium, err := food.Image.Thumbnail(ctx, "medium")
	if err != nil {
		t.Fatal(err)
	}
	smallBytes, err := os.ReadFile(filepath.Join(e.root, small.Name))
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(filepath.Join(e.root, small.Name))
	if err != nil {
		t.Fatal(err)
	}
	h := newHandler(t, e.db, thumbnails.HandlerOptions{})
	first := get(h, http.MethodGet, small.URL, nil)
	etag := first.Header().Get("ETag")

	tests := []struct {
		name     string
		method   string
		url      string
		header   http.Header
		status   int
		typ      string
		body     []byte // nil: not checked
		bodySize int    // checked when body is nil and bodySize > 0
	}{
		{"png thumbnail", "GET", small.URL, nil, 200, "image/png", smallBytes, 0},
		{"jpeg thumbnail", "GET", medium.URL, nil, 200, "image/jpeg", nil, 1000},
		{"head", "HEAD", small.URL, nil, 200, "image/png", []byte{}, 0},
		{"range", "GET", small.URL, http.Header{"Range": {"bytes=0-7"}}, 206, "image/png", smallBytes[:8], 0},
		{"suffix range", "GET", small.URL, http.Header{"Range": {"bytes=-4"}}, 206, "image/png", smallBytes[len(smallBytes)-4:], 0},
		{"bad range", "GET", small.URL, http.Header{"Range": {"bytes=999999-"}}, 416, "", nil, 0},
		{"if-none-match", "GET", small.URL, http.Header{"If-None-Match": {etag}}, 304, "", []byte{}, 0},
		{"if-none-match other", "GET", small.URL, http.Header{"If-None-Match": {`"other"`}}, 200, "image/png", smallBytes, 0},
		{"if-modified-since", "GET", small.URL, http.Header{"If-Modified-Since": {info.ModTime().UTC().Add(time.Second).Format(http.TimeFormat)}}, 304, "", []byte{}, 0},
		{"if-range stale", "GET", small.URL, http.Header{"Range": {"bytes=0-7"}, "If-Range": {`"stale"`}}, 200, "image/png", smallBytes, 0},
		{"if-range current", "GET", small.URL, http.Header{"Range": {"bytes=0-7"}, "If-Range": {etag}}, 206, "image/png", smallBytes[:8], 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := get(h, tt.method, tt.url, tt.header)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d (%s)", w.Code, tt.status, w.Body)
			}
			if tt.typ != "" {
				if got := w.Header().Get("Content-Type"); got != tt.typ {
					t.Errorf("Content-Type %q, want %q", got, tt.typ)
				}
			}
			if tt.status < 300 || tt.status == 304 {
				if got := w.Header().Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
					t.Errorf("Cache-Control %q", got)
				}
				if got := w.Header().Get("ETag"); got != etag && tt.url == small.URL {
					t.Errorf("ETag %q, want %q", got, etag)
				}
			}
			if tt.body != nil && !bytes.Equal(w.Body.Bytes(), tt.body) {
				t.Errorf("body: %d bytes, want %d", w.Body.Len(), len(tt.body))
			}
			if tt.body == nil && w.Body.Len() < tt.bodySize {
				t.Errorf("body: %d bytes, want at least %d", w.Body.Len(), tt.bodySize)
			}
		})
	}
	if !strings.HasPrefix(etag, `"`) || len(etag) < 5 {
		t.Errorf("ETag %q is not a strong validator", etag)
	}
	if got := first.Header().Get("Last-Modified"); got != info.ModTime().UTC().Format(http.TimeFormat) {
		t.Errorf("Last-Modified %q, want the file's time", got)
	}
	if got := first.Header().Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options %q", got)
	}
	if got := first.Header().Get("Content-Length"); got != "" && got != strconv.Itoa(len(smallBytes)) {
		t.Errorf("Content-Length %q, want %d", got, len(smallBytes))
	}
}

func TestHandlerRefuses(t *testing.T) {
	e := setup(t, openSQLite(t), &Food{})
	food := savedFood(t, e.db)
	small, err := food.Image.Thumbnail(context.Background(), "small")
	if err != nil {
		t.Fatal(err)
	}
	// files the storage holds that are not to be served
	dir := filepath.Dir(filepath.Join(e.root, small.Name))
	for name, content := range map[string]string{
		".tmp-123":    "half a thumbnail",
		".hidden.png": "a hidden file",
		"page.html":   "<script>alert(1)</script>",
		"image.svg":   "<svg/>",
		"secret.txt":  "secret",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	outside := filepath.Join(filepath.Dir(e.root), "outside.png")
	if err := os.WriteFile(outside, smallPNG(t, 1), 0o644); err != nil {
		t.Fatal(err)
	}
	thumbDir := "/media/" + pathDir(small.Name)
	h := newHandler(t, e.db, thumbnails.HandlerOptions{})

	tests := []struct {
		name   string
		method string
		target string
		status int
	}{
		{"the thumbnail", "GET", small.URL, 200},
		{"source: not served by default", "GET", food.Image.URL(), 404},
		{"post", "POST", small.URL, 405},
		{"delete", "DELETE", small.URL, 405},
		{"outside the prefix", "GET", "/static/" + small.Name, 404},
		{"the prefix itself", "GET", "/media/", 404},
		{"a folder", "GET", thumbDir + "/", 404},
		{"a folder without slash", "GET", strings.TrimSuffix(thumbDir, "/"), 404},
		{"the thumbnails folder", "GET", "/media/thumbnails", 404},
		{"dot dot", "GET", "/media/thumbnails/../../outside.png", 404},
		{"encoded dot dot", "GET", "/media/thumbnails/%2e%2e/%2e%2e/outside.png", 404},
		{"encoded slash dot dot", "GET", "/media/thumbnails%2f..%2f..%2foutside.png", 404},
		{"double slash", "GET", "/media//" + small.Name, 404},
		{"dot segment", "GET", "/media/./" + small.Name, 404},
		{"backslash", "GET", "/media/thumbnails\\..\\..\\outside.png", 404},
		{"encoded backslash", "GET", "/media/thumbnails%5c..%5c..%5coutside.png", 404},
		{"nul", "GET", "/media/thumbnails/a%00.png", 404},
		{"temporary file", "GET", thumbDir + "/.tmp-123", 404},
		{"hidden image", "GET", thumbDir + "/.hidden.png", 404},
		{"html", "GET", thumbDir + "/page.html", 404},
		{"svg", "GET", thumbDir + "/image.svg", 404},
		{"text", "GET", thumbDir + "/secret.txt", 404},
		{"missing thumbnail without key", "GET", "/media/thumbnails/foods/none_small.png", 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &http.Request{Method: tt.method, URL: mustParse(t, tt.target), Header: http.Header{}}
			r = r.WithContext(context.Background())
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.status {
				t.Fatalf("%s %s: status %d, want %d", tt.method, tt.target, w.Code, tt.status)
			}
			if tt.status != 200 && bytes.Contains(w.Body.Bytes(), []byte("<a href")) {
				t.Errorf("looks like a listing: %s", w.Body)
			}
			if tt.status == 405 && w.Header().Get("Allow") != "GET, HEAD" {
				t.Errorf("Allow %q", w.Header().Get("Allow"))
			}
		})
	}

	// with Sources, the source is served, with the same cache policy
	hs := newHandler(t, e.db, thumbnails.HandlerOptions{Sources: true})
	w := get(hs, "GET", food.Image.URL(), nil)
	if w.Code != 200 || w.Header().Get("Content-Type") != "image/jpeg" || !bytes.Equal(w.Body.Bytes(), photo(t, pizzaJPG)) {
		t.Errorf("source with Sources: %d %q, %d bytes", w.Code, w.Header().Get("Content-Type"), w.Body.Len())
	}
	if got := w.Header().Get("Cache-Control"); got != thumbnails.CacheImmutable {
		t.Errorf("source Cache-Control %q", got)
	}
	for _, target := range []string{thumbDir + "/page.html", "/media/thumbnails/../../outside.png"} {
		if w := get(hs, "GET", target, nil); w.Code != 404 {
			t.Errorf("with Sources, %s: %d", target, w.Code)
		}
	}

	// another prefix
	hp := newHandler(t, e.db, thumbnails.HandlerOptions{Prefix: "/img"})
	if w := get(hp, "GET", "/img/"+small.Name, nil); w.Code != 200 {
		t.Errorf("under Prefix /img: %d", w.Code)
	}
	if w := get(hp, "GET", small.URL, nil); w.Code != 404 {
		t.Errorf("under the storage's prefix with Prefix /img: %d", w.Code)
	}
}

func pathDir(name string) string { return name[:strings.LastIndex(name, "/")] }

// mustParse parses a request target as a server would, keeping what an
// attacker may send raw (httptest.NewRequest refuses some of it).
func mustParse(t *testing.T, target string) *url.URL {
	t.Helper()
	u, err := url.ParseRequestURI(target)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestHandlerNotRegistered(t *testing.T) {
	if _, err := thumbnails.Handler(openSQLite(t), thumbnails.HandlerOptions{}); !errors.Is(err, thumbnails.ErrNotRegistered) {
		t.Errorf("Handler on a db without the plugin: %v", err)
	}
}

func TestSigningKeyLength(t *testing.T) {
	err := thumbnails.Config{Sizes: testSizes(), SigningKey: []byte("short")}.Validate()
	if !errors.Is(err, thumbnails.ErrInvalidConfig) || !strings.Contains(err.Error(), "SigningKey") {
		t.Errorf("a 5-byte key: %v", err)
	}
	if err := (thumbnails.Config{Sizes: testSizes(), SigningKey: testKey}).Validate(); err != nil {
		t.Errorf("a 32-byte key: %v", err)
	}
}

// TestHandlerOnDemand generates a lazy size through a signed URL, on every
// metadata backend, and refuses every URL that is not the one signed.
func TestHandlerOnDemand(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setupWith(t, db, withKey, &Food{})
		food := savedFood(t, db)
		signed, err := food.Image.SignedURL("large")
		if err != nil {
			t.Fatal(err)
		}
		u := mustParse(t, signed)
		q := u.Query()
		if u.Path != "/media/thumbnails/"+strings.TrimSuffix(food.Image.Name(), ".jpg")+"_large.jpg" || q.Get("src") != food.Image.Name() || len(q.Get("sig")) != 43 {
			t.Fatalf("SignedURL = %q", signed)
		}
		h := newHandler(t, db, thumbnails.HandlerOptions{})
		otherSig := url.Values{"src": {food.Image.Name()}, "sig": {sigOf(t, food.Image, "medium")}}
		tamper := func(k, v string) string {
			q := u.Query()
			q.Set(k, v)
			return u.Path + "?" + q.Encode()
		}
		other := savedFood(t, db)
		saves := e.storage.saves.Load()
		for name, target := range map[string]string{
			"unsigned":                    u.Path,
			"no signature":                tamper("sig", ""),
			"tampered signature":          tamper("sig", strings.Repeat("A", 43)),
			"not base64":                  tamper("sig", "!!!"),
			"another source":              tamper("src", other.Image.Name()),
			"a source that does not fit":  tamper("src", "foods/x.jpg"),
			"an invalid source":           tamper("src", "../x.jpg"),
			"the signature of other size": u.Path + "?" + otherSig.Encode(),
		} {
			if w := get(h, "GET", target, nil); w.Code != http.StatusForbidden {
				t.Errorf("%s: status %d, want 403", name, w.Code)
			}
		}
		if got := e.storage.saves.Load(); got != saves {
			t.Fatalf("refused requests saved %d files", got-saves)
		}

		w := get(h, "GET", signed, nil)
		if w.Code != 200 || w.Header().Get("Content-Type") != "image/jpeg" || w.Header().Get("Cache-Control") != thumbnails.CacheImmutable {
			t.Fatalf("signed: %d %v", w.Code, w.Header())
		}
		cfg, format, err := image.DecodeConfig(w.Body)
		if err != nil || format != "jpeg" || cfg.Width != 1200 || cfg.Height != 800 {
			t.Fatalf("generated large: %+v %s %v", cfg, format, err)
		}
		if got := e.storage.saves.Load() - saves; got != 1 {
			t.Errorf("generation saved %d files, want 1", got)
		}
		recs, err := metadataOf(db).Thumbnails(context.Background(), food.Image.Name())
		if err != nil || recs["large"].Width != 1200 {
			t.Fatalf("large not recorded: %+v, %v", recs, err)
		}
		// once made, it is a file like any other: served unsigned, never made again
		for _, target := range []string{signed, u.Path} {
			if w := get(h, "GET", target, nil); w.Code != 200 {
				t.Errorf("%s after generation: %d", target, w.Code)
			}
		}
		if got := e.storage.saves.Load() - saves; got != 1 {
			t.Errorf("after more requests: %d saves, want 1", got)
		}
		// and the row's accessor finds it without generating it again
		var got Food
		if err := db.First(&got, food.ID).Error; err != nil {
			t.Fatal(err)
		}
		if l, err := got.Image.Thumbnail(context.Background(), "large"); err != nil || l.Width != 1200 || e.storage.saves.Load()-saves != 1 {
			t.Errorf("Thumbnail(large) after the handler made it: %+v, %v", l, err)
		}

		// a signed URL for a source whose file is gone: 404, nothing made
		if err := db.Delete(other).Error; err != nil {
			t.Fatal(err)
		}
		gone, err := other.Image.SignedURL("large")
		if err != nil {
			t.Fatal(err)
		}
		if w := get(h, "GET", gone, nil); w.Code != 404 {
			t.Errorf("signed URL of a deleted source: %d", w.Code)
		}
	})
}

// sigOf returns the sig parameter of img's signed URL of size.
func sigOf(t *testing.T, img field.Image, size string) string {
	t.Helper()
	s, err := img.SignedURL(size)
	if err != nil {
		t.Fatal(err)
	}
	return mustParse(t, s).Query().Get("sig")
}

func TestSignedURLErrors(t *testing.T) {
	e := setup(t, openSQLite(t), &Food{})
	food := savedFood(t, e.db)
	if _, err := food.Image.SignedURL("large"); !errors.Is(err, thumbnails.ErrNoSigningKey) {
		t.Errorf("without a key: %v", err)
	}
	if _, err := food.Image.SignedURL("gigantic"); !errors.Is(err, thumbnails.ErrUnknownSize) {
		t.Errorf("unknown size: %v", err)
	}
	var empty Food
	if err := e.db.Create(&empty).Error; err != nil {
		t.Fatal(err)
	}
	if got, err := empty.Image.SignedURL("large"); err != nil || got != "/static/none.png" {
		t.Errorf("empty column, size with a fallback: %q, %v", got, err)
	}
	if _, err := empty.Image.SignedURL("small"); !errors.Is(err, thumbnails.ErrNoSource) {
		t.Errorf("empty column, no fallback: %v", err)
	}
	var unbound field.Image
	if _, err := unbound.SignedURL("small"); !errors.Is(err, field.ErrNotBound) {
		t.Errorf("unbound: %v", err)
	}
	// a missing thumbnail is 404 without a key, whatever the query says
	h := newHandler(t, e.db, thumbnails.HandlerOptions{})
	stem := strings.TrimSuffix(food.Image.Name(), ".jpg")
	if w := get(h, "GET", "/media/thumbnails/"+stem+"_large.jpg?src="+url.QueryEscape(food.Image.Name())+"&sig=x", nil); w.Code != 404 {
		t.Errorf("missing thumbnail without a key: %d", w.Code)
	}
}

// TestHandlerOnDemandConcurrent sends many requests for one missing
// thumbnail at once, over a real loopback connection, and checks that one
// generation answers them all.
func TestHandlerOnDemandConcurrent(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setupWith(t, db, withKey, &Food{})
		food := savedFood(t, db)
		signed, err := food.Image.SignedURL("large")
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(newHandler(t, db, thumbnails.HandlerOptions{}))
		defer srv.Close()
		const n = 16
		saves := e.storage.saves.Load()
		bodies := make([][]byte, n)
		errs := make([]error, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				<-start
				resp, err := srv.Client().Get(srv.URL + signed)
				if err != nil {
					errs[i] = err
					return
				}
				defer resp.Body.Close()
				bodies[i], errs[i] = io.ReadAll(resp.Body)
				if resp.StatusCode != 200 {
					errs[i] = errors.New(resp.Status)
				}
			})
		}
		close(start)
		wg.Wait()
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("request %d: %v", i, errs[i])
			}
			if !bytes.Equal(bodies[i], bodies[0]) || len(bodies[i]) == 0 {
				t.Fatalf("request %d got %d bytes, request 0 got %d", i, len(bodies[i]), len(bodies[0]))
			}
		}
		if got := e.storage.saves.Load() - saves; got != 1 {
			t.Errorf("%d concurrent requests made %d generations (Storage.Save calls), want 1", n, got)
		}
	})
}

// lateStorage holds back the answer of the first Open of a name ending in
// suffix until release is closed: the request that made it found the file
// missing, and asks for the generation only after another request's
// generation has finished.
type lateStorage struct {
	backends.Storage
	suffix  string
	opens   atomic.Int64
	release chan struct{}
}

func (s *lateStorage) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	rc, err := s.Storage.Open(ctx, name)
	if strings.HasSuffix(name, s.suffix) && s.opens.Add(1) == 1 {
		<-s.release
	}
	return rc, err
}

// TestHandlerOnDemandLateRequest checks that a request which found the
// thumbnail missing, but asks for it once another request's generation has
// finished (so that there is no generation in flight to join), is served
// the thumbnail made, without a second generation.
func TestHandlerOnDemandLateRequest(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		late := &lateStorage{suffix: "_large.jpg", release: make(chan struct{})}
		e := setupWith(t, db, func(c *thumbnails.Config) {
			withKey(c)
			late.Storage = c.Storage
			c.Storage = late
		}, &Food{})
		food := savedFood(t, db)
		signed, err := food.Image.SignedURL("large")
		if err != nil {
			t.Fatal(err)
		}
		h := newHandler(t, db, thumbnails.HandlerOptions{})
		saves := e.storage.saves.Load()
		first := make(chan *httptest.ResponseRecorder)
		go func() { first <- get(h, "GET", signed, nil) }()
		for late.opens.Load() == 0 { // the first request has found it missing
			time.Sleep(time.Millisecond)
		}
		if w := get(h, "GET", signed, nil); w.Code != 200 {
			t.Fatalf("second request: %d", w.Code)
		}
		close(late.release)
		if w := <-first; w.Code != 200 || w.Body.Len() == 0 {
			t.Fatalf("first request: %d, %d bytes", w.Code, w.Body.Len())
		}
		if got := e.storage.saves.Load() - saves; got != 1 {
			t.Errorf("two requests made %d generations, want 1", got)
		}
	})
}
