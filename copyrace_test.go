package thumbnails_test

import (
	"context"
	"errors"
	"hash/fnv"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/gorm-thumbnails/thumbnails"
	"github.com/gorm-thumbnails/thumbnails/backends"
	"github.com/gorm-thumbnails/thumbnails/field"
	"github.com/gorm-thumbnails/thumbnails/internal/testdb"
)

// TestCopyRacingDelete: on PostgreSQL, a transaction copies row a's image
// into a new row b and stays open while a is deleted. The delete's
// clean-up cannot see b yet; it must not delete the source b is about to
// commit (it leaves it for a later drain), and once b has committed and is
// deleted in turn, the source goes. (SQLite has one writer: the delete
// would wait for the copy's transaction.) With the metadata in the
// database and in Redis.
func TestCopyRacingDelete(t *testing.T) {
	for _, store := range []string{"database", "redis"} {
		t.Run(store, func(t *testing.T) {
			db := testdb.Postgres(t)
			if store == "redis" {
				client := testdb.Redis(t)
				redisMetadata.Store(db, backends.NewRedisMetadata(client, testdb.RedisPrefix(t, client)))
				t.Cleanup(func() { redisMetadata.Delete(db) })
			}
			e := setup(t, db, &Food{})
			a := Food{Name: "a", Image: field.NewImage("a.jpg", reader(photo(t, pizzaJPG)))}
			if err := db.Create(&a).Error; err != nil {
				t.Fatal(err)
			}
			source := a.Image.Name()
			files := e.files(t)

			tx := db.Begin()
			b := Food{Name: "b", Image: a.Image}
			if err := tx.Create(&b).Error; err != nil {
				t.Fatal(err)
			}
			if err := db.Delete(&a).Error; err != nil {
				t.Fatal(err)
			}
			if err := tx.Commit().Error; err != nil {
				t.Fatal(err)
			}
			got := committedCopy(t, db, e, b.ID, source)

			if err := db.Delete(&got).Error; err != nil {
				t.Fatal(err)
			}
			for _, f := range files {
				if e.exists(t, f) {
					t.Errorf("%s is still stored once no row references it", f)
				}
			}
		})
	}
}

// TestCopyWaitsForCleanUp: a copy whose source's lock a clean-up holds
// waits for it; if the clean-up deleted the source, the copy fails with
// backends.ErrNotFound and writes no row, and if it kept it, the copy
// goes through. The clean-up is played by a transaction holding the lock
// (the key the README gives) while the test deletes the source or not.
func TestCopyWaitsForCleanUp(t *testing.T) {
	for _, deleted := range []bool{true, false} {
		t.Run(map[bool]string{true: "deleted", false: "kept"}[deleted], func(t *testing.T) {
			db := testdb.Postgres(t)
			e := setup(t, db, &Food{})
			a := Food{Name: "a", Image: field.NewImage("a.jpg", reader(photo(t, pizzaJPG)))}
			if err := db.Create(&a).Error; err != nil {
				t.Fatal(err)
			}
			source := a.Image.Name()
			h := fnv.New32a()
			h.Write([]byte(source))
			holder := db.Begin()
			defer holder.Rollback()
			class := "CAST(CAST('x' || left(md5('thumbnails:' || current_schema()), 8) AS bit(32)) AS int)"
			if err := holder.Exec("SELECT pg_advisory_xact_lock("+class+", ?)", int32(h.Sum32()%64)).Error; err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- db.Create(&Food{Name: "b", Image: a.Image}).Error }()
			select {
			case err := <-done:
				t.Fatalf("the copy did not wait for the lock: %v", err)
			case <-time.After(300 * time.Millisecond):
			}
			if deleted {
				e.remove(t, source)
			}
			if err := holder.Commit().Error; err != nil {
				t.Fatal(err)
			}
			err := <-done
			var n int64
			if err := db.Model(&Food{}).Where("name = ?", "b").Count(&n).Error; err != nil {
				t.Fatal(err)
			}
			switch {
			case deleted && (!errors.Is(err, backends.ErrNotFound) || n != 0):
				t.Errorf("copy of a deleted source: %v, %d rows; want ErrNotFound and none", err, n)
			case !deleted && (err != nil || n != 1):
				t.Errorf("copy of a kept source: %v, %d rows; want it written", err, n)
			}
		})
	}
}

// TestCopyCommittedDuringCleanUp: on SQLite, a transaction copies row a's
// image into a dish after a's delete committed and before its clean-up
// checked the rows, and commits while the clean-up runs, between its check
// and its deletes. The clean-up must see the dish: the source stays. (The
// clean-up's check used to be a read outside any transaction, which the
// copy's open transaction did not block.)
func TestCopyCommittedDuringCleanUp(t *testing.T) {
	db := testdb.SQLite(t, "")
	e, food := setupFood(t, db)
	var armed, copied, waiting atomic.Bool
	committed := make(chan error, 1)
	var copyErr error
	onOutbox := func(q *gorm.DB) {
		if q.Statement.Table != "thumbnails_outbox" || !armed.CompareAndSwap(true, false) {
			return
		}
		// The clean-up is about to read the outbox: the copy writes its
		// row, and commits a moment later.
		tx := db.Begin()
		if copyErr = tx.Create(&Dish{Photo: food.Image}).Error; copyErr != nil {
			tx.Rollback()
			return
		}
		copied.Store(true)
		waiting.Store(true)
		go func() {
			time.Sleep(200 * time.Millisecond)
			waiting.Store(false) // the commit reads the records too
			committed <- tx.Commit().Error
		}()
	}
	onMetadata := func(q *gorm.DB) {
		// The clean-up found the source free and reads its records before
		// deleting its files: the copy commits now.
		if waiting.Load() && (strings.Contains(q.Statement.SQL.String(), backends.ThumbnailsTable) || q.Statement.Table == backends.ThumbnailsTable) {
			select {
			case err := <-committed:
				committed <- err
			case <-time.After(3 * time.Second):
			}
		}
	}
	if err := db.Callback().Query().Before("gorm:query").Register("test:copy", onOutbox); err != nil {
		t.Fatal(err)
	}
	if err := db.Callback().Row().Before("gorm:row").Register("test:metadata", onMetadata); err != nil {
		t.Fatal(err)
	}
	if err := db.Callback().Query().Before("gorm:query").Register("test:metadata", onMetadata); err != nil {
		t.Fatal(err)
	}
	armed.Store(true)
	if err := db.Delete(&Food{}, food.ID).Error; err != nil {
		t.Fatal(err)
	}
	waiting.Store(false) // the clean-up kept the source, or deleted it: done
	if copyErr != nil || !copied.Load() {
		t.Fatalf("the copy was not written during the clean-up: %v", copyErr)
	}
	if err := <-committed; err != nil {
		t.Fatalf("commit the copy: %v", err)
	}
	var dish Dish
	if err := db.First(&dish).Error; err != nil || dish.Photo.Name() != food.Image.Name() {
		t.Fatalf("the dish holds %q (%v), want %q", dish.Photo.Name(), err, food.Image.Name())
	}
	requireKept(t, db, e, dish.Photo.Name(), "the dish's photo, copied while its original's clean-up ran")
	th, err := dish.Photo.Thumbnail(context.Background(), "small")
	if err != nil || !e.exists(t, th.Name) {
		t.Fatalf("the dish's small: %+v, %v", th, err)
	}
	if err := db.Unscoped().Delete(&dish).Error; err != nil { // Dish is soft-deleted otherwise
		t.Fatal(err)
	}
	for _, name := range []string{dish.Photo.Name(), th.Name} {
		if e.exists(t, name) {
			t.Errorf("%s is still stored once the dish, its last row, is deleted", name)
		}
	}
}

// TestCopyWaitingForCleanUpSQLite: on SQLite, a copy of a's image made
// while a's clean-up holds the write lock waits for it; the clean-up
// deletes the source (no row held it when it checked), so the copy must
// then fail with backends.ErrNotFound and write no row, rather than write
// a row holding a deleted name.
func TestCopyWaitingForCleanUpSQLite(t *testing.T) {
	// With _txlock=immediate the copy waits at its BEGIN, before any
	// callback of the plugin has run.
	// In a transaction of the caller's, begun while the clean-up runs,
	// the copy waits at its BEGIN IMMEDIATE instead.
	for _, c := range []struct {
		name, params string
		inTx         bool
	}{{"deferred", "", false}, {"immediate", "&_txlock=immediate", false}, {"immediate-transaction", "&_txlock=immediate", true}} {
		t.Run(c.name, func(t *testing.T) { copyWaitingForCleanUp(t, testdb.SQLite(t, c.params), c.inTx) })
	}
}

func copyWaitingForCleanUp(t *testing.T, db *gorm.DB, inTx bool) {
	e, food := setupFood(t, db)
	// A dish of its own first: the dishes' columns are recorded, and the
	// copy's first write is its own.
	if err := db.Create(&Dish{Photo: field.NewImage("d.jpg", reader(photo(t, pizzaJPG)))}).Error; err != nil {
		t.Fatal(err)
	}
	var armed, draining atomic.Bool
	done := make(chan error, 1)
	err := db.Callback().Query().Before("gorm:query").Register("test:copy", func(q *gorm.DB) {
		switch {
		case q.Statement.Table == "thumbnails_outbox" && armed.CompareAndSwap(true, false):
			draining.Store(true) // the clean-up has begun
		case draining.CompareAndSwap(true, false):
			// The clean-up's next query checks the rows, under the write
			// lock: a copy begins, and must wait for it.
			go func() {
				if inTx {
					done <- db.Transaction(func(tx *gorm.DB) error { return tx.Create(&Dish{Photo: food.Image}).Error })
					return
				}
				done <- db.Create(&Dish{Photo: food.Image}).Error
			}()
			time.Sleep(300 * time.Millisecond)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	armed.Store(true)
	if err := db.Delete(&Food{}, food.ID).Error; err != nil {
		t.Fatal(err)
	}
	err = <-done
	var dishes []Dish
	if err := db.Where("photo = ?", food.Image.Name()).Find(&dishes).Error; err != nil {
		t.Fatal(err)
	}
	if e.exists(t, food.Image.Name()) {
		t.Fatalf("the clean-up kept %s, which no row held when it checked", food.Image.Name())
	}
	if !errors.Is(err, backends.ErrNotFound) || len(dishes) != 0 {
		t.Fatalf("copy of a source its clean-up deleted: %v, %d dish(es) written (%+v); want ErrNotFound and none", err, len(dishes), dishes)
	}
}

// saveHookStorage runs onSave before each Save.
type saveHookStorage struct {
	backends.Storage
	onSave func(name string)
}

func (h *saveHookStorage) Save(ctx context.Context, name string, r io.Reader) (string, error) {
	if h.onSave != nil {
		h.onSave(name)
	}
	return h.Storage.Save(ctx, name, r)
}

// cleanUpDuringUpload sets the plugin up on db over a file storage, saves
// a food, and returns a function that creates dish and, while it stores
// the dish's photo upload (before its transaction begins), deletes the
// food, whose image is cleaned up in the same process (the function fails
// the test if it was not), and returns the error of the dish's Create. It
// also returns the food, loaded again.
func cleanUpDuringUpload(t *testing.T, db *gorm.DB) (Food, func(dish *Dish) error) {
	t.Helper()
	files := localFiles(t.TempDir())
	hs := &saveHookStorage{Storage: backends.NewFileSystemStorage(string(files), "/media/")}
	usePlugin(t, db, thumbnails.Config{Sizes: testSizes(), Storage: hs}, &Food{}, &Dish{})
	food := newFood(t, "pizza", pizzaJPG)
	if err := db.Create(&food).Error; err != nil {
		t.Fatal(err)
	}
	var loaded Food
	if err := db.First(&loaded, food.ID).Error; err != nil {
		t.Fatal(err)
	}
	create := func(dish *Dish) error {
		var once sync.Once
		hs.onSave = func(name string) {
			if strings.HasPrefix(name, "dishes/") { // the dish's own photo
				once.Do(func() {
					if err := db.Delete(&Food{}, food.ID).Error; err != nil {
						t.Error(err)
					}
				})
			}
		}
		err := db.Create(dish).Error
		if files.exists(t, loaded.Image.Name()) {
			t.Fatalf("the food's image %s was kept: the test did not clean it up during the dish's statement", loaded.Image.Name())
		}
		return err
	}
	return loaded, create
}

// TestCopyCleanedUpDuringItsStatement: a statement writes a dish with a
// new photo and, as its cover, a food's image; while it stores the photo
// (before its transaction begins), the food is deleted and its image
// cleaned up in the same process. The copy must fail with
// backends.ErrNotFound and write no row, rather than commit a row holding
// a deleted name.
func TestCopyCleanedUpDuringItsStatement(t *testing.T) {
	for _, d := range []struct {
		name string
		open func(testing.TB) *gorm.DB
	}{
		{"sqlite", openSQLite},
		{"sqlite-immediate", func(t testing.TB) *gorm.DB { return testdb.SQLite(t, "&_txlock=immediate") }},
		{"postgres", testdb.Postgres},
	} {
		t.Run(d.name, func(t *testing.T) {
			db := d.open(t)
			food, create := cleanUpDuringUpload(t, db)
			err := create(&Dish{Photo: field.NewImage("pasta.jpg", reader(photo(t, pastaJPG))), Cover: food.Image})
			var n int64
			if err := db.Model(&Dish{}).Count(&n).Error; err != nil {
				t.Fatal(err)
			}
			if !errors.Is(err, backends.ErrNotFound) || n != 0 {
				t.Errorf("copy of a source cleaned up during its statement: %v, %d dish(es); want ErrNotFound and none", err, n)
			}
		})
	}
}

// TestCopyDuringAnotherCleanUp: while a statement copies a name that has
// no file (which saves, see TestCopyOfAMissingFileSaves) and stores an
// upload, another row is deleted and its image cleaned up in the same
// process. The copy checks only the sources that clean-up deleted: it
// saves.
func TestCopyDuringAnotherCleanUp(t *testing.T) {
	for _, d := range []struct {
		name string
		open func(testing.TB) *gorm.DB
	}{{"sqlite", openSQLite}, {"postgres", testdb.Postgres}} {
		t.Run(d.name, func(t *testing.T) {
			db := d.open(t)
			_, create := cleanUpDuringUpload(t, db)
			dish := Dish{Photo: field.NewImage("pasta.jpg", reader(photo(t, pastaJPG)))}
			if err := dish.Cover.Scan("dishes/nothing-here.jpg"); err != nil {
				t.Fatal(err)
			}
			if err := create(&dish); err != nil {
				t.Fatalf("copy of a name with no file, during another row's clean-up: %v", err)
			}
		})
	}
}

// TestCopyOfASourceDeletedBefore copies an image kept from a row that was
// deleted since, its files cleaned up by this process, into another row:
// by Save, by an Update of the column, by a Create. Each fails with
// backends.ErrNotFound and writes nothing, rather than commit a row naming
// a file that is gone, with or without a transaction. (The check covered
// only a clean-up during the copy's statement; then, without a
// transaction, it came after the write.)
func TestCopyOfASourceDeletedBefore(t *testing.T) {
	forEachDialect(t, testCopyOfASourceDeletedBefore)
}

// renamedDialector is a dialector under another name, as some spell
// SQLite ("sqlite3") and PostgreSQL ("pgx").
type renamedDialector struct {
	gorm.Dialector
	name string
}

func (d renamedDialector) Name() string { return d.name }

func (d renamedDialector) SavePoint(tx *gorm.DB, name string) error {
	return d.Dialector.(gorm.SavePointerDialectorInterface).SavePoint(tx, name)
}

func (d renamedDialector) RollbackTo(tx *gorm.DB, name string) error {
	return d.Dialector.(gorm.SavePointerDialectorInterface).RollbackTo(tx, name)
}

func (d renamedDialector) Translate(err error) error {
	if t, ok := d.Dialector.(gorm.ErrorTranslator); ok {
		return t.Translate(err)
	}
	return err
}

// TestDialectAliases: a dialector that names SQLite "sqlite3", or
// PostgreSQL "pgx", gets every protection of its database (here: a copy of
// a source deleted before is refused), not none.
func TestDialectAliases(t *testing.T) {
	for _, c := range []struct {
		alias string
		open  func(testing.TB) *gorm.DB
	}{{"sqlite3", openSQLite}, {"pgx", testdb.Postgres}} {
		t.Run(c.alias, func(t *testing.T) {
			db, err := gorm.Open(renamedDialector{c.open(t).Dialector, c.alias}, gormConfig())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				if sqlDB, err := db.DB(); err == nil {
					_ = sqlDB.Close()
				}
			})
			testCopyOfASourceDeletedBefore(t, db)
		})
	}
}

func testCopyOfASourceDeletedBefore(t *testing.T, db *gorm.DB) {
	{
		e := setup(t, db, &Food{}, &Menu{}, &Course{})
		a, b := newFood(t, "a", pizzaJPG), newFood(t, "b", pastaJPG)
		if err := db.Create(&a).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Create(&b).Error; err != nil {
			t.Fatal(err)
		}
		kept, own := a.Image, b.Image.Name()
		if err := db.Delete(&a).Error; err != nil {
			t.Fatal(err)
		}
		if e.exists(t, kept.Name()) {
			t.Fatalf("the deleted row's source %s is still stored", kept.Name())
		}
		// Without a transaction too (SkipDefaultTransaction): the check
		// comes before the write, which nothing would roll back.
		noTx := db.Session(&gorm.Session{SkipDefaultTransaction: true})
		for _, conn := range []*gorm.DB{db, noTx} {
			for name, write := range map[string]func() error{
				"Save": func() error {
					c := b
					c.Image = kept
					return conn.Save(&c).Error
				},
				"Update": func() error { return conn.Model(&Food{ID: b.ID}).Update("image", kept).Error },
				"Create": func() error { return conn.Create(&Food{Name: "copy", Image: kept}).Error },
				// what gorm writes with ON CONFLICT: a slice's Save (an
				// upsert), an explicit upsert, a child inserted with its
				// parent (ON CONFLICT DO NOTHING)
				"Save(&slice)": func() error {
					c := b
					c.Image = kept
					return conn.Save(&[]Food{c}).Error
				},
				"upsert": func() error {
					return conn.Clauses(clause.OnConflict{UpdateAll: true}).Create(&Food{Name: "copy", Image: kept}).Error
				},
				"child": func() error { return conn.Create(&Menu{Name: "copy", Courses: []Course{{Image: kept}}}).Error },
				// an insert that would write nothing (its row is there)
				// is refused all the same: it names a deleted file
				"ON CONFLICT DO NOTHING": func() error {
					return conn.Clauses(clause.OnConflict{DoNothing: true}).Create(&Food{ID: b.ID, Name: "copy", Image: kept}).Error
				},
			} {
				if err := write(); !errors.Is(err, backends.ErrNotFound) {
					t.Errorf("%s of the deleted source (skip transaction: %t): %v, want ErrNotFound", name, conn == noTx, err)
				}
				var held, courses int64
				err1 := db.Model(&Food{}).Where("image = ?", kept.Name()).Count(&held).Error
				err2 := db.Model(&Course{}).Where("image = ?", kept.Name()).Count(&courses).Error
				if err1 != nil || err2 != nil || held+courses != 0 {
					t.Errorf("%s of the deleted source (skip transaction: %t): %d rows hold it (%v, %v)", name, conn == noTx, held+courses, err1, err2)
				}
			}
		}
		var rows []Food
		if err := db.Order("id").Find(&rows).Error; err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 || rows[0].Image.Name() != own || !e.exists(t, own) {
			t.Errorf("rows %+v; want b alone, holding its own %s, stored", rows, own)
		}
	}
}

// committedCopy returns the food id, committed holding a copy of source,
// after checking that it does, and that source and its small are still
// stored (the clean-up of the row it came from kept them).
func committedCopy(t *testing.T, db *gorm.DB, e *env, id uint, source string) Food {
	t.Helper()
	var got Food
	if err := db.First(&got, id).Error; err != nil || got.Image.Name() != source {
		t.Fatalf("b holds %q (%v), want %q", got.Image.Name(), err, source)
	}
	if !e.exists(t, source) {
		t.Fatalf("the source %s of the committed row b was deleted with a", source)
	}
	if th, err := got.Image.Thumbnail(context.Background(), "small"); err != nil || !e.exists(t, th.Name) {
		t.Errorf("b's small: %+v, %v", th, err)
	}
	return got
}
