package thumbnails_test

import (
	"context"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails"

	"github.com/gorm-thumbnails/thumbnails/field"
	"github.com/gorm-thumbnails/thumbnails/internal/testdb"
)

// TestSingleConnectionSQLite: SQLite applications often allow a single
// connection (sql.DB.SetMaxOpenConns(1)). Every step of an image's life,
// the clean-up after a commit included, must then run on that one
// connection without waiting for a second: a create, a copy, a replace,
// a delete in a transaction and outside, a lazy read, Preload.
func TestSingleConnectionSQLite(t *testing.T) {
	db := testdb.SQLite(t, "")
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	sqlDB.SetMaxOpenConns(1)
	e := setup(t, db, &Food{}, &Dish{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		ctx := context.Background()
		a := newFood(t, "a", pizzaJPG)
		if err := db.Create(&a).Error; err != nil {
			t.Error(err)
			return
		}
		first := a.Image.Name()
		dish := Dish{Photo: a.Image}
		if err := db.Create(&dish).Error; err != nil {
			t.Errorf("copy: %v", err)
			return
		}
		if th, err := a.Image.Thumbnail(ctx, "large"); err != nil || !e.exists(t, th.Name) {
			t.Errorf("lazy large: %+v, %v", th, err)
		}
		err := db.Transaction(func(tx *gorm.DB) error {
			b := newFood(t, "in a transaction", pizzaJPG)
			if err := tx.Create(&b).Error; err != nil {
				return err
			}
			_, err := b.Image.Thumbnail(ctx, "large") // made through the transaction
			return err
		})
		if err != nil {
			t.Errorf("lazy size in a transaction: %v", err)
		}
		a.Image = field.NewImage("b.jpg", reader(photo(t, pizzaJPG)))
		if err := db.Save(&a).Error; err != nil {
			t.Errorf("replace: %v", err)
			return
		}
		if err := db.Transaction(func(tx *gorm.DB) error { return tx.Delete(&a).Error }); err != nil {
			t.Errorf("delete in a transaction: %v", err)
			return
		}
		if !e.exists(t, first) {
			t.Errorf("%s, which the dish holds, was deleted", first)
		}
		var dishes []Dish
		if err := db.Scopes(thumbnails.Preload()).Find(&dishes).Error; err != nil || len(dishes) != 1 {
			t.Errorf("preload: %d dishes, %v", len(dishes), err)
			return
		}
		if _, err := dishes[0].Photo.Thumbnail(ctx, "small"); err != nil {
			t.Errorf("small: %v", err)
		}
		if err := db.Unscoped().Delete(&dishes[0]).Error; err != nil {
			t.Errorf("delete: %v", err)
			return
		}
		if e.exists(t, first) {
			t.Errorf("%s is still stored once its last row is deleted", first)
		}
	}()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("stuck: the plugin waits for a second connection")
	}
}
