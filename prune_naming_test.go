package thumbnails_test

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/schema"

	"github.com/gorm-thumbnails/thumbnails"
	"github.com/gorm-thumbnails/thumbnails/internal/testdb"
)

// TestPruneWithSchemaTablePrefix: an application whose gorm puts every
// table in a schema (NamingStrategy.TablePrefix "app."; "main." on
// SQLite) can prune: Prune reads the model's table there, keeps what its
// rows hold and removes the orphan.
func TestPruneWithSchemaTablePrefix(t *testing.T) {
	for _, tc := range []struct {
		name string
		open func(t *testing.T) (gorm.Dialector, string)
	}{
		{"sqlite", func(t *testing.T) (gorm.Dialector, string) {
			return sqlite.Open(testdb.SQLiteDSN(t, "")), "main."
		}},
		{"postgres", func(t *testing.T) (gorm.Dialector, string) {
			dsn := testdb.PostgresDSN(t)
			u, err := url.Parse(dsn)
			if err != nil {
				t.Fatal(err)
			}
			// the test's own schema, named in full
			return postgres.Open(dsn), u.Query().Get("search_path") + "."
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, prefix := tc.open(t)
			if prefix == "." {
				t.Fatal("the test DSN names no search_path")
			}
			cfg := testdb.GormConfig()
			cfg.NamingStrategy = schema.NamingStrategy{TablePrefix: prefix}
			db := testdb.OpenWith(t, d, cfg)
			e := setup(t, db, &Food{})
			food := newFood(t, "pizza", pizzaJPG)
			if err := db.Create(&food).Error; err != nil {
				t.Fatal(err)
			}
			orphan := filepath.Join(e.root, "foods", "orphan.jpg")
			if err := os.WriteFile(orphan, photo(t, pizzaJPG), 0o644); err != nil {
				t.Fatal(err)
			}
			report, err := thumbnails.Prune(context.Background(), db, thumbnails.PruneOptions{Models: []any{&Food{}}, MinAge: -1, Delete: true})
			if err != nil {
				t.Fatal(err)
			}
			if len(report.Files) != 1 || report.Files[0] != "foods/orphan.jpg" {
				t.Errorf("removed %v, want only foods/orphan.jpg", report.Files)
			}
			if _, err := os.Stat(filepath.Join(e.root, filepath.FromSlash(food.Image.Name()))); err != nil {
				t.Errorf("the row's source: %v", err)
			}
		})
	}
}
