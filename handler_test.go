package thumbnails_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/disintegration/gift"
	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails"
	"github.com/gorm-thumbnails/thumbnails/backends"
	"github.com/gorm-thumbnails/thumbnails/processors"
)

// testKey is the signing key of the tests' on-demand URLs.
var testKey = []byte("0123456789abcdef0123456789abcdef")

// withKey turns on-demand generation on, with lightLarge.
func withKey(c *thumbnails.Config) {
	c.SigningKey = testKey
	lightLarge(c)
}

// lightLarge makes the lazy size large fit 300x300 rather than 1200x1200:
// the tests that generate it on demand run on every backend under the race
// detector, where a 1200-pixel thumbnail is what takes the time.
func lightLarge(c *thumbnails.Config) {
	large := c.Sizes["large"]
	large.Processors = []gift.Filter{processors.Resize(processors.Px(300), processors.Px(300), processors.Fit)}
	c.Sizes["large"] = large
}

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

// TestHandlerBaseDirForms checks that a BaseDir written with a trailing
// slash or a leading "./" names the same folder as its clean form: the
// thumbnails are stored there, and the handler serves them.
func TestHandlerBaseDirForms(t *testing.T) {
	for _, dir := range []string{"thumbs", "thumbs/", "./thumbs", "thumbs//"} {
		t.Run(dir, func(t *testing.T) {
			e := setupSizesConfig(t, openSQLite(t), thumbnails.Config{Sizes: testSizes(), BaseDir: dir}, &Food{})
			food := savedFood(t, e.db)
			small, err := food.Image.Thumbnail(context.Background(), "small")
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(small.Name, "thumbs/") || strings.Contains(small.Name, "//") {
				t.Errorf("thumbnail stored as %q, want it under thumbs/", small.Name)
			}
			w := get(newHandler(t, e.db, thumbnails.HandlerOptions{}), http.MethodGet, small.URL, nil)
			if w.Code != http.StatusOK {
				t.Errorf("GET %s: %d, want 200", small.URL, w.Code)
			}
		})
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
		{"a name longer than the file system takes", "GET", "/media/thumbnails/" + strings.Repeat("a/", 3000) + "x.png", 404},
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

// plainOpens is a real storage whose Open returns a bare reader, with no
// size, time or Seek: as a storage of the caller's might.
type plainOpens struct{ backends.Storage }

func (s plainOpens) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	rc, err := s.Storage.Open(ctx, name)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	return io.NopCloser(bytes.NewReader(data)), err
}

// TestHandlerETagOfAnyStorage checks that a storage whose files are bare
// readers still gets a strong ETag (of the content), so that a browser's
// revalidation is a 304.
func TestHandlerETagOfAnyStorage(t *testing.T) {
	db := openSQLite(t)
	base, _ := newStorage(t, db)
	usePlugin(t, db, thumbnails.Config{Sizes: testSizes(), Storage: plainOpens{base}}, &Food{})
	food := savedFood(t, db)
	small, err := food.Image.Thumbnail(context.Background(), "small")
	if err != nil {
		t.Fatal(err)
	}
	h := newHandler(t, db, thumbnails.HandlerOptions{})
	first := get(h, http.MethodGet, small.URL, nil)
	etag := first.Header().Get("ETag")
	if first.Code != http.StatusOK || !strings.HasPrefix(etag, `"`) || len(etag) < 10 {
		t.Fatalf("GET: %d, ETag %q", first.Code, etag)
	}
	if again := get(h, http.MethodGet, small.URL, nil); again.Header().Get("ETag") != etag {
		t.Errorf("the ETag changed between two GETs: %q, %q", etag, again.Header().Get("ETag"))
	}
	if w := get(h, http.MethodGet, small.URL, http.Header{"If-None-Match": {etag}}); w.Code != http.StatusNotModified {
		t.Errorf("If-None-Match with the ETag: %d, want 304", w.Code)
	}
	medium, err := food.Image.Thumbnail(context.Background(), "medium")
	if err != nil {
		t.Fatal(err)
	}
	if other := get(h, http.MethodGet, medium.URL, nil).Header().Get("ETag"); other == etag {
		t.Errorf("two files share the ETag %q", etag)
	}
}

// zeroTimeOpens is a real storage whose files have a size but no
// modification time, as some object stores report them.
type zeroTimeOpens struct{ backends.Storage }

type zeroTimeFile struct{ *bytes.Reader }

func (f zeroTimeFile) Close() error { return nil }
func (f zeroTimeFile) Size() int64  { return f.Reader.Size() }
func (zeroTimeFile) ModTime() time.Time {
	return time.Time{}
}

func (s zeroTimeOpens) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	rc, err := s.Storage.Open(ctx, name)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	return zeroTimeFile{bytes.NewReader(data)}, err
}

// TestHandlerETagWithoutTime checks that two files of one size and no
// modification time do not share an ETag (it hashes their content).
func TestHandlerETagWithoutTime(t *testing.T) {
	db := openSQLite(t)
	base, raw := newStorage(t, db)
	usePlugin(t, db, thumbnails.Config{Sizes: testSizes(), Storage: zeroTimeOpens{base}}, &Food{})
	a, b := savedFood(t, db), savedFood(t, db)
	sa, _ := a.Image.Thumbnail(context.Background(), "small")
	sb, _ := b.Image.Thumbnail(context.Background(), "small")
	// Two different files of the same size.
	da := raw.read(t, sa.Name)
	db2 := append([]byte(nil), da...)
	db2[len(db2)-20] ^= 0xff
	raw.write(t, sb.Name, db2)
	h := newHandler(t, db, thumbnails.HandlerOptions{})
	ea, eb := get(h, http.MethodGet, sa.URL, nil).Header().Get("ETag"), get(h, http.MethodGet, sb.URL, nil).Header().Get("ETag")
	if ea == "" || ea == eb {
		t.Errorf("ETags %q and %q: want two, different", ea, eb)
	}
}

// secondsOpens is a real storage whose files tell their modification time
// in whole seconds, as S3 does, and all the same one here: a file
// rewritten under its name within the second.
type secondsOpens struct{ backends.Storage }

type secondsFile struct{ zeroTimeFile }

func (secondsFile) ModTime() time.Time { return time.Unix(1_700_000_000, 0) }

func (s secondsOpens) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	rc, err := s.Storage.Open(ctx, name)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	return secondsFile{zeroTimeFile{bytes.NewReader(data)}}, err
}

// TestHandlerETagOfARewriteWithinTheSecond rewrites a thumbnail under its
// name (Regenerate after a change of its size) with other bytes of the same
// length, within the second of a storage that tells whole seconds: the
// ETag changes, and a revalidation with the old one gets the new bytes.
func TestHandlerETagOfARewriteWithinTheSecond(t *testing.T) {
	db := openSQLite(t)
	base, raw := newStorage(t, db)
	usePlugin(t, db, thumbnails.Config{Sizes: testSizes(), Storage: secondsOpens{base}}, &Food{})
	food := savedFood(t, db)
	small, err := food.Image.Thumbnail(context.Background(), "small")
	if err != nil {
		t.Fatal(err)
	}
	h := newHandler(t, db, thumbnails.HandlerOptions{})
	before := get(h, http.MethodGet, small.URL, nil).Header().Get("ETag")
	if get(h, http.MethodGet, small.URL, nil).Header().Get("ETag") != before {
		t.Fatal("the ETag changed between two GETs of the same bytes")
	}
	data := raw.read(t, small.Name)
	data[len(data)-20] ^= 0xff
	raw.write(t, small.Name, data)
	after := get(h, http.MethodGet, small.URL, nil).Header().Get("ETag")
	if before == "" || after == before {
		t.Errorf("ETag %q before the rewrite, %q after: want two, different", before, after)
	}
	if w := get(h, http.MethodGet, small.URL, http.Header{"If-None-Match": {before}}); w.Code != http.StatusOK || !bytes.Equal(w.Body.Bytes(), data) {
		t.Errorf("revalidation with the old ETag: %d, want 200 with the new bytes", w.Code)
	}
}

// countedFile is a secondsFile that counts the bytes read from it.
type countedFile struct {
	secondsFile
	read *atomic.Int64
}

func (f countedFile) Read(p []byte) (int, error) {
	n, err := f.secondsFile.Read(p)
	f.read.Add(int64(n))
	return n, err
}

// countedOpens is secondsOpens counting the bytes read from its files.
type countedOpens struct {
	secondsOpens
	read *atomic.Int64
}

func (s countedOpens) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	rc, err := s.secondsOpens.Open(ctx, name)
	if err != nil {
		return nil, err
	}
	return countedFile{rc.(secondsFile), s.read}, nil
}

// TestHandlerRangeOfASourceInWholeSeconds asks for 100 bytes of a source
// on a storage that tells whole seconds: a source is never rewritten under
// its name, so it is not read whole to be hashed, only the range is.
func TestHandlerRangeOfASourceInWholeSeconds(t *testing.T) {
	db := openSQLite(t)
	base, _ := newStorage(t, db)
	read := new(atomic.Int64)
	usePlugin(t, db, thumbnails.Config{Sizes: testSizes(), Storage: countedOpens{secondsOpens{base}, read}}, &Food{})
	food := savedFood(t, db)
	h := newHandler(t, db, thumbnails.HandlerOptions{Sources: true})
	read.Store(0)
	w := get(h, http.MethodGet, food.Image.URL(), http.Header{"Range": {"bytes=0-99"}})
	if w.Code != http.StatusPartialContent || w.Body.Len() != 100 || w.Header().Get("ETag") == "" {
		t.Fatalf("range of a source: %d, %d bytes, ETag %q", w.Code, w.Body.Len(), w.Header().Get("ETag"))
	}
	if n := read.Load(); n > 4096 {
		t.Errorf("serving 100 bytes of the source read %d bytes of it", n)
	}
}

// TestHandlerOfAProcessThatNeverUsedTheModel serves a lazy size's signed
// URL from a process that has not used the model, with thumbnails_columns
// empty (rows written before the plugin recorded columns): it knows no
// column that holds the source, but the source is not let go of (not
// queued for a clean-up, still stored), so the size is made and kept.
func TestHandlerOfAProcessThatNeverUsedTheModel(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e, food, signed := signedFood(t, db)
		other, err := gorm.Open(db.Dialector, gormConfig())
		if err != nil {
			t.Fatal(err)
		}
		cfg := thumbnails.Config{Sizes: testSizes(), Storage: e.storage}
		withKey(&cfg)
		if m, ok := redisMetadata.Load(db); ok {
			cfg.Metadata = m.(backends.Metadata)
		}
		usePlugin(t, other, cfg)
		if err := db.Exec("DELETE FROM thumbnails_columns").Error; err != nil {
			t.Fatal(err)
		}
		h := newHandler(t, other, thumbnails.HandlerOptions{})
		for range 2 {
			if w := get(h, "GET", signed, nil); w.Code != http.StatusOK {
				t.Fatalf("signed lazy size from a process that never used Food: status %d", w.Code)
			}
		}
		if th, err := food.Image.Thumbnail(context.Background(), "large"); err != nil || !e.exists(t, th.Name) {
			t.Errorf("large after the handler made it: %+v, %v", th, err)
		}
	})
}

// TestBaseURLWithAQuery serves a storage whose base URL carries a query (a
// CDN's cache buster) and lacks its final "/": the names go into the
// path, the query stays at the end, and the handler serves the URLs, the
// signed one of a lazy size too.
func TestBaseURLWithAQuery(t *testing.T) {
	db := openSQLite(t)
	root := t.TempDir()
	cfg := thumbnails.Config{Sizes: testSizes(), Storage: backends.NewFileSystemStorage(root, "https://cdn.example.com/x?v=1")}
	withKey(&cfg)
	usePlugin(t, db, cfg, &Food{})
	food := savedFood(t, db)
	small, err := food.Image.Thumbnail(context.Background(), "small")
	if err != nil {
		t.Fatal(err)
	}
	if want := "https://cdn.example.com/x/" + small.Name + "?v=1"; small.URL != want {
		t.Errorf("URL = %q, want %q", small.URL, want)
	}
	h := newHandler(t, db, thumbnails.HandlerOptions{})
	if w := get(h, http.MethodGet, small.URL, nil); w.Code != http.StatusOK || w.Body.Len() == 0 {
		t.Errorf("GET %s: %d", small.URL, w.Code)
	}
	signed, err := food.Image.SignedURL("large")
	if err != nil {
		t.Fatal(err)
	}
	if w := get(h, http.MethodGet, signed, nil); w.Code != http.StatusOK {
		t.Errorf("GET %s: %d", signed, w.Code)
	}

	// A fragment stays at the end, after the signature.
	db2 := openSQLite(t)
	cfg.Storage = backends.NewFileSystemStorage(t.TempDir(), "/media?v=2#gallery")
	usePlugin(t, db2, cfg, &Food{})
	food = savedFood(t, db2)
	signed, err = food.Image.SignedURL("large")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(signed, "#gallery") || !strings.Contains(signed, "?v=2&") {
		t.Errorf("signed URL %q: want the signature in the query, the fragment at the end", signed)
	}
	sent, _, _ := strings.Cut(signed, "#") // a browser does not send the fragment
	if w := get(newHandler(t, db2, thumbnails.HandlerOptions{}), http.MethodGet, sent, nil); w.Code != http.StatusOK {
		t.Errorf("GET %s: %d", signed, w.Code)
	}
}

// TestBaseURLQueryNamedLikeASignedURLs: a base URL whose query has a
// parameter of the signed URL's own (src, sig, focus) still gives signed
// URLs the handler serves: the signed URL's parameters come last, and the
// handler reads the last.
func TestBaseURLQueryNamedLikeASignedURLs(t *testing.T) {
	for _, base := range []string{"/media?src=web", "/media/?sig=1", "/media?focus=top&v=2", "/media?src=a&sig=b&focus=0.1,0.2"} {
		t.Run(base, func(t *testing.T) {
			db := openSQLite(t)
			cfg := thumbnails.Config{Sizes: testSizes(), Storage: backends.NewFileSystemStorage(t.TempDir(), base)}
			withKey(&cfg)
			usePlugin(t, db, cfg, &Food{})
			food := savedFood(t, db)
			signed, err := food.Image.SignedURL("large")
			if err != nil {
				t.Fatal(err)
			}
			if w := get(newHandler(t, db, thumbnails.HandlerOptions{}), http.MethodGet, signed, nil); w.Code != http.StatusOK {
				t.Errorf("GET %s: %d, want 200", signed, w.Code)
			}
		})
	}
}
