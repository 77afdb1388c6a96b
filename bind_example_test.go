package thumbnails_test

import (
	"bytes"
	"context"
	"errors"
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

// ExampleBind reads rows with raw SQL, which runs none of gorm's query
// callbacks, and binds them so that their thumbnails answer.
func ExampleBind() {
	dir, _ := os.MkdirTemp("", "thumbnails-bind")
	defer os.RemoveAll(dir)
	set, _ := sizes.Load(strings.NewReader(`small: {processors: [{path: resize, width: 80, height: 80, method: fill}], format: png}`))
	db, _ := gorm.Open(sqlite.Open(filepath.Join(dir, "app.db")), &gorm.Config{Logger: logger.Discard})
	_ = db.Use(thumbnails.Plugin(thumbnails.Config{Sizes: set, Storage: backends.NewFileSystemStorage(filepath.Join(dir, "media"), "/media/")}))
	type Food struct {
		ID    uint
		Name  string
		Image field.Image `thumbnails:"dir:foods"`
	}
	_ = db.AutoMigrate(&Food{})
	photo, _ := os.ReadFile("testdata/pizza-600x400.jpg")
	_ = db.Create(&Food{Name: "pizza", Image: field.NewImage("pizza.jpg", bytes.NewReader(photo))}).Error

	var foods []Food
	db.Raw("SELECT * FROM foods WHERE name LIKE ?", "pi%").Scan(&foods)
	_, err := foods[0].Image.Thumbnail(context.Background(), "small")
	fmt.Println(errors.Is(err, field.ErrNotBound))

	if err := thumbnails.Bind(db, &foods); err != nil {
		panic(err)
	}
	small, _ := foods[0].Image.Thumbnail(context.Background(), "small")
	fmt.Println(small.Width, small.Height, strings.HasSuffix(small.URL, "_small.png"))
	// Output:
	// true
	// 80 80 true
}
