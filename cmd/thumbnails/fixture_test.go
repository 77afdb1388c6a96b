package main

import (
	"bytes"
	"context"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails"
	"github.com/gorm-thumbnails/thumbnails/backends"
	"github.com/gorm-thumbnails/thumbnails/field"
	"github.com/gorm-thumbnails/thumbnails/internal/testdb"
	"github.com/gorm-thumbnails/thumbnails/sizes"
)

// The sizes of the tests: two eager, one lazy.
const sizesYAML = `
small:
  processors: [{path: resize, width: 100, height: 100, method: fill}]
  format: png
medium:
  processors: [{path: resize, width: 400, height: 400, method: fit}]
large:
  processors: [{path: resize, width: 1200, height: 1200, method: fit}]
  lazy: true
`

// Food is the model the tests set data up with; the command never sees it.
type Food struct {
	ID    uint
	Image field.Image
}

// photos are the test images, used in turn.
var photos = []string{"pizza-600x400.jpg", "pasta-600x400.jpg"}

// fixture is a database, a storage root and a sizes file of one test.
type fixture struct {
	dsn   string
	root  string // storage root
	sizes string // path of the sizes YAML
}

// forEachDB runs fn on SQLite and, when THUMBNAILS_TEST_POSTGRES_DSN is
// set, on PostgreSQL in a schema of the test's own.
func forEachDB(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, testdb.SQLiteDSN(t, "")) })
	t.Run("postgres", func(t *testing.T) { fn(t, testdb.PostgresDSN(t)) })
}

// newFixture writes yaml to a file and returns the fixture on dsn.
func newFixture(t *testing.T, dsn, yaml string) fixture {
	t.Helper()
	dir := t.TempDir()
	return fixture{dsn: dsn, root: filepath.Join(dir, "media"), sizes: writeFile(t, dir, "sizes.yaml", yaml)}
}

// writeFile writes content to dir/name and returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// args returns the global flags of f for table foods, column image, after
// the subcommand and its own flags.
func (f fixture) args(sub string, extra ...string) []string {
	args := []string{sub, "--dsn", f.dsn, "--table", "foods", "--column", "image", "--sizes", f.sizes, "--storage-root", f.root}
	return append(args, extra...)
}

// open opens f's database with the plugin registered with the sizes of
// sizesPath (f.sizes when empty); it is closed at the end of the test, or
// earlier by closeDB.
func (f fixture) open(t *testing.T, sizesPath string) *gorm.DB {
	t.Helper()
	if sizesPath == "" {
		sizesPath = f.sizes
	}
	set, err := sizes.LoadFile(sizesPath)
	if err != nil {
		t.Fatal(err)
	}
	var d gorm.Dialector = sqlite.Open(f.dsn)
	if strings.HasPrefix(f.dsn, "postgres") {
		d = postgres.Open(f.dsn)
	}
	db := testdb.Open(t, d)
	err = db.Use(thumbnails.Plugin(thumbnails.Config{Sizes: set, Storage: backends.NewFileSystemStorage(f.root, "/media/")}))
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// closeDB closes the connections of db.
func closeDB(t *testing.T, db *gorm.DB) {
	t.Helper()
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	if err := sqlDB.Close(); err != nil {
		t.Fatal(err)
	}
}

// createFoods creates table foods with n rows, each with a photo, through
// the library, and closes the database: the command works on it alone.
func (f fixture) createFoods(t *testing.T, n int) {
	t.Helper()
	db := f.open(t, "")
	defer closeDB(t, db)
	if err := db.AutoMigrate(&Food{}); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		data, err := os.ReadFile(filepath.Join("..", "..", "testdata", photos[i%len(photos)]))
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Create(&Food{Image: field.NewImage(photos[i%len(photos)], bytes.NewReader(data))}).Error; err != nil {
			t.Fatal(err)
		}
	}
}

// thumbs reads every row's recorded thumbnails through the library, keyed by
// primary key then size.
func (f fixture) thumbs(t *testing.T) map[uint]map[string]field.Thumbnail {
	t.Helper()
	db := f.open(t, "")
	defer closeDB(t, db)
	var foods []Food
	if err := db.Scopes(thumbnails.Preload()).Order("id").Find(&foods).Error; err != nil {
		t.Fatal(err)
	}
	out := map[uint]map[string]field.Thumbnail{}
	for _, food := range foods {
		all, err := food.Image.Thumbnails(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		out[food.ID] = all
	}
	return out
}

// path is where the file storage keeps name.
func (f fixture) path(name string) string {
	return filepath.Join(f.root, filepath.FromSlash(name))
}

// imageSize decodes the header of the stored file name and returns its
// width and height; it fails the test when the file is missing or not an
// image.
func (f fixture) imageSize(t *testing.T, name string) (int, int) {
	t.Helper()
	file, err := os.Open(f.path(name))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	cfg, _, err := image.DecodeConfig(file)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return cfg.Width, cfg.Height
}

// exists reports whether the storage holds name.
func (f fixture) exists(t *testing.T, name string) bool {
	t.Helper()
	_, err := os.Stat(f.path(name))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return err == nil
}

// openPlain opens f's database without the plugin; it is closed at the end
// of the test.
func (f fixture) openPlain(t *testing.T) *gorm.DB {
	t.Helper()
	var d gorm.Dialector = sqlite.Open(f.dsn)
	if strings.HasPrefix(f.dsn, "postgres") {
		d = postgres.Open(f.dsn)
	}
	return testdb.Open(t, d)
}

// plainFoods makes the storage root and, in a database the plugin has
// never used, a foods table of its own, which it returns open without the
// plugin.
func (f fixture) plainFoods(t *testing.T) *gorm.DB {
	t.Helper()
	if err := os.MkdirAll(f.root, 0o755); err != nil {
		t.Fatal(err)
	}
	db := f.openPlain(t)
	if err := db.Exec("CREATE TABLE foods (id integer PRIMARY KEY, image text)").Error; err != nil {
		t.Fatal(err)
	}
	return db
}
