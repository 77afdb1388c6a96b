package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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

// TestPruneWrongRoot: a --storage-root that exists but holds none of the
// recorded files (another folder of the machine) makes prune fail and
// remove nothing; --force removes what it found.
func TestPruneWrongRoot(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testdbFile(t), sizesYAML)
	f.createFoods(t, 1)
	wrong := t.TempDir()
	notes := writeFile(t, wrong, "notes.txt", "not the plugin's")
	old := time.Now().Add(-48 * time.Hour)
	if err := os.Chtimes(notes, old, old); err != nil {
		t.Fatal(err)
	}
	args := func(extra ...string) []string {
		return append(f.args("prune", "--min-age", "0"), append([]string{"--storage-root", wrong}, extra...)...)
	}
	r := runCmd(t, args()...)
	wantError(t, r, exitFailure, "none of the files that metadata records")
	if _, err := os.Stat(notes); err != nil {
		t.Fatalf("prune without --force removed a file of the wrong root: %v", err)
	}
	if got := f.thumbs(t); len(got) != 1 || len(got[1]) != 2 {
		t.Fatalf("prune without --force changed the metadata: %v", got)
	}

	r = mustRun(t, args("--force")...)
	if !strings.Contains(r.stdout, "file    notes.txt\n") {
		t.Errorf("prune --force: %s", r)
	}
	if _, err := os.Stat(notes); !os.IsNotExist(err) {
		t.Errorf("prune --force kept notes.txt: %v", err)
	}
}
