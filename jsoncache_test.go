package thumbnails_test

import (
	"context"
	"encoding/json"
	"testing"

	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails"
)

// TestJSONCachedRowSaved: a row encoded to JSON (a cache) and decoded holds
// its image's name; saving it with another column changed keeps the image
// and its files, and Bind lets it read its thumbnails.
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
		var back Food
		if err := json.Unmarshal(cached, &back); err != nil {
			t.Fatal(err)
		}
		if back.Image.Name() != food.Image.Name() {
			t.Fatalf("decoded image %q; want %q", back.Image.Name(), food.Image.Name())
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
			t.Fatalf("after saving the decoded row: %q %q; source kept %v, small kept %v",
				got.Name, got.Image.Name(), e.exists(t, food.Image.Name()), e.exists(t, small.Name))
		}
		var fresh Food
		if err := json.Unmarshal(cached, &fresh); err != nil {
			t.Fatal(err)
		}
		if err := thumbnails.Bind(db, &fresh); err != nil {
			t.Fatal(err)
		}
		if th, err := fresh.Image.Thumbnail(ctx, "small"); err != nil || th.Name != small.Name {
			t.Errorf("small of the bound decoded row: %+v, %v", th, err)
		}
	})
}
