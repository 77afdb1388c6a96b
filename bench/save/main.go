// Command save is the project's side of the whole-process benchmark: it
// saves one row per JPEG of a folder through the thumbnails plugin (SQLite
// metadata, local files), with the workload of ../shared/bench: small =
// fill 100x100, medium = fit 400x400, large = fit 1200x1200, JPEG quality 85.
//
//	go build -o /tmp/save ./bench/save && /tmp/save SRC_DIR OUT_DIR
package main

import (
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

const workload = `
small:  {processors: [{path: resize, width: 100, height: 100, method: fill}], quality: 85}
medium: {processors: [{path: resize, width: 400, height: 400, method: fit}], quality: 85}
large:  {processors: [{path: resize, width: 1200, height: 1200, method: fit}], quality: 85}
`

// Photo is the benchmark's model.
type Photo struct {
	ID    uint
	Image field.Image `thumbnails:"dir:photos"`
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: save SRC_DIR OUT_DIR")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "save:", err)
		os.Exit(1)
	}
}

func run(src, out string) error {
	set, err := sizes.Load(strings.NewReader(workload))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	db, err := gorm.Open(sqlite.Open(filepath.Join(out, "bench.db")), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		return err
	}
	err = db.Use(thumbnails.Plugin(thumbnails.Config{
		Sizes:   set,
		Storage: backends.NewFileSystemStorage(filepath.Join(out, "media"), "/media/"),
	}))
	if err != nil {
		return err
	}
	if err := db.AutoMigrate(&Photo{}); err != nil {
		return err
	}
	files, err := filepath.Glob(filepath.Join(src, "*.jpg"))
	if err != nil {
		return err
	}
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		err = db.Create(&Photo{Image: field.NewImage(filepath.Base(name), f)}).Error
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}
