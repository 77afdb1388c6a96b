package main

import (
	"context"
	"strings"
	"testing"

	"github.com/gorm-thumbnails/thumbnails/backends"
	"github.com/gorm-thumbnails/thumbnails/internal/testdb"
)

// TestListPlaceholder checks that list shows a source's placeholder record
// as inline data, not as a file with a URL.
func TestListPlaceholder(t *testing.T) {
	f := newFixture(t, testdb.SQLiteDSN(t, ""), sizesYAML)
	f.createFoods(t, 1)
	db := f.open(t, "")
	var names []string
	if err := db.Table("foods").Where("id = 1").Pluck("image", &names).Error; err != nil || len(names) != 1 {
		t.Fatalf("source of row 1: %v, %v", names, err)
	}
	uri := "data:image/png;base64,iVBORw0KGgo=" // 34 bytes
	err := backends.NewDatabaseMetadata(db).Put(context.Background(), names[0],
		backends.Thumbnail{Size: backends.PlaceholderSize, Name: uri, Width: 12, Height: 8})
	if err != nil {
		t.Fatal(err)
	}
	closeDB(t, db)

	r := mustRun(t, f.args("list", "--id", "1")...)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 3 {
		t.Fatalf("want 3 lines: %s", r)
	}
	if got := strings.Join(strings.Fields(lines[0]), " "); got != "@placeholder inline (34 bytes) 12x8 -" {
		t.Errorf("placeholder line %q", lines[0])
	}
	if strings.Contains(r.stdout, "/media/data:") {
		t.Errorf("the placeholder got a URL: %s", r.stdout)
	}
}
