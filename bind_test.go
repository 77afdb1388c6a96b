package thumbnails_test

import (
	"context"
	"errors"
	"testing"

	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails"
	"github.com/gorm-thumbnails/thumbnails/field"
)

// TestBind checks that rows read by Raw(...).Scan, which runs no query
// callbacks, answer field.ErrNotBound until Bind attaches the plugin, then
// their thumbnails, whatever the shape of dest.
func TestBind(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		setup(t, db, &Food{})
		food := newFood(t, "a", pizzaJPG)
		if err := db.Create(&food).Error; err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		var one Food
		var many []Food
		var ptrs []*Food
		for _, dest := range []any{&one, &many, &ptrs} {
			if err := db.Raw("SELECT * FROM foods").Scan(dest).Error; err != nil {
				t.Fatal(err)
			}
		}
		images := []*field.Image{&one.Image, &many[0].Image, &ptrs[0].Image}
		if _, err := images[0].Thumbnail(ctx, "small"); !errors.Is(err, field.ErrNotBound) {
			t.Fatalf("a row read by Raw().Scan before Bind: %v, want ErrNotBound", err)
		}
		for _, dest := range []any{&one, many, &ptrs} {
			if err := thumbnails.Bind(db, dest); err != nil {
				t.Fatalf("Bind(%T): %v", dest, err)
			}
		}
		for i, img := range images {
			if small, err := img.Thumbnail(ctx, "small"); err != nil || small.Width != 100 {
				t.Errorf("image %d after Bind: %+v, %v", i, small, err)
			}
		}
		if err := thumbnails.Bind(db, one); !errors.Is(err, thumbnails.ErrInvalidConfig) {
			t.Errorf("Bind of a struct value: %v, want ErrInvalidConfig", err)
		}
		if err := thumbnails.Bind(openSQLite(t), &one); !errors.Is(err, thumbnails.ErrNotRegistered) {
			t.Errorf("Bind without the plugin: %v, want ErrNotRegistered", err)
		}
	})
}
