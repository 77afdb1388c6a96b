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

// TestHandlerOnDemand generates a lazy size through a signed URL, on every
// metadata backend, and refuses every URL that is not the one signed.
func TestHandlerOnDemand(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e, food, signed := signedFood(t, db)
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
		if err != nil || format != "jpeg" || cfg.Width != 300 || cfg.Height != 200 {
			t.Fatalf("generated large: %+v %s %v", cfg, format, err)
		}
		if got := e.storage.saves.Load() - saves; got != 1 {
			t.Errorf("generation saved %d files, want 1", got)
		}
		recs, err := metadataOf(db).Thumbnails(context.Background(), food.Image.Name())
		if err != nil || recs["large"].Width != 300 {
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
		if l, err := got.Image.Thumbnail(context.Background(), "large"); err != nil || l.Width != 300 || e.storage.saves.Load()-saves != 1 {
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

// TestSignedURLErrors checks SignedURL's errors: without a key it fails with
// ErrNoSigningKey whatever the row and the size (a misconfiguration, found
// on the first page rendered, not on the first row with an image); with
// one, as Thumbnail does for an unknown size or an empty column.
func TestSignedURLErrors(t *testing.T) {
	e := setup(t, openSQLite(t), &Food{})
	food := savedFood(t, e.db)
	var empty Food
	if err := e.db.Create(&empty).Error; err != nil {
		t.Fatal(err)
	}
	discarded := newFood(t, "a", pizzaJPG)
	if err := e.db.Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&discarded).Error; err != nil {
			return err
		}
		return errors.New("roll back")
	}); err == nil {
		t.Fatal("the transaction did not fail")
	}
	images := map[string]field.Image{"image": food.Image, "empty column": empty.Image, "discarded image": discarded.Image}
	for _, size := range []string{"large", "small", "gigantic"} {
		for name, img := range images {
			if got, err := img.SignedURL(size); !errors.Is(err, thumbnails.ErrNoSigningKey) || got != "" {
				t.Errorf("%s, size %q, without a key: %q, %v; want ErrNoSigningKey", name, size, got, err)
			}
		}
	}
	// a missing thumbnail is 404 without a key, whatever the query says
	h := newHandler(t, e.db, thumbnails.HandlerOptions{})
	stem := strings.TrimSuffix(food.Image.Name(), ".jpg")
	if w := get(h, "GET", "/media/thumbnails/"+stem+"_large.jpg?src="+url.QueryEscape(food.Image.Name())+"&sig=x", nil); w.Code != 404 {
		t.Errorf("missing thumbnail without a key: %d", w.Code)
	}

	e = setupWith(t, openSQLite(t), withKey, &Food{})
	food = savedFood(t, e.db)
	if _, err := food.Image.SignedURL("gigantic"); !errors.Is(err, thumbnails.ErrUnknownSize) {
		t.Errorf("unknown size: %v", err)
	}
	empty = Food{}
	if err := e.db.Create(&empty).Error; err != nil {
		t.Fatal(err)
	}
	if _, err := empty.Image.SignedURL("gigantic"); !errors.Is(err, thumbnails.ErrUnknownSize) {
		t.Errorf("empty column, unknown size: %v", err)
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

// signedFood saves a Food with the plugin set up on db to sign URLs, and
// returns it with the signed URL of its lazy size large.
func signedFood(t *testing.T, db *gorm.DB) (*env, *Food, string) {
	t.Helper()
	e := setupWith(t, db, withKey, &Food{})
	food := savedFood(t, db)
	signed, err := food.Image.SignedURL("large")
	if err != nil {
		t.Fatal(err)
	}
	return e, food, signed
}
