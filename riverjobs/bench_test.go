package riverjobs_test

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/gorm-thumbnails/thumbnails"
	"github.com/gorm-thumbnails/thumbnails/field"
	"github.com/gorm-thumbnails/thumbnails/sizes"
)

// benchPhoto is a 2560x1600 JPEG from the shared test data, outside the
// repository; without it the benchmark uses the 600x400 test photo.
const benchPhoto = "../../shared/testdata/photos/Kite-2560x1600.jpg"

// benchSizes are the three sizes of the performance issue, eager or async.
func benchSizes(b *testing.B, async bool) sizes.Sizes {
	doc := `
small:  {processors: [{path: resize, width: 100, height: 100, method: fill}]}
medium: {processors: [{path: resize, width: 400, height: 400, method: fit}]}
large:  {processors: [{path: resize, width: 1200, height: 1200, method: fit}], quality: 85}
`
	set, err := sizes.Load(strings.NewReader(doc))
	if err != nil {
		b.Fatal(err)
	}
	for name, sz := range set {
		sz.Async = async
		set[name] = sz
	}
	return set
}

// Kite's column has every configured size.
type Kite struct {
	ID    uint
	Image field.Image
}

// BenchmarkSave measures one Create, on PostgreSQL with local files, of a
// row whose three sizes are eager (generated during the save) or async
// (queued as River jobs in the save's transaction; no worker runs).
func BenchmarkSave(b *testing.B) {
	data, err := os.ReadFile(benchPhoto)
	if err != nil {
		b.Logf("%v: using the 600x400 test photo", err)
		data = photo(b, "pizza-600x400.jpg")
	}
	for _, mode := range []struct {
		name  string
		async bool
	}{{"eager", false}, {"async", true}} {
		b.Run(mode.name, func(b *testing.B) {
			e := setup(b, thumbnails.Config{Sizes: benchSizes(b, mode.async)})
			if err := e.db.AutoMigrate(&Kite{}); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				row := Kite{Image: field.NewImage("kite.jpg", bytes.NewReader(data))}
				if err := e.db.Create(&row).Error; err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if mode.async {
				if got := e.jobs(b)["available"]; got != 3*b.N {
					b.Fatalf("%d jobs queued for %d saves of 3 async sizes", got, b.N)
				}
			}
		})
	}
}
