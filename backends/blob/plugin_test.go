package blob_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	_ "image/jpeg" // decode the stored objects
	_ "image/png"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails"
	"github.com/gorm-thumbnails/thumbnails/backends/blob"
	"github.com/gorm-thumbnails/thumbnails/field"
	"github.com/gorm-thumbnails/thumbnails/internal/fakes3"
	"github.com/gorm-thumbnails/thumbnails/internal/testdb"
	"github.com/gorm-thumbnails/thumbnails/sizes"
)

// Food is a model with one image column, of all configured sizes, whose
// sources go under "foods/".
type Food struct {
	ID    uint
	Image field.Image
}

const sizesYAML = `
small:
  processors: [{path: resize, width: 100, height: 100, method: fill}]
  format: png
medium:
  processors: [{path: resize, width: 400, height: 400, method: fit}]
`

// setupPlugin registers the plugin on a fresh SQLite database, with its
// files in a fake S3 bucket served under https://cdn.example/.
func setupPlugin(t *testing.T) (*gorm.DB, *fakes3.Server) {
	t.Helper()
	set, err := sizes.Load(strings.NewReader(sizesYAML))
	if err != nil {
		t.Fatal(err)
	}
	f := fakes3.New(t)
	db := testdb.SQLite(t, "")
	err = db.Use(thumbnails.Plugin(thumbnails.Config{
		Sizes:   set,
		Storage: blob.NewStorage(f.Bucket, "https://cdn.example/"),
	}))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.AutoMigrate(&Food{}); err != nil {
		t.Fatal(err)
	}
	return db, f
}

// pizza returns an upload of the test photo, 600x400.
func pizza(t *testing.T) field.Image {
	t.Helper()
	b, err := os.ReadFile("../../testdata/pizza-600x400.jpg")
	if err != nil {
		t.Fatal(err)
	}
	return field.NewImage("pizza.jpg", bytes.NewReader(b))
}

// objects returns the keys of the source of food and of its thumbnails,
// sorted, after checking that each thumbnail decodes from the bucket to
// its size's dimensions and format.
func objects(t *testing.T, f *fakes3.Server, food *Food) []string {
	t.Helper()
	ctx := context.Background()
	all, err := food.Image.Thumbnails(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][3]any{"small": {100, 100, "png"}, "medium": {400, 267, "jpeg"}}
	if len(all) != len(want) {
		t.Fatalf("Thumbnails() = %v, want small and medium", all)
	}
	keys := []string{food.Image.Name()}
	for size, w := range want {
		th := all[size]
		b, err := f.Bucket.ReadAll(ctx, th.Name)
		if err != nil {
			t.Fatalf("%s: %v", size, err)
		}
		img, format, err := image.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: decode %s: %v", size, th.Name, err)
		}
		if img.Bounds().Dx() != w[0] || img.Bounds().Dy() != w[1] || format != w[2] {
			t.Errorf("%s: decoded %dx%d %s, want %dx%d %s", size, img.Bounds().Dx(), img.Bounds().Dy(), format, w[0], w[1], w[2])
		}
		keys = append(keys, th.Name)
	}
	slices.Sort(keys)
	return keys
}

func TestPluginLifecycle(t *testing.T) {
	db, f := setupPlugin(t)
	ctx := context.Background()

	food := Food{Image: pizza(t)}
	if err := db.Create(&food).Error; err != nil {
		t.Fatal(err)
	}
	if name := food.Image.Name(); !strings.HasPrefix(name, "foods/") || !strings.HasSuffix(name, ".jpg") {
		t.Fatalf("source name %q, want foods/<id>.jpg", name)
	}
	first := objects(t, f, &food)
	if keys := f.Keys(t); !slices.Equal(keys, first) {
		t.Fatalf("bucket holds %q, want %q", keys, first)
	}
	small, err := food.Image.Thumbnail(ctx, "small")
	if err != nil {
		t.Fatal(err)
	}
	if small.URL != "https://cdn.example/"+small.Name {
		t.Errorf("small URL = %q", small.URL)
	}
	if got := food.Image.URL(); got != "https://cdn.example/"+food.Image.Name() {
		t.Errorf("source URL = %q", got)
	}

	// Replaced: the old objects are gone once the save has committed.
	food.Image = pizza(t)
	if err := db.Save(&food).Error; err != nil {
		t.Fatal(err)
	}
	second := objects(t, f, &food)
	if slices.Equal(first, second) {
		t.Fatal("the replaced image kept its names")
	}
	if keys := f.Keys(t); !slices.Equal(keys, second) {
		t.Fatalf("after replace, bucket holds %q, want %q", keys, second)
	}

	// Rolled back: the row and its objects are as they were, and the
	// objects stored for the new upload are gone.
	errRollback := errors.New("roll back")
	err = db.Transaction(func(tx *gorm.DB) error {
		food := food
		food.Image = pizza(t)
		if err := tx.Save(&food).Error; err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("transaction: %v", err)
	}
	var loaded Food
	if err := db.First(&loaded, food.ID).Error; err != nil {
		t.Fatal(err)
	}
	if loaded.Image.Name() != food.Image.Name() {
		t.Fatalf("after rollback the row holds %q, want %q", loaded.Image.Name(), food.Image.Name())
	}
	if keys := f.Keys(t); !slices.Equal(keys, second) {
		t.Fatalf("after rollback, bucket holds %q, want %q", keys, second)
	}

	// Deleted: every object goes.
	if err := db.Delete(&loaded).Error; err != nil {
		t.Fatal(err)
	}
	if keys := f.Keys(t); len(keys) != 0 {
		t.Fatalf("after delete, bucket holds %q", keys)
	}
}

// TestThumbnailReadsNoObject checks that reading the thumbnails of a loaded
// row is answered from metadata: no request reaches the bucket.
func TestThumbnailReadsNoObject(t *testing.T) {
	db, f := setupPlugin(t)
	ctx := context.Background()
	food := Food{Image: pizza(t)}
	if err := db.Create(&food).Error; err != nil {
		t.Fatal(err)
	}

	var loaded Food
	if err := db.First(&loaded, food.ID).Error; err != nil {
		t.Fatal(err)
	}
	before := f.Requests.Load()
	small, err := loaded.Image.Thumbnail(ctx, "small")
	if err != nil {
		t.Fatal(err)
	}
	if small.Width != 100 || small.Height != 100 || !strings.HasPrefix(small.URL, "https://cdn.example/") {
		t.Errorf("small = %+v", small)
	}
	if _, err := loaded.Image.Thumbnails(ctx); err != nil {
		t.Fatal(err)
	}
	_ = loaded.Image.URL()
	if n := f.Requests.Load() - before; n != 0 {
		t.Fatalf("reading thumbnails made %d bucket requests, want 0", n)
	}
}

// TestPrune checks that Prune lists, through the bucket, an object that no
// metadata or row references, and deletes it when asked.
func TestPrune(t *testing.T) {
	db, f := setupPlugin(t)
	ctx := context.Background()
	food := Food{Image: pizza(t)}
	if err := db.Create(&food).Error; err != nil {
		t.Fatal(err)
	}
	kept := f.Keys(t)
	const stray = "foods/stray.jpg"
	if err := f.Bucket.WriteAll(ctx, stray, []byte("left by a crash"), nil); err != nil {
		t.Fatal(err)
	}

	opts := thumbnails.PruneOptions{Models: []any{&Food{}}, MinAge: -time.Hour}
	report, err := thumbnails.Prune(ctx, db, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(report.Files, []string{stray}) || len(report.Sources) != 0 || len(report.Records) != 0 {
		t.Fatalf("dry run report = %+v, want only %s", report, stray)
	}
	if keys := f.Keys(t); !slices.Contains(keys, stray) {
		t.Fatal("the dry run deleted the stray object")
	}

	// Younger than the default MinAge: left alone.
	if report, err := thumbnails.Prune(ctx, db, thumbnails.PruneOptions{Models: []any{&Food{}}}); err != nil || len(report.Files) != 0 {
		t.Fatalf("Prune with the default MinAge = %+v, %v", report, err)
	}

	opts.Delete = true
	if _, err := thumbnails.Prune(ctx, db, opts); err != nil {
		t.Fatal(err)
	}
	if keys := f.Keys(t); !slices.Equal(keys, kept) {
		t.Fatalf("after prune, bucket holds %q, want %q", keys, kept)
	}
}
