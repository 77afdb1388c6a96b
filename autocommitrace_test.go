package thumbnails_test

import (
	"context"
	"sync/atomic"
	"testing"

	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails/backends"
	"github.com/gorm-thumbnails/thumbnails/field"
	"github.com/gorm-thumbnails/thumbnails/internal/testdb"
)

// TestAutocommitReleaseRacingADrain: a clear or a delete without any
// transaction (SkipDefaultTransaction) queues the name it releases before
// its write, and that queue row commits at once. Another request's commit
// that releases an image in between drains it while the row still holds
// the name, and lets it go. Once the write has committed, the released
// source is deleted all the same, with its thumbnails and records, and
// nothing is left queued. On every dialect, and on PostgreSQL with the
// metadata in Redis.
func TestAutocommitReleaseRacingADrain(t *testing.T) {
	for _, c := range []struct {
		name  string
		hook  func(db *gorm.DB, fn func(*gorm.DB)) error
		write func(db *gorm.DB, id uint) error
	}{
		{"clear", func(db *gorm.DB, fn func(*gorm.DB)) error {
			return db.Callback().Update().After("thumbnails:capture_update").Before("gorm:update").Register("test:between", fn)
		}, func(db *gorm.DB, id uint) error {
			return db.Model(&Food{ID: id}).Update("image", field.Image{}).Error
		}},
		{"delete", func(db *gorm.DB, fn func(*gorm.DB)) error {
			return db.Callback().Delete().After("thumbnails:capture_delete").Before("gorm:delete").Register("test:between", fn)
		}, func(db *gorm.DB, id uint) error {
			return db.Delete(&Food{}, id).Error
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			run := func(t *testing.T, db *gorm.DB) {
				e := setup(t, db, &Food{})
				ctx := context.Background()
				a, b := newFood(t, "a", pizzaJPG), newFood(t, "b", pastaJPG)
				if err := db.Create(&a).Error; err != nil {
					t.Fatal(err)
				}
				if err := db.Create(&b).Error; err != nil {
					t.Fatal(err)
				}
				released := filesOf(t, &a)
				var between atomic.Bool
				err := c.hook(db, func(tx *gorm.DB) {
					if tx.Statement.Table == "foods" && between.CompareAndSwap(true, false) {
						// another request, whose commit drains the outbox
						if err := db.Model(&Food{ID: b.ID}).Update("image", field.Image{}).Error; err != nil {
							t.Errorf("clear b: %v", err)
						}
					}
				})
				if err != nil {
					t.Fatal(err)
				}
				between.Store(true)
				if err := c.write(db.Session(&gorm.Session{SkipDefaultTransaction: true}), a.ID); err != nil {
					t.Fatal(err)
				}
				if between.Load() {
					t.Fatal("the other request did not run between the capture and the write")
				}
				for _, name := range released {
					if e.exists(t, name) {
						t.Errorf("%q is still stored", name)
					}
				}
				if recs, err := metadataOf(db).Thumbnails(ctx, a.Image.Name()); err != nil || len(recs) != 0 {
					t.Errorf("records of %q: %v, %v; want none", a.Image.Name(), recs, err)
				}
				if n := count(t, db, "thumbnails_outbox"); n != 0 {
					t.Errorf("%d outbox rows left, want none", n)
				}
			}
			forEachDialect(t, run)
			t.Run("postgres+redis", func(t *testing.T) {
				t.Parallel()
				db := testdb.Postgres(t)
				client := testdb.Redis(t)
				redisMetadata.Store(db, backends.NewRedisMetadata(client, testdb.RedisPrefix(t, client)))
				t.Cleanup(func() { redisMetadata.Delete(db) })
				run(t, db)
			})
		})
	}
}
