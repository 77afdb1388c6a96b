package thumbnails_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	sqlite3 "github.com/mattn/go-sqlite3"
	"gorm.io/driver/sqlite"

	"github.com/gorm-thumbnails/thumbnails"
	"github.com/gorm-thumbnails/thumbnails/backends"
	"github.com/gorm-thumbnails/thumbnails/internal/testdb"
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

// attachedDrivers numbers the drivers TestConcurrentWritersOnAnAttachedSQLite
// registers, so that it runs again with -count.
var attachedDrivers atomic.Int64

// TestConcurrentWritersOnAnAttachedSQLite is TestConcurrentWritersOnSQLite
// on a table of an attached database, db.Table("archive.foods"): the write
// lock taken before a read is that database's, as well as the main one's
// (the outbox and the metadata). A process's first writes to the table
// record its column in the main database before the insert: they take the
// table's lock first too. They took the main one first, and a create and a
// replace each waited for the lock the other held until the busy timeout
// failed one ("database is locked"; 2 runs in 15 on a loaded machine).
func TestConcurrentWritersOnAnAttachedSQLite(t *testing.T) {
	dir := t.TempDir()
	archive := filepath.Join(dir, "archive.db")
	driver := fmt.Sprintf("sqlite3_attached_%d", attachedDrivers.Add(1)) // a name is registered once a process
	sql.Register(driver, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		_, err := c.Exec("ATTACH DATABASE '"+archive+"' AS archive", nil)
		return err
	}})
	db := testdb.Open(t, sqlite.New(sqlite.Config{DriverName: driver, DSN: filepath.Join(dir, "main.db") + "?_busy_timeout=5000"}))
	usePlugin(t, db, thumbnails.Config{Sizes: testSizes(), Storage: backends.NewFileSystemStorage(t.TempDir(), "/media/")})
	if err := db.Exec("CREATE TABLE archive.foods (id integer primary key autoincrement, name text, image text)").Error; err != nil {
		t.Fatal(err)
	}
	photos := []string{pizzaJPG, pastaJPG, soupJPG}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := range 4 {
		wg.Go(func() {
			for i := range 10 {
				food := newFood(t, fmt.Sprint(w), photos[(w+i)%3])
				if err := db.Table("archive.foods").Create(&food).Error; err != nil {
					errs <- fmt.Errorf("create: %w", err)
					return
				}
				if err := db.Table("archive.foods").Model(&Food{ID: food.ID}).Update("image", newFood(t, "", photos[i%3]).Image).Error; err != nil {
					errs <- fmt.Errorf("replace: %w", err)
				}
				if i%2 == 0 {
					if err := db.Table("archive.foods").Delete(&Food{}, food.ID).Error; err != nil {
						errs <- fmt.Errorf("delete: %w", err)
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
