package thumbnails_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/disintegration/gift"
	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails"
	"github.com/gorm-thumbnails/thumbnails/backends"
	"github.com/gorm-thumbnails/thumbnails/field"
	"github.com/gorm-thumbnails/thumbnails/processors"
	"github.com/gorm-thumbnails/thumbnails/sizes"
)

// tinyPNG returns a 48x32 PNG: the soak test saves hundreds of them.
func tinyPNG(seed uint8) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 48, 32))
	for y := 0; y < 32; y++ {
		for x := 0; x < 48; x++ {
			img.Set(x, y, color.RGBA{uint8(x) + seed, uint8(y), seed, 255})
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	return buf.Bytes()
}

// TestSoak runs 1,000 random creates, replaces, clears, deletes, rolled-back
// changes and lazy reads across goroutines (400 on S3), then checks that every committed
// row's source and thumbnails exist with correct metadata, and that after
// Prune no file is unreferenced.
func TestSoak(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		// sizes of the same kinds as testSizes, scaled to the tiny uploads, so
		// that 1,000 operations stay well under a minute under -race
		e := setupSizes(t, db, sizes.Sizes{
			"small":  {Processors: []gift.Filter{processors.Resize(processors.Px(24), processors.Px(24), processors.Fill)}, Format: "png"},
			"medium": {Processors: []gift.Filter{processors.Resize(processors.Px(48), processors.Px(48), processors.Fit)}},
			"large":  {Processors: []gift.Filter{processors.Resize(processors.Px(72), processors.Px(72), processors.Fit)}, Lazy: true},
		}, &Food{})
		ctx := context.Background()
		const workers = 4
		ops := 1000
		if strings.HasSuffix(t.Name(), "+s3") {
			// The fake S3 server (gofakes3 behind the AWS SDK) makes each
			// operation several times dearer under -race: 400 there keep
			// CI within its time; the database and Redis metadata get the
			// full 1,000.
			ops = 400
		}
		var (
			mu    sync.Mutex
			ids   []uint
			done  atomic.Int64
			busy  atomic.Int64
			kinds [7]atomic.Int64
		)
		pickID := func(r *rand.Rand) uint {
			mu.Lock()
			defer mu.Unlock()
			if len(ids) == 0 {
				return 0
			}
			return ids[r.IntN(len(ids))]
		}
		upload := func(r *rand.Rand) field.Image {
			return field.NewImage("x.png", bytes.NewReader(tinyPNG(uint8(r.IntN(256)))))
		}
		start := time.Now()
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := rand.New(rand.NewPCG(uint64(w), 42))
				for i := 0; i < ops/workers; i++ {
					kind := r.IntN(len(kinds))
					id := pickID(r)
					if id == 0 {
						kind = 0
					}
					var err error
					switch kind {
					case 0: // create
						row := Food{Name: "soak", Image: upload(r)}
						if err = db.Create(&row).Error; err == nil {
							mu.Lock()
							ids = append(ids, row.ID)
							mu.Unlock()
						}
					case 1: // replace
						err = db.Model(&Food{ID: id}).Update("image", upload(r)).Error
					case 2: // clear
						err = db.Model(&Food{ID: id}).Update("image", field.Image{}).Error
					case 3: // delete
						err = db.Delete(&Food{}, id).Error
					case 4: // replace, rolled back
						err = db.Transaction(func(tx *gorm.DB) error {
							if err := tx.Model(&Food{ID: id}).Update("image", upload(r)).Error; err != nil {
								return err
							}
							return errRollback
						})
					case 5: // delete, rolled back
						err = db.Transaction(func(tx *gorm.DB) error {
							if err := tx.Delete(&Food{}, id).Error; err != nil {
								return err
							}
							return errRollback
						})
					case 6: // read, generating the lazy size
						var row Food
						if err = db.First(&row, id).Error; err == nil && row.Image.Name() != "" {
							_, err = row.Image.Thumbnail(ctx, "large")
						}
					}
					kinds[kind].Add(1)
					switch {
					case err == nil || err == errRollback || err == gorm.ErrRecordNotFound:
						done.Add(1)
					case strings.Contains(err.Error(), "locked") || strings.Contains(err.Error(), "busy") ||
						strings.Contains(err.Error(), "deadlock") || errors.Is(err, backends.ErrNotFound):
						// SQLite refuses a second writer; PostgreSQL may pick a deadlock
						// victim; a read can race with the delete of its row's source
						// (before its lazy size is made, or while it is).
						busy.Add(1)
					default:
						t.Errorf("op %d: %v", kind, err)
					}
				}
			}()
		}
		wg.Wait()
		elapsed := time.Since(start)

		var rows []Food
		if err := db.Scopes(thumbnails.Preload()).Find(&rows).Error; err != nil {
			t.Fatal(err)
		}
		withImage := 0
		for i := range rows {
			if rows[i].Image.Name() == "" {
				continue
			}
			withImage++
			all, err := rows[i].Image.Thumbnails(ctx)
			if err != nil || all["small"].Width != 24 || all["medium"].Width != 48 {
				t.Fatalf("row %d: thumbnails %v, %v", rows[i].ID, all, err)
			}
			requireStored(t, e, &rows[i].Image, len(all))
		}
		if n := count(t, db, "thumbnails_outbox"); n != 0 {
			t.Errorf("outbox rows left: %d", n)
		}
		report, err := thumbnails.Prune(ctx, db, thumbnails.PruneOptions{Models: []any{&Food{}}, MinAge: -1, Delete: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(report.Records) != 0 {
			t.Errorf("metadata records pointing at missing files: %d", len(report.Records))
		}
		again, err := thumbnails.Prune(ctx, db, thumbnails.PruneOptions{Models: []any{&Food{}}, MinAge: -1})
		if err != nil || len(again.Files)+len(again.Sources)+len(again.Records) != 0 {
			t.Errorf("after prune: %+v, %v", again, err)
		}
		for i := range rows {
			if rows[i].Image.Name() != "" {
				requireStored(t, e, &rows[i].Image, len(filesOf(t, &rows[i]))-1)
			}
		}
		t.Logf("%d ops in %v (%d ok, %d refused as busy; by kind %v); %d rows, %d with an image checked; orphans pruned: %d files, %d sources",
			ops, elapsed.Round(time.Millisecond), done.Load(), busy.Load(), loads(kinds[:]), len(rows), withImage, len(report.Files), len(report.Sources))
	})
}

func loads(a []atomic.Int64) []int64 {
	out := make([]int64, len(a))
	for i := range a {
		out[i] = a[i].Load()
	}
	return out
}
