package thumbnails_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails"
	"github.com/gorm-thumbnails/thumbnails/backends"
	"github.com/gorm-thumbnails/thumbnails/field"
	"github.com/gorm-thumbnails/thumbnails/sizes"
)

// benchPhoto is a 2560x1600 JPEG from the shared test data, which is not
// part of the repository.
const benchPhoto = "../shared/testdata/photos/Kite-2560x1600.jpg"

const benchSizes = `
small:
  processors: [{path: resize, width: 100, height: 100, method: fill}]
large:
  processors: [{path: resize, width: 1200, height: 1200, method: fit}]
  quality: 85
`

// Kite is the benchmark's model: its column has every configured size.
type Kite struct {
	ID    uint
	Image field.Image
}

// BenchmarkSave measures one Create of a row whose image has two eager
// sizes, from a 2560x1600 JPEG, on SQLite with local files.
func BenchmarkSave(b *testing.B) {
	data, err := os.ReadFile(benchPhoto)
	if err != nil {
		b.Skipf("benchmark photo not available (%v): it lives in ../shared/testdata, outside the repository", err)
	}
	set, err := sizes.Load(strings.NewReader(benchSizes))
	if err != nil {
		b.Fatal(err)
	}
	db := openSQLite(b)
	cfg := thumbnails.Config{Sizes: set, Storage: backends.NewFileSystemStorage(filepath.Join(b.TempDir(), "media"), "/media/")}
	if err := db.Use(thumbnails.Plugin(cfg)); err != nil {
		b.Fatal(err)
	}
	if err := db.AutoMigrate(&Kite{}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		row := Kite{Image: field.NewImage("kite.jpg", reader(data))}
		if err := db.Create(&row).Error; err != nil {
			b.Fatal(err)
		}
	}
}

// loadedFood saves a Food with the plugin on a SQLite database and returns
// it as loaded back.
func loadedFood(b *testing.B) (*gorm.DB, *Food) {
	db := openSQLite(b)
	setup(b, db, &Food{})
	food := newFood(b, "pizza", pizzaJPG)
	if err := db.Create(&food).Error; err != nil {
		b.Fatal(err)
	}
	var got Food
	if err := db.First(&got, food.ID).Error; err != nil {
		b.Fatal(err)
	}
	return db, &got
}

// Plain is Food with a plain string where Food has its image: the baseline
// of the no-image-work saves.
type Plain struct {
	ID    uint
	Name  string
	Image string
}

// BenchmarkSaveNoImageWork compares saves that resize nothing with the same
// GORM save of a plain string column: a loaded row saved unchanged (against
// plain-string), a loaded row whose title changes and image does not
// (image-unchanged-edit, against plain-string-edit), and a new row whose
// column has only lazy sizes (its upload is checked and stored, nothing is
// resized; against plain-string-create, an insert, and
// plain-string-create-and-store, the insert after the application stored
// the same bytes itself).
func BenchmarkSaveNoImageWork(b *testing.B) {
	// SQLite does not write a page whose content an update leaves as it
	// was, so saving an unchanged row commits nothing to disk. The -edit
	// variants change another column at each save, as editing a row's
	// title does: a write that reaches the disk.
	for _, edit := range []bool{false, true} {
		suffix := map[bool]string{false: "", true: "-edit"}[edit]
		b.Run("plain-string"+suffix, func(b *testing.B) {
			db := plainDB(b)
			row := Plain{Name: "pizza", Image: "foods/0123456789abcdef0123456789abcdef.jpg"}
			if err := db.Create(&row).Error; err != nil {
				b.Fatal(err)
			}
			saveAgain(b, db, &row, &row.Name, edit)
		})
		b.Run("image-unchanged"+suffix, func(b *testing.B) {
			db, got := loadedFood(b)
			saveAgain(b, db, got, &got.Name, edit)
		})
	}
	// A new upload cannot cost what an update of a string costs: its row is
	// inserted and its bytes stored. These two baselines are the same
	// insert without the plugin, alone and with the application storing
	// the same bytes itself (the floor of any save that keeps the upload).
	b.Run("plain-string-create", func(b *testing.B) {
		db := plainDB(b)
		b.ReportAllocs()
		for b.Loop() {
			row := Plain{Name: "pizza", Image: "foods/0123456789abcdef0123456789abcdef.jpg"}
			if err := db.Create(&row).Error; err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("plain-string-create-and-store", func(b *testing.B) {
		db := plainDB(b)
		st := backends.NewFileSystemStorage(b.TempDir(), "/media/")
		data := photo(b, pizzaJPG)
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			var id [16]byte
			_, _ = rand.Read(id[:])
			name, err := st.Save(ctx, "foods/"+hex.EncodeToString(id[:])+".jpg", reader(data))
			if err != nil {
				b.Fatal(err)
			}
			row := Plain{Name: "pizza", Image: name}
			if err := db.Create(&row).Error; err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("lazy-only-new-upload", func(b *testing.B) {
		type Lazy struct {
			ID    uint
			Name  string
			Image field.Image `thumbnails:"sizes:large"`
		}
		db := openSQLite(b)
		setup(b, db, &Lazy{})
		data := photo(b, pizzaJPG)
		b.ReportAllocs()
		for b.Loop() {
			row := Lazy{Name: "pizza", Image: field.NewImage("p.jpg", reader(data))}
			if err := db.Create(&row).Error; err != nil {
				b.Fatal(err)
			}
		}
	})
}

// plainDB opens a SQLite database without the plugin, with the Plain table.
func plainDB(b *testing.B) *gorm.DB {
	db := openSQLite(b)
	if err := db.AutoMigrate(&Plain{}); err != nil {
		b.Fatal(err)
	}
	return db
}

// saveAgain saves row, a pointer to a loaded model, once an iteration; when
// edit is set, *name changes at each save.
func saveAgain(b *testing.B, db *gorm.DB, row any, name *string, edit bool) {
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i++; edit {
			*name = []string{"pizza", "pasta"}[i%2]
		}
		if err := db.Save(row).Error; err != nil {
			b.Fatal(err)
		}
	}
}
