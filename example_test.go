package thumbnails_test

import (
	"bytes"
	"context"
	"fmt"
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

// Example saves a row with an uploaded photo and reads its thumbnails back.
func Example() {
	dir, _ := os.MkdirTemp("", "thumbnails-example")
	defer os.RemoveAll(dir)

	set, err := sizes.Load(strings.NewReader(`
small:
  processors: [{path: resize, width: 100, height: 100, method: fill}]
  format: png
large:
  processors: [{path: resize, width: 1200, height: 1200, method: fit}]
  lazy: true
`))
	if err != nil {
		panic(err)
	}
	db, _ := gorm.Open(sqlite.Open(filepath.Join(dir, "example.db")), &gorm.Config{Logger: logger.Discard})
	err = db.Use(thumbnails.Plugin(thumbnails.Config{
		Sizes:   set,
		Storage: backends.NewFileSystemStorage(filepath.Join(dir, "media"), "/media/"),
	}))
	if err != nil {
		panic(err)
	}
	type Food struct {
		ID    uint
		Image field.Image `thumbnails:"sizes:small,large;dir:foods"`
	}
	_ = db.AutoMigrate(&Food{})

	photo, _ := os.ReadFile("testdata/exif/Landscape_1.jpg") // 1800x1200
	food := Food{Image: field.NewImage("pizza.jpg", bytes.NewReader(photo))}
	if err := db.Create(&food).Error; err != nil {
		panic(err)
	}

	var got Food
	db.First(&got, food.ID)
	ctx := context.Background()
	existing, _ := got.Image.Thumbnails(ctx) // large is lazy: not made yet
	fmt.Println("on save:", len(existing), "thumbnail")
	for _, size := range []string{"small", "large"} {
		t, _ := got.Image.Thumbnail(ctx, size)
		fmt.Printf("%s: %dx%d %t\n", t.Size, t.Width, t.Height, strings.HasPrefix(t.URL, "/media/thumbnails/foods/"))
	}
	// Output:
	// on save: 1 thumbnail
	// small: 100x100 true
	// large: 1200x800 true
}
