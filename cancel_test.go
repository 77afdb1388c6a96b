package thumbnails_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"testing"

	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails"
	"github.com/gorm-thumbnails/thumbnails/backends"
	"github.com/gorm-thumbnails/thumbnails/field"
)

// cancellingStorage is a real storage that calls cancel after its cancelAt-th
// Save (1-based), as a client that goes away while its upload is saved.
type cancellingStorage struct {
	backends.Storage
	saves    atomic.Int64
	cancelAt int64
	cancel   context.CancelFunc
	first    atomic.Value // the name of the first file saved
}

func (s *cancellingStorage) Save(ctx context.Context, name string, r io.Reader) (string, error) {
	n, err := s.Storage.Save(ctx, name, r)
	s.first.CompareAndSwap(nil, n)
	if s.saves.Add(1) == s.cancelAt {
		s.cancel()
	}
	return n, err
}

func (s *cancellingStorage) List(ctx context.Context, fn func(backends.FileInfo) error) error {
	return s.Storage.(backends.Lister).List(ctx, fn)
}

// TestCancelledSaveLeavesNothing checks that a save whose context is
// cancelled part way (after the source, after the first thumbnail, after
// the last) fails with context.Canceled and deletes every file it wrote,
// although the deletions run after the cancellation.
func TestCancelledSaveLeavesNothing(t *testing.T) {
	for _, d := range []struct {
		name string
		open func(testing.TB) *gorm.DB
	}{{"sqlite", openSQLite}, {"sqlite+redis", openSQLiteRedis}} {
		for _, at := range []int64{1, 2, 3} { // Food's eager sizes: source, small, medium
			t.Run(fmt.Sprintf("%s/after-write-%d", d.name, at), func(t *testing.T) {
				db := d.open(t)
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				base, raw := newStorage(t, db)
				st := &cancellingStorage{Storage: base, cancelAt: at, cancel: cancel}
				cfg := thumbnails.Config{Sizes: testSizes(), Storage: st}
				if m, ok := redisMetadata.Load(db); ok {
					cfg.Metadata = m.(backends.Metadata)
				}
				usePlugin(t, db, cfg, &Food{})
				food := newFood(t, "a", pizzaJPG)
				err := db.WithContext(ctx).Create(&food).Error
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("cancelled after write %d: %v, want context.Canceled", at, err)
				}
				if n := count(t, db, "foods"); n != 0 {
					t.Errorf("%d rows", n)
				}
				if files := raw.names(t); len(files) != 0 {
					t.Errorf("cancelled after write %d: files left behind: %v", at, files)
				}
				if recs, err := metadataOf(db).ThumbnailsOf(context.Background(), []string{st.first.Load().(string)}); err != nil || len(recs) != 0 {
					t.Errorf("records left: %v, %v", recs, err)
				}
			})
		}
	}
}

// cancellingFood cancels its save's context from its AfterCreate hook:
// after the row and its metadata are written, before gorm commits.
type cancellingFood struct {
	ID     uint
	Image  field.Image        `thumbnails:"sizes:small;dir:cancelling"`
	cancel context.CancelFunc `gorm:"-"`
}

func (f *cancellingFood) AfterCreate(*gorm.DB) error { f.cancel(); return nil }

// TestContextEndedBeforeCommit: a save whose context ends before gorm
// commits is rolled back by database/sql without a COMMIT sent, so its
// uploads are deleted, as any rollback's are; the row is not there.
func TestContextEndedBeforeCommit(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setup(t, db, &cancellingFood{})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		f := cancellingFood{Image: newFood(t, "a", pizzaJPG).Image, cancel: cancel}
		// database/sql rolls the transaction back as soon as its context
		// ends: the commit then fails with the context's error, or, when
		// the rollback came first, with sql.ErrTxDone.
		if err := db.WithContext(ctx).Create(&f).Error; !errors.Is(err, context.Canceled) && !errors.Is(err, sql.ErrTxDone) {
			t.Fatalf("Create: %v; want context.Canceled or sql.ErrTxDone", err)
		}
		var n int64
		if err := db.Model(&cancellingFood{}).Count(&n).Error; err != nil || n != 0 {
			t.Fatalf("%d rows, %v; want none", n, err)
		}
		if files := e.stored().names(t); len(files) != 0 {
			t.Errorf("files left behind: %v", files)
		}
	})
}
