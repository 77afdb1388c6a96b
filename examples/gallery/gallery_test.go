package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// screenshotCopy is where to copy the screenshot, besides the test's temp
// dir (which is removed): go test ./examples/gallery -args -gallery.screenshot=/tmp/gallery.png
var screenshotCopy = flag.String("gallery.screenshot", "", "also write the gallery's screenshot to this file")

// chromium returns the path of a Chromium or Chrome binary, or skips the test.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "/usr/bin/chromium"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no Chromium found (chromium, chromium-browser or google-chrome): install Debian's chromium package, as .ci/run does")
	return ""
}

// photoInfo is what the browser shows of one photo of the grid.
type photoInfo struct {
	Title         string  `json:"title"`
	NaturalWidth  int     `json:"naturalWidth"`
	NaturalHeight int     `json:"naturalHeight"`
	Width         string  `json:"width"`
	Height        string  `json:"height"`
	BoxWidth      float64 `json:"boxWidth"`
	BoxHeight     float64 `json:"boxHeight"`
	CurrentSrc    string  `json:"currentSrc"`
	SrcSet        string  `json:"srcset"`
	Sizes         string  `json:"sizes"`
	Style         string  `json:"style"`
	Large         string  `json:"large"`
}

const gridJS = `Array.from(document.querySelectorAll('.grid .photo')).map(li => {
	const img = li.querySelector('img'), box = img.getBoundingClientRect();
	return {
		title: li.querySelector('.caption span').textContent,
		naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight,
		width: img.getAttribute('width'), height: img.getAttribute('height'),
		boxWidth: box.width, boxHeight: box.height,
		currentSrc: img.currentSrc, srcset: img.getAttribute('srcset'), sizes: img.getAttribute('sizes'),
		style: img.getAttribute('style') || '', large: li.querySelector('a').href,
	};
})`

// fetchInfo is what the browser gets for a URL.
type fetchInfo struct {
	Status int    `json:"status"`
	Type   string `json:"type"`
	Cache  string `json:"cache"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
}

// fetchJS fetches a URL from the page and decodes the image it gets.
const fetchJS = `(async (url) => {
	const r = await fetch(url);
	const out = {status: r.status, type: r.headers.get('content-type') || '', cache: r.headers.get('cache-control') || '', width: 0, height: 0};
	if (r.ok) { const b = await createImageBitmap(await r.blob()); out.width = b.width; out.height = b.height; }
	return out;
})(%q)`

// TestGalleryInBrowser drives headless Chromium through the gallery: it
// uploads two real photos with the form, checks the grid the browser shows
// (the image each img loaded from its srcset, its box, its placeholder),
// opens a large size through its signed URL, takes a screenshot, deletes
// both photos and checks the grid is empty and the files are gone.
func TestGalleryInBrowser(t *testing.T) {
	exe := chromium(t)
	dir := t.TempDir()
	media := filepath.Join(dir, "media")
	db, err := openDB(filepath.Join(dir, "gallery.db"), media, []byte("a test key of 32 bytes, no more."))
	if err != nil {
		t.Fatal(err)
	}
	if sqlDB, err := db.DB(); err == nil {
		t.Cleanup(func() { _ = sqlDB.Close() })
	}
	h, err := newServer(db)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h) // a loopback port
	defer srv.Close()

	// The whole browser session is bounded: the allocator's context ends it.
	limit, cancelLimit := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancelLimit()
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(limit, append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox, // the tests may run as root, as CI does
		chromedp.WindowSize(1000, 720),
		chromedp.Flag("disable-gpu", true),
	)...)
	defer cancelAlloc()
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	defer cancelCtx()

	photos := map[string]string{"Pizza": "pizza-600x400.jpg", "Soup": "soup-400x600.jpg"}
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS(".empty"))); err != nil {
		t.Fatal(err)
	}
	for i, title := range []string{"Pizza", "Soup"} {
		path, err := filepath.Abs(filepath.Join("..", "..", "testdata", photos[title]))
		if err != nil {
			t.Fatal(err)
		}
		err = chromedp.Do(ctx,
			chromedp.SetUploadFiles(chromedp.CSS(`#upload input[name="photo"]`), []string{path}),
			chromedp.SendKeys(chromedp.CSS(`#upload input[name="title"]`), title),
			chromedp.Click(chromedp.CSS(`#upload button[type="submit"]`)),
		)
		if err != nil {
			t.Fatalf("upload %s: %v", title, err)
		}
		waitFor(t, ctx, `document.querySelectorAll('.grid img').length === `+strconv.Itoa(i+1))
	}
	waitFor(t, ctx, `Array.from(document.querySelectorAll('.grid img')).every(i => i.complete && i.naturalWidth > 0)`)

	grid, err := chromedp.Run(ctx, chromedp.Evaluate[[]photoInfo](gridJS))
	if err != nil {
		t.Fatal(err)
	}
	if len(grid) != 2 || grid[0].Title != "Soup" || grid[1].Title != "Pizza" {
		t.Fatalf("grid = %+v, want Soup then Pizza (newest first)", grid)
	}
	// small is fit 200x200, medium fit 400x400
	want := map[string]struct{ w, h, medium int }{"Pizza": {200, 133, 400}, "Soup": {133, 200, 267}}
	for _, p := range grid {
		wh := want[p.Title]
		if p.NaturalWidth != wh.w || p.NaturalHeight != wh.h {
			t.Errorf("%s: the browser loaded a %dx%d image, want the %dx%d small size", p.Title, p.NaturalWidth, p.NaturalHeight, wh.w, wh.h)
		}
		if p.Width != strconv.Itoa(wh.w) || p.Height != strconv.Itoa(wh.h) || int(p.BoxWidth+0.5) != wh.w || int(p.BoxHeight+0.5) != wh.h {
			t.Errorf("%s: width/height attributes %s x %s, box %.0f x %.0f; want %dx%d", p.Title, p.Width, p.Height, p.BoxWidth, p.BoxHeight, wh.w, wh.h)
		}
		if !strings.HasSuffix(p.CurrentSrc, "_small.jpg") || !strings.HasPrefix(p.CurrentSrc, srv.URL+"/media/thumbnails/photos/") {
			t.Errorf("%s: currentSrc %q, want the small thumbnail", p.Title, p.CurrentSrc)
		}
		if !strings.Contains(p.SrcSet, "_small.jpg "+strconv.Itoa(wh.w)+"w, ") || !strings.Contains(p.SrcSet, "_medium.jpg "+strconv.Itoa(wh.medium)+"w") || p.Sizes != strconv.Itoa(wh.w)+"px" {
			t.Errorf("%s: srcset %q sizes %q", p.Title, p.SrcSet, p.Sizes)
		}
		if !strings.Contains(p.Style, "url(\"data:image/png;base64,") && !strings.Contains(p.Style, "url('data:image/png;base64,") {
			t.Errorf("%s: no placeholder in style %q", p.Title, p.Style)
		}
	}

	// The large size of Soup does not exist: its URL unsigned is refused,
	// its signed URL (the link of the photo) makes it.
	unsigned, _, _ := strings.Cut(grid[0].Large, "?")
	if got := fetchIn(t, ctx, unsigned); got.Status != 403 {
		t.Errorf("large, unsigned, before it is made: %+v, want 403", got)
	}
	if got := fetchIn(t, ctx, grid[0].Large); got.Status != 200 || got.Type != "image/jpeg" || got.Width != 400 || got.Height != 600 ||
		got.Cache != "public, max-age=31536000, immutable" {
		t.Errorf("large, signed: %+v, want a 400x600 JPEG, cached for a year", got)
	}
	if got := fetchIn(t, ctx, unsigned); got.Status != 200 || got.Width != 400 {
		t.Errorf("large, unsigned, once made: %+v", got)
	}

	shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	shotPath := filepath.Join(t.TempDir(), "gallery.png")
	if err := os.WriteFile(shotPath, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of the grid: %s (%d bytes)", shotPath, len(shot))
	if *screenshotCopy != "" {
		if err := os.WriteFile(*screenshotCopy, shot, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if len(shot) < 10_000 || string(shot[1:4]) != "PNG" {
		t.Errorf("the screenshot is a %d-byte %q file", len(shot), shot[1:4])
	}

	// Delete both, with the buttons.
	for n := 2; n > 0; n-- {
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(".grid .photo button.delete"))); err != nil {
			t.Fatal(err)
		}
		waitFor(t, ctx, `document.querySelectorAll('.grid img').length === `+strconv.Itoa(n-1))
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(".empty"))); err != nil {
		t.Fatal(err)
	}
	left, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('img').length`))
	if err != nil || left != 0 {
		t.Errorf("images on the page after deleting both: %d, %v", left, err)
	}
	var files []string
	_ = filepath.WalkDir(media, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	if len(files) != 0 {
		t.Errorf("files left after deleting both photos: %v", files)
	}
}

// waitFor waits until the JavaScript expression is true in the page, across
// the navigations that a form's submission makes.
func waitFor(t *testing.T, ctx context.Context, expr string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		if err == nil && ok {
			return
		}
		if errors.Is(ctx.Err(), context.Canceled) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
			break
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("waiting for %s: timed out (last error: %v)", expr, last)
}

// fetchIn fetches url from the page.
func fetchIn(t *testing.T, ctx context.Context, url string) fetchInfo {
	t.Helper()
	got, err := chromedp.Run(ctx, chromedp.Evaluate[fetchInfo](fmt.Sprintf(fetchJS, url), chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("fetch %s: %v", url, err)
	}
	return got
}
