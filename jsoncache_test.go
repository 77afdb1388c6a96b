package thumbnails_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails"
	"github.com/gorm-thumbnails/thumbnails/field"
)

// TestJSONCachedRowSaved: a row encoded to JSON (a cache) and decoded holds
// its image's name. Saved as it is, unbound, it is refused with
// ErrNotBound and changes nothing; bound (Bind), it saves with another
// column changed, keeps its image and files, and reads its thumbnails.
// Bound after another request replaced the row's image, it keeps the new
// image rather than write back the stale name.
func TestJSONCachedRowSaved(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		e := setup(t, db, &Food{})
		food := newFood(t, "pizza", pizzaJPG)
		if err := db.Create(&food).Error; err != nil {
			t.Fatal(err)
		}
		small, err := food.Image.Thumbnail(ctx, "small")
		if err != nil {
			t.Fatal(err)
		}
		cached, err := json.Marshal(food)
		if err != nil {
			t.Fatal(err)
		}
		decode := func() Food {
			t.Helper()
			var back Food
			if err := json.Unmarshal(cached, &back); err != nil {
				t.Fatal(err)
			}
			if back.Image.Name() != food.Image.Name() {
				t.Fatalf("decoded image %q; want %q", back.Image.Name(), food.Image.Name())
			}
			return back
		}
		back := decode()
		back.Name = "pasta"
		if err := db.Save(&back).Error; !errors.Is(err, field.ErrNotBound) {
			t.Fatalf("saving the decoded row unbound: %v; want ErrNotBound", err)
		}
		back = decode()
		if err := thumbnails.Bind(db, &back); err != nil {
			t.Fatal(err)
		}
		back.Name = "pasta"
		if err := db.Save(&back).Error; err != nil {
			t.Fatal(err)
		}
		var got Food
		if err := db.First(&got, food.ID).Error; err != nil {
			t.Fatal(err)
		}
		if got.Name != "pasta" || got.Image.Name() != food.Image.Name() || !e.exists(t, food.Image.Name()) || !e.exists(t, small.Name) {
			t.Fatalf("after saving the bound decoded row: %q %q; source kept %v, small kept %v",
				got.Name, got.Image.Name(), e.exists(t, food.Image.Name()), e.exists(t, small.Name))
		}
		if th, err := back.Image.Thumbnail(ctx, "small"); err != nil || th.Name != small.Name {
			t.Errorf("small of the bound decoded row: %+v, %v", th, err)
		}

		// Another request replaces the image; the stale cached row, bound
		// and saved, keeps the new one.
		got.Image = newFood(t, "pasta", pastaJPG).Image
		if err := db.Save(&got).Error; err != nil {
			t.Fatal(err)
		}
		stale := decode()
		if err := thumbnails.Bind(db, &stale); err != nil {
			t.Fatal(err)
		}
		stale.Name = "soup"
		if err := db.Save(&stale).Error; err != nil {
			t.Fatal(err)
		}
		var now Food
		if err := db.First(&now, food.ID).Error; err != nil {
			t.Fatal(err)
		}
		if now.Image.Name() != got.Image.Name() || !e.exists(t, got.Image.Name()) {
			t.Errorf("after saving the stale cached row: image %q (file kept %v); want the new %q",
				now.Image.Name(), e.exists(t, now.Image.Name()), got.Image.Name())
		}
	})
}
