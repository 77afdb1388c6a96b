// Command quickstart shows the thumbnails plugin end to end: SQLite, local
// files under ./media, the sizes of thumbnails.yaml, and a bundled photo.
package main

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"log"

	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/gorm-thumbnails/thumbnails"
	"github.com/gorm-thumbnails/thumbnails/backends"
	"github.com/gorm-thumbnails/thumbnails/field"
	"github.com/gorm-thumbnails/thumbnails/sizes"
)

//go:embed thumbnails.yaml
var sizesYAML []byte

//go:embed pizza.jpg
var pizza []byte

// Food is a model with one image column that has three sizes.
type Food struct {
	ID    uint
	Name  string
	Image field.Image `thumbnails:"sizes:small,medium,large;dir:foods"`
}

func main() {
	ctx := context.Background()
	set, err := sizes.Load(bytes.NewReader(sizesYAML))
	if err != nil {
		log.Fatal(err)
	}
	db, err := gorm.Open(sqlite.Open("quickstart.db"), &gorm.Config{Logger: logger.Default.LogMode(logger.Silent)})
	if err != nil {
		log.Fatal(err)
	}
	err = db.Use(thumbnails.Plugin(thumbnails.Config{
		Sizes:   set,
		Storage: backends.NewFileSystemStorage("media", "/media/"),
	}))
	if err != nil {
		log.Fatal(err)
	}
	if err := db.AutoMigrate(&Food{}); err != nil {
		log.Fatal(err)
	}

	food := Food{Name: "pizza", Image: field.NewImage("pizza.jpg", bytes.NewReader(pizza))}
	if err := db.Create(&food).Error; err != nil {
		log.Fatal(err)
	}

	var got Food
	if err := db.First(&got, food.ID).Error; err != nil {
		log.Fatal(err)
	}
	fmt.Printf("source  %s  %s\n", got.Image.Name(), got.Image.URL())
	for _, size := range []string{"small", "medium", "large"} {
		t, err := got.Image.Thumbnail(ctx, size)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%-7s %dx%d  %s  %s\n", size, t.Width, t.Height, t.Name, t.URL)
	}
}
