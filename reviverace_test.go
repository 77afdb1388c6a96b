package thumbnails_test

import (
	"errors"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails"
	"github.com/gorm-thumbnails/thumbnails/backends"
)

// TestCreateOfALoadedRowRacingItsCleanUp: a row is deleted, and while its
// clean-up deletes its files, the row as loaded before is created again.
// The create waits for the clean-up and fails with ErrNotFound, writing
// nothing: the row never names a deleted source.
func TestCreateOfALoadedRowRacingItsCleanUp(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		base, _ := newStorage(t, db)
		// its first Delete waits: the clean-up caught half-way (a slow disk, S3)
		st := &pausingStorage{Storage: base, gate: "\x00", deleting: make(chan struct{}), deleteOpen: make(chan struct{})}
		cfg := thumbnails.Config{Sizes: testSizes(), Storage: st}
		if m, ok := redisMetadata.Load(db); ok {
			cfg.Metadata = m.(backends.Metadata)
		}
		usePlugin(t, db, cfg, &Food{})
		a, loaded := savedAndLoaded(t, db)
		deleted := make(chan error, 1)
		go func() { deleted <- db.Delete(&Food{}, a.ID).Error }()
		<-st.deleting // the clean-up checked the references and is deleting
		created := make(chan error, 1)
		go func() { created <- db.Create(&loaded).Error }()
		var createErr error
		waited := false
		select {
		case createErr = <-created:
			t.Errorf("the create did not wait for the clean-up: %v", createErr)
		case <-time.After(300 * time.Millisecond):
			waited = true
		}
		close(st.deleteOpen)
		if err := <-deleted; err != nil {
			t.Fatal(err)
		}
		if waited {
			createErr = <-created
		}
		if !errors.Is(createErr, backends.ErrNotFound) {
			t.Errorf("the create: %v, want ErrNotFound", createErr)
		}
		var n int64
		if err := db.Model(&Food{}).Where("id = ?", a.ID).Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%d rows written, naming the deleted source", n)
		}
	})
}
