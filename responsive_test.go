package thumbnails_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"html/template"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails"
	"github.com/gorm-thumbnails/thumbnails/backends"
	"github.com/gorm-thumbnails/thumbnails/field"
)

// TestSrcSet checks the srcset and img attributes of a saved and of a
// preloaded row, on every metadata backend.
func TestSrcSet(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setupWith(t, db, func(c *thumbnails.Config) { withPlaceholders(c); lightLarge(c) }, &Food{})
		ctx := context.Background()
		food := savedFood(t, db)
		stem := "/media/thumbnails/" + strings.TrimSuffix(food.Image.Name(), ".jpg")

		var loaded Food
		if err := db.Scopes(thumbnails.Preload()).First(&loaded, food.ID).Error; err != nil {
			t.Fatal(err)
		}
		trips := metadataRoundTrips(t, db)
		saves := e.storage.saves.Load()

		tests := []struct {
			name  string
			sizes []string
			want  string
		}{
			{"one size", []string{"medium"}, stem + "_medium.jpg 400w"},
			{"two sizes", []string{"small", "medium"}, stem + "_small.png 100w, " + stem + "_medium.jpg 400w"},
			{"order kept", []string{"medium", "small"}, stem + "_medium.jpg 400w, " + stem + "_small.png 100w"},
			{"a width twice", []string{"small", "SMALL", "medium"}, stem + "_small.png 100w, " + stem + "_medium.jpg 400w"},
		}
		for _, tt := range tests {
			for _, img := range []*field.Image{&food.Image, &loaded.Image} {
				got, err := img.SrcSet(ctx, tt.sizes...)
				if err != nil || got != tt.want {
					t.Errorf("%s: SrcSet(%q) = %q, %v; want %q", tt.name, tt.sizes, got, err, tt.want)
				}
			}
		}
		if n := trips(); n != 0 {
			t.Errorf("SrcSet of sizes that exist: %d metadata round trips, want 0", n)
		}
		if n := e.storage.saves.Load() - saves; n != 0 {
			t.Errorf("SrcSet of sizes that exist saved %d files", n)
		}

		// a lazy size is made, as Thumbnail does
		got, err := loaded.Image.SrcSet(ctx, "small", "medium", "large")
		if want := stem + "_small.png 100w, " + stem + "_medium.jpg 400w, " + stem + "_large.jpg 300w"; err != nil || got != want {
			t.Errorf("SrcSet with the lazy size = %q, %v; want %q", got, err, want)
		}
		if n := e.storage.saves.Load() - saves; n != 1 {
			t.Errorf("SrcSet with the lazy size saved %d files, want 1", n)
		}

		// Responsive: the first size is the default
		r, err := loaded.Image.Responsive(ctx, "medium", "large")
		if err != nil {
			t.Fatal(err)
		}
		if r.Src != stem+"_medium.jpg" || r.Width != 400 || r.Height != 267 || r.Sizes != "400px" ||
			r.SrcSet != stem+"_medium.jpg 400w, "+stem+"_large.jpg 300w" || !strings.HasPrefix(r.Placeholder, "data:image/png;base64,") {
			t.Errorf("Responsive = %+v", r)
		}

		if _, err := loaded.Image.SrcSet(ctx, "small", "gigantic"); !errors.Is(err, thumbnails.ErrUnknownSize) {
			t.Errorf("SrcSet of an unknown size: %v", err)
		}
		if _, err := loaded.Image.Responsive(ctx); err == nil {
			t.Error("Responsive of no size: no error")
		}
	})
}

// TestResponsiveAttr renders an img element with html/template and checks
// the attributes a browser gets.
func TestResponsiveAttr(t *testing.T) {
	db := openSQLite(t)
	setupWith(t, db, withPlaceholders, &Food{})
	ctx := context.Background()
	food := savedFood(t, db)
	var empty Food
	if err := db.Create(&empty).Error; err != nil {
		t.Fatal(err)
	}
	tmpl := template.Must(template.New("img").Parse(`<img {{.Attr}} alt="{{.Alt}}">`))
	render := func(r field.Responsive, alt string) string {
		var buf bytes.Buffer
		if err := tmpl.Execute(&buf, struct {
			field.Responsive
			Alt string
		}{r, alt}); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}

	r, err := food.Image.Responsive(ctx, "small", "medium")
	if err != nil {
		t.Fatal(err)
	}
	html := render(r, `a "pizza" <b>`)
	stem := "/media/thumbnails/" + strings.TrimSuffix(food.Image.Name(), ".jpg")
	for _, want := range []string{
		`src="` + stem + `_small.png"`,
		`srcset="` + stem + `_small.png 100w, ` + stem + `_medium.jpg 400w"`,
		`sizes="100px"`, `width="100"`, `height="100"`,
		`style="background:url(&#39;data:image/png;base64,`, `&#39;) center/cover no-repeat"`,
		`alt="a &#34;pizza&#34; &lt;b&gt;"`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("%s\nlacks %s", html, want)
		}
	}
	if strings.Contains(html, "ZgotmplZ") {
		t.Errorf("html/template refused a value: %s", html)
	}

	// values are escaped; a placeholder that is not a plain data: URI is left out
	hostile := field.Responsive{Src: `/a.jpg" onerror="alert(1)`, SrcSet: "/a.jpg 1w", Sizes: "1px", Width: 1, Height: 1, Placeholder: `data:image/png,x') ; background:url(http://evil/`}
	got := render(hostile, "")
	if strings.Contains(got, `" onerror="`) || strings.Contains(got, "evil") {
		t.Errorf("not escaped: %s", got)
	}
	if !regexp.MustCompile(`^<img src="/a.jpg&#34; onerror=&#34;alert\(1\)" srcset="/a.jpg 1w" sizes="1px" width="1" height="1" alt="">$`).MatchString(got) {
		t.Errorf("hostile values rendered as %s", got)
	}

	// an empty column: its fallback, nothing else
	r, err = empty.Image.Responsive(ctx, "large", "small")
	if err != nil || r != (field.Responsive{Src: "/static/none.png"}) {
		t.Errorf("Responsive of an empty column = %+v, %v", r, err)
	}
	if got := render(r, "none"); got != `<img src="/static/none.png" alt="none">` {
		t.Errorf("empty column renders %s", got)
	}
	if p, err := empty.Image.Placeholder(ctx); err != nil || p != "" {
		t.Errorf("Placeholder of an empty column = %q, %v", p, err)
	}
}

// TestResponsiveOfAnEmptyColumn checks SrcSet and Responsive of an empty
// column: the first size's fallback URL as Src, if it has one, and nothing
// else, without an error when it has none (as SrcSet's ""); but the sizes
// are checked as for a row with an image, so that a size that is not the
// column's fails with ErrUnknownSize on every row, not only once one has
// an image.
func TestResponsiveOfAnEmptyColumn(t *testing.T) {
	db := openSQLite(t)
	setupWith(t, db, withPlaceholders, &Food{})
	ctx := context.Background()
	var empty Food
	if err := db.Create(&empty).Error; err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		sizes []string
		want  field.Responsive
	}{
		{[]string{"small"}, field.Responsive{}},
		{[]string{"small", "large"}, field.Responsive{}},
		{[]string{"large", "small"}, field.Responsive{Src: "/static/none.png"}},
		{[]string{"LARGE"}, field.Responsive{Src: "/static/none.png"}},
	} {
		if r, err := empty.Image.Responsive(ctx, tt.sizes...); err != nil || r != tt.want {
			t.Errorf("Responsive%q = %+v, %v; want %+v", tt.sizes, r, err, tt.want)
		}
		if s, err := empty.Image.SrcSet(ctx, tt.sizes...); err != nil || s != "" {
			t.Errorf("SrcSet%q = %q, %v; want \"\"", tt.sizes, s, err)
		}
	}
	for _, sizes := range [][]string{{"gigantic"}, {"small", "gigantic"}, {"large", "gigantic"}} {
		if r, err := empty.Image.Responsive(ctx, sizes...); !errors.Is(err, thumbnails.ErrUnknownSize) || r != (field.Responsive{}) {
			t.Errorf("Responsive%q = %+v, %v; want ErrUnknownSize", sizes, r, err)
		}
		if s, err := empty.Image.SrcSet(ctx, sizes...); !errors.Is(err, thumbnails.ErrUnknownSize) || s != "" {
			t.Errorf("SrcSet%q = %q, %v; want ErrUnknownSize", sizes, s, err)
		}
	}
	// no size at all fails as it does for a row with an image
	food := savedFood(t, db)
	_, want := food.Image.SrcSet(ctx)
	if _, err := empty.Image.SrcSet(ctx); err == nil || err.Error() != want.Error() {
		t.Errorf("SrcSet() = %v; want %v", err, want)
	}
}

func TestResponsiveUnbound(t *testing.T) {
	ctx := context.Background()
	var img field.Image
	if err := img.Scan("foods/a.jpg"); err != nil {
		t.Fatal(err)
	}
	if _, err := img.SrcSet(ctx, "small"); !errors.Is(err, field.ErrNotBound) {
		t.Errorf("SrcSet: %v", err)
	}
	if _, err := img.Responsive(ctx, "small"); !errors.Is(err, field.ErrNotBound) {
		t.Errorf("Responsive: %v", err)
	}
	if _, err := img.Placeholder(ctx); !errors.Is(err, field.ErrNotBound) {
		t.Errorf("Placeholder: %v", err)
	}
}

// TestSrcSetOfABaseURLWithSpaces checks that a space in the storage's base
// URL, which would split a srcset candidate in two, is percent-encoded
// there, and that the Handler serves what the srcset names.
func TestSrcSetOfABaseURLWithSpaces(t *testing.T) {
	db := openSQLite(t)
	root := t.TempDir()
	setupWith(t, db, func(c *thumbnails.Config) {
		c.Storage = backends.NewFileSystemStorage(root, "/my media,v2/")
	}, &Food{})
	ctx := context.Background()
	food := savedFood(t, db)
	small, err := food.Image.Thumbnail(ctx, "small")
	if err != nil {
		t.Fatal(err)
	}
	set, err := food.Image.SrcSet(ctx, "small", "medium")
	if err != nil {
		t.Fatal(err)
	}
	stem := "/my%20media,v2/thumbnails/" + strings.TrimSuffix(food.Image.Name(), ".jpg")
	if want := stem + "_small.png 100w, " + stem + "_medium.jpg 400w"; set != want {
		t.Fatalf("SrcSet = %q, want %q", set, want)
	}
	// Its first candidate, as a browser splits it (at whitespace), is
	// served: the small thumbnail's bytes.
	h, err := thumbnails.Handler(db, thumbnails.HandlerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, strings.Fields(set)[0], nil))
	want, err := os.ReadFile(filepath.Join(root, small.Name))
	if err != nil {
		t.Fatal(err)
	}
	if rec.Code != http.StatusOK || !bytes.Equal(rec.Body.Bytes(), want) {
		t.Errorf("GET %s: %d, %d bytes; want 200 and the %d bytes of %s", strings.Fields(set)[0], rec.Code, rec.Body.Len(), len(want), small.Name)
	}
}

// TestAttrOfATransparentImage: the placeholder of an image with
// transparency would show through its transparent pixels once it has
// loaded, so Attr leaves it out; Placeholder still has it.
func TestAttrOfATransparentImage(t *testing.T) {
	db := openSQLite(t)
	setupWith(t, db, withPlaceholders, &Food{})
	square := image.NewNRGBA(image.Rect(0, 0, 400, 400)) // transparent but for a red square
	draw.Draw(square, image.Rect(150, 150, 250, 250), image.NewUniform(color.NRGBA{R: 255, A: 255}), image.Point{}, draw.Src)
	var buf bytes.Buffer
	if err := png.Encode(&buf, square); err != nil {
		t.Fatal(err)
	}
	food := Food{Name: "square", Image: field.NewImage("square.png", &buf)}
	if err := db.Create(&food).Error; err != nil {
		t.Fatal(err)
	}
	r, err := food.Image.Responsive(context.Background(), "small", "medium")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(r.Placeholder, "data:image/png;base64,") {
		t.Fatalf("Placeholder = %q, want a data: URI", r.Placeholder)
	}
	if attr := string(r.Attr()); strings.Contains(attr, "style=") || !strings.Contains(attr, "srcset=") {
		t.Errorf("Attr of a transparent image = %s, want no placeholder style", attr)
	}
}

// TestAttrOfATransparentImageAsJPEG: a transparent source whose sizes are
// all JPEG (flattened, opaque) keeps its placeholder: nothing shows
// through.
func TestAttrOfATransparentImageAsJPEG(t *testing.T) {
	r := field.Responsive{Src: "/a_small.jpg", SrcSet: "/a_small.jpg 100w, /a_medium.JPEG?v=2 400w", Width: 100, Height: 100}
	square := image.NewNRGBA(image.Rect(0, 0, 4, 4)) // transparent
	var buf bytes.Buffer
	if err := png.Encode(&buf, square); err != nil {
		t.Fatal(err)
	}
	r.Placeholder = "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())
	if attr := string(r.Attr()); !strings.Contains(attr, "style=") {
		t.Errorf("Attr with JPEG sizes = %s, want the placeholder style", attr)
	}
	r.SrcSet += ", /a_large.png 800w"
	if attr := string(r.Attr()); strings.Contains(attr, "style=") {
		t.Errorf("Attr with a PNG size = %s, want no placeholder style", attr)
	}
}

// TestResponsiveLeavesOutPendingSizes: under PendingError, an async size
// whose job has not run is left out of a srcset, as a size answering with
// its fallback is, so that a page shows the sizes that exist instead of
// failing; the first size that exists is the default. Only when none of the
// sizes exists is the error returned.
func TestResponsiveLeavesOutPendingSizes(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		q := &memoryEnqueuer{}
		setupSizesConfig(t, db, thumbnails.Config{Sizes: asyncSizes(), Enqueuer: q, OnPending: thumbnails.PendingError}, &Poster{})
		p := Poster{Image: field.NewImage("p.jpg", reader(photo(t, pizzaJPG)))}
		if err := db.Create(&p).Error; err != nil {
			t.Fatal(err)
		}
		stem := "/media/thumbnails/" + strings.TrimSuffix(p.Image.Name(), ".jpg")

		if got, err := p.Image.SrcSet(ctx, "small", "later"); err != nil || got != stem+"_small.jpg 100w" {
			t.Errorf("SrcSet before the job = %q, %v; want the small size alone", got, err)
		}
		r, err := p.Image.Responsive(ctx, "later", "small")
		if err != nil || r.Src != stem+"_small.jpg" || r.Width != 100 || r.Height != 100 || r.Sizes != "100px" {
			t.Errorf("Responsive before the job = %+v, %v; want the small size as the default", r, err)
		}
		if _, err := p.Image.SrcSet(ctx, "later"); !errors.Is(err, thumbnails.ErrPending) {
			t.Errorf("SrcSet of the pending size alone: %v, want ErrPending", err)
		}
		if _, err := p.Image.SrcSet(ctx, "later", "nope"); !errors.Is(err, thumbnails.ErrUnknownSize) {
			t.Errorf("SrcSet with an unknown size: %v, want ErrUnknownSize", err)
		}

		if len(q.jobs) != 1 {
			t.Fatalf("jobs: %v", q.jobs)
		}
		if err := thumbnails.Generate(ctx, db, q.jobs[0]); err != nil {
			t.Fatal(err)
		}
		want := stem + "_later.jpg 300w, " + stem + "_small.jpg 100w"
		if got, err := p.Image.SrcSet(ctx, "later", "small"); err != nil || !strings.HasPrefix(got, stem+"_later.jpg ") || !strings.HasSuffix(got, ", "+stem+"_small.jpg 100w") {
			t.Errorf("SrcSet after the job = %q, %v; want %q", got, err, want)
		}
	})
}

// TestResponsiveWithAFallbackFirst: the default size is async, its job has
// not run, and it answers with its fallback URL: src is the fallback, the
// srcset lists the size that exists, and width, height and sizes are that
// size's, which a browser shows (without sizes it would stretch it to the
// window's width).
func TestResponsiveWithAFallbackFirst(t *testing.T) {
	db := openSQLite(t)
	set := asyncSizes()
	later := set["later"]
	later.FallbackImageURL = "/static/wait.png"
	set["later"] = later
	setupSizesConfig(t, db, thumbnails.Config{Sizes: set, Enqueuer: &memoryEnqueuer{}}, &Poster{})
	p := Poster{Image: field.NewImage("p.jpg", reader(photo(t, pizzaJPG)))}
	if err := db.Create(&p).Error; err != nil {
		t.Fatal(err)
	}
	small := "/media/thumbnails/" + strings.TrimSuffix(p.Image.Name(), ".jpg") + "_small.jpg"
	r, err := p.Image.Responsive(context.Background(), "later", "small")
	if err != nil || r.Src != "/static/wait.png" || r.SrcSet != small+" 100w" || r.Width != 100 || r.Height != 100 || r.Sizes != "100px" {
		t.Errorf("Responsive = %+v, %v; want the fallback as src, and small's srcset, size and sizes", r, err)
	}
	if attr := string(r.Attr()); !strings.Contains(attr, `sizes="100px"`) || !strings.Contains(attr, `width="100"`) {
		t.Errorf("Attr = %s, want sizes and width", attr)
	}
}
