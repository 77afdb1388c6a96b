package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gorm-thumbnails/thumbnails/field"
)

// Dish is a second model whose images share the storage and metadata of
// Food's.
type Dish struct {
	ID    uint
	Photo field.Image
}

// TestPruneAlso: the sources of a column prune is not told about are seen
// as unreferenced; --also names it.
func TestPruneAlso(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testdbFile(t), sizesYAML)
	f.createFoods(t, 1)
	db := f.open(t, "")
	if err := db.AutoMigrate(&Dish{}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", photos[0]))
	if err != nil {
		t.Fatal(err)
	}
	dish := Dish{Photo: field.NewImage("dish.jpg", bytes.NewReader(data))}
	if err := db.Create(&dish).Error; err != nil {
		t.Fatal(err)
	}
	closeDB(t, db)

	r := mustRun(t, f.args("prune", "--dry-run", "--min-age", "0")...)
	// the dish's source, its file and its two thumbnails' files
	if !strings.Contains(r.stdout, "source  "+dish.Photo.Name()+"\n") || !strings.HasSuffix(r.stdout, "found 3 files, 1 source, 0 records (dry run: nothing removed)\n") {
		t.Errorf("without --also: %s", r)
	}
	r = mustRun(t, f.args("prune", "--dry-run", "--min-age", "0", "--also", "dishes.photo")...)
	if r.stdout != "found 0 files, 0 sources, 0 records (dry run: nothing removed)\n" {
		t.Errorf("with --also: %s", r)
	}
}
