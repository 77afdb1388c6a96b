package thumbnails_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/gorm-thumbnails/thumbnails"
)

// TestConcurrentWritersOnSQLite runs rows' saves, replaces, reads and
// deletes from several goroutines on a SQLite database opened with its
// default, deferred transactions. A statement that reads the images it
// releases before writing would hold a read lock that SQLite cannot upgrade
// while another connection waits to commit ("database is locked", at once,
// whatever the busy timeout); gorm's own statements, which write first,
// wait their turn. The plugin's must too.
func TestConcurrentWritersOnSQLite(t *testing.T) {
	db := openSQLite(t)
	setup(t, db, &Food{})
	photos := []string{pizzaJPG, pastaJPG, soupJPG}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := range 4 {
		wg.Go(func() {
			food := newFood(t, fmt.Sprint(w), photos[w%3])
			if err := db.Create(&food).Error; err != nil {
				errs <- fmt.Errorf("create: %w", err)
				return
			}
			for i := range 4 {
				food.Image = newFood(t, "", photos[(w+i)%3]).Image
				if err := db.Save(&food).Error; err != nil {
					errs <- fmt.Errorf("replace: %w", err)
				}
				var all []Food
				if err := db.Scopes(thumbnails.Preload()).Find(&all).Error; err != nil {
					errs <- fmt.Errorf("find: %w", err)
				}
			}
			if err := db.Model(&food).Update("name", "renamed").Error; err != nil {
				errs <- fmt.Errorf("update: %w", err)
			}
			if w%2 == 0 {
				if err := db.Delete(&food).Error; err != nil {
					errs <- fmt.Errorf("delete: %w", err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var rows []Food
	if err := db.Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if _, err := r.Image.Thumbnail(context.Background(), "small"); err != nil {
			t.Errorf("row %d: %v", r.ID, err)
		}
	}
}
