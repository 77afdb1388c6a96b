package thumbnails_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/gorm-thumbnails/thumbnails"
	"github.com/gorm-thumbnails/thumbnails/backends"
	"github.com/gorm-thumbnails/thumbnails/field"
	"github.com/gorm-thumbnails/thumbnails/sizes"
)

// ExampleHandler serves the thumbnails of a saved row, and makes a lazy
// size on the first request of its signed URL.
func ExampleHandler() {
	dir, _ := os.MkdirTemp("", "thumbnails-handler")
	defer os.RemoveAll(dir)
	set, err := sizes.Load(strings.NewReader(`
small:
  processors: [{path: resize, width: 100, height: 100, method: fill}]
large:
  processors: [{path: resize, width: 1200, height: 1200, method: fit}]
  lazy: true
`))
	if err != nil {
		panic(err)
	}
	db, _ := gorm.Open(sqlite.Open(filepath.Join(dir, "app.db")), &gorm.Config{Logger: logger.Discard})
	err = db.Use(thumbnails.Plugin(thumbnails.Config{
		Sizes:      set,
		Storage:    backends.NewFileSystemStorage(filepath.Join(dir, "media"), "/media/"),
		SigningKey: []byte("at least 16 random bytes, from your secrets"),
	}))
	if err != nil {
		panic(err)
	}
	type Food struct {
		ID    uint
		Image field.Image `thumbnails:"sizes:small,large;dir:foods"`
	}
	_ = db.AutoMigrate(&Food{})
	photo, _ := os.ReadFile("testdata/pizza-600x400.jpg")
	food := Food{Image: field.NewImage("pizza.jpg", bytes.NewReader(photo))}
	if err := db.Create(&food).Error; err != nil {
		panic(err)
	}

	h, err := thumbnails.Handler(db, thumbnails.HandlerOptions{}) // mount it at "/media/"
	if err != nil {
		panic(err)
	}
	get := func(url string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", url, nil))
		return w
	}
	small, _ := food.Image.Thumbnail(context.Background(), "small")
	w := get(small.URL)
	fmt.Println("small:", w.Code, w.Header().Get("Content-Type"), w.Header().Get("Cache-Control"))

	signed, _ := food.Image.SignedURL("large") // no I/O: large is not made yet
	unsigned, _, _ := strings.Cut(signed, "?")
	fmt.Println("large, unsigned:", get(unsigned).Code)
	w = get(signed)
	cfg, _, _ := image.DecodeConfig(w.Body)
	fmt.Printf("large, signed: %d %dx%d\n", w.Code, cfg.Width, cfg.Height)
	fmt.Println("large, now made:", get(unsigned).Code)
	// Output:
	// small: 200 image/jpeg public, max-age=31536000, immutable
	// large, unsigned: 403
	// large, signed: 200 1200x800
	// large, now made: 200
}
