package thumbnails_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails"
	"github.com/gorm-thumbnails/thumbnails/backends"
	"github.com/gorm-thumbnails/thumbnails/field"
)

// Album has many photos whose codes are unique: a photo whose insert
// conflicts fails the album's statement after the album's own row is
// written.
type Album struct {
	ID     uint
	Cover  field.Image `thumbnails:"sizes:small,later;dir:albums"`
	Photos []AlbumPhoto
}

// AlbumPhoto is a photo of an Album.
type AlbumPhoto struct {
	ID      uint
	AlbumID uint
	Code    string      `gorm:"uniqueIndex"`
	Photo   field.Image `thumbnails:"sizes:small;dir:albumphotos"`
}

// upload returns a new upload of a test photo.
func upload(t testing.TB, file string) field.Image {
	return field.NewImage(file, reader(photo(t, file)))
}

// TestAssociationFailureKeepsTheRowsRecords checks a save whose own row is
// written and whose has-many association then fails (a unique index), where
// the row commits all the same: without any transaction, or in the caller's
// transaction that commits what was written (SQLite does not abort a
// transaction on a failed statement). The committed row's eager sizes are
// recorded, its async size is queued, and Prune finds no orphan among its
// files; on a create and on a replace.
func TestAssociationFailureKeepsTheRowsRecords(t *testing.T) {
	noTx := func(db *gorm.DB, save func(*gorm.DB) error) error {
		return save(db.Session(&gorm.Session{SkipDefaultTransaction: true}))
	}
	callersTx := func(db *gorm.DB, save func(*gorm.DB) error) error {
		var saveErr error
		err := db.Transaction(func(tx *gorm.DB) error {
			saveErr = save(tx)
			return nil // the caller logs the error and commits what was written
		})
		return errors.Join(saveErr, err)
	}
	for _, c := range []struct {
		name    string
		run     func(db *gorm.DB, save func(*gorm.DB) error) error
		inTx    bool // run in the caller's transaction
		replace bool
	}{
		{"create, no transaction", noTx, false, false},
		{"replace, no transaction", noTx, false, true},
		{"create, caller's transaction committed anyway", callersTx, true, false},
		{"replace, caller's transaction committed anyway", callersTx, true, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			forEachDialect(t, func(t *testing.T, db *gorm.DB) {
				if c.inTx && db.Dialector.Name() == "postgres" {
					t.Skip("a failed statement aborts a Postgres transaction: nothing it wrote commits")
				}
				q := &memoryEnqueuer{}
				setupSizesConfig(t, db, thumbnails.Config{Sizes: asyncSizes(), Enqueuer: q}, &Album{}, &AlbumPhoto{})
				ctx := context.Background()
				if err := db.Create(&Album{Photos: []AlbumPhoto{{Code: "taken", Photo: upload(t, pastaJPG)}}}).Error; err != nil {
					t.Fatal(err)
				}
				album := Album{Cover: upload(t, pizzaJPG)}
				if c.replace {
					if err := db.Create(&album).Error; err != nil {
						t.Fatal(err)
					}
					album.Cover = upload(t, soupJPG)
				}
				album.Photos = []AlbumPhoto{{Code: "taken", Photo: upload(t, pastaJPG)}}
				if err := c.run(db, func(db *gorm.DB) error { return db.Save(&album).Error }); err == nil {
					t.Fatal("save: no error, want the photo's unique index")
				}

				var got []Album
				if err := db.Scopes(thumbnails.Preload()).Find(&got, album.ID).Error; err != nil || len(got) != 1 || got[0].Cover.Name() == "" {
					t.Fatalf("the committed album: %+v, %v", got, err)
				}
				cover := got[0].Cover.Name()
				if all, err := got[0].Cover.Thumbnails(ctx); err != nil || all["small"].Name == "" {
					t.Errorf("Thumbnails of the committed album %q: %v, %v; want small recorded", cover, all, err)
				}
				if !slices.ContainsFunc(q.jobs, func(j thumbnails.Job) bool { return j.Source == cover && j.Size == "later" }) {
					t.Errorf("jobs %+v: none makes later of the committed album's %q", q.jobs, cover)
				}
				report, err := thumbnails.Prune(ctx, db, thumbnails.PruneOptions{MinAge: -1, Models: []any{&Album{}, &AlbumPhoto{}}})
				if err != nil || len(report.Files) != 0 {
					t.Errorf("Prune (dry run): would delete %v, %v; want nothing", report.Files, err)
				}
			})
		})
	}
}

var errHookRefused = errors.New("refused by the hook")

// Refusing fails its AfterCreate, AfterUpdate and AfterDelete hooks when
// Refuse is set.
type Refusing struct {
	ID     uint
	Refuse bool
	Image  field.Image `thumbnails:"sizes:small;dir:refusing"`
}

func (r *Refusing) refused() error {
	if r.Refuse {
		return errHookRefused
	}
	return nil
}

func (r *Refusing) AfterCreate(*gorm.DB) error { return r.refused() }

func (r *Refusing) AfterUpdate(*gorm.DB) error { return r.refused() }

func (r *Refusing) AfterDelete(*gorm.DB) error { return r.refused() }

// TestHookErrorAfterAutocommitCleansUp checks a replace and a delete without
// any transaction (SkipDefaultTransaction) whose AfterUpdate or AfterDelete
// hook fails after the write has committed: the statement returns the hook's
// error, and the source the row let go of is deleted with its thumbnails and
// metadata at once, not left in the outbox for some later commit.
func TestHookErrorAfterAutocommitCleansUp(t *testing.T) {
	for _, c := range []struct {
		name  string
		write func(db *gorm.DB, row *Refusing) error
	}{
		{"replace", func(db *gorm.DB, row *Refusing) error {
			row.Image = upload(t, pastaJPG)
			return db.Save(row).Error
		}},
		{"delete", func(db *gorm.DB, row *Refusing) error { return db.Delete(row).Error }},
	} {
		t.Run(c.name, func(t *testing.T) {
			forEachDialect(t, func(t *testing.T, db *gorm.DB) {
				e := setup(t, db, &Refusing{})
				ctx := context.Background()
				row := Refusing{Image: upload(t, pizzaJPG)}
				if err := db.Create(&row).Error; err != nil {
					t.Fatal(err)
				}
				old := row.Image.Name()
				small, err := row.Image.Thumbnail(ctx, "small")
				if err != nil {
					t.Fatal(err)
				}
				row.Refuse = true
				if err := c.write(db.Session(&gorm.Session{SkipDefaultTransaction: true}), &row); !errors.Is(err, errHookRefused) {
					t.Fatalf("write: %v, want the hook's error", err)
				}
				var held []string
				if err := db.Model(&Refusing{}).Pluck("image", &held).Error; err != nil || slices.Contains(held, old) {
					t.Fatalf("rows hold %v, %v; want the write committed", held, err)
				}
				if n := count(t, db, "thumbnails_outbox"); n != 0 {
					t.Errorf("%d outbox rows left, want none", n)
				}
				for _, name := range []string{old, small.Name} {
					if e.exists(t, name) {
						t.Errorf("%q is still stored", name)
					}
				}
				if recs, err := metadataOf(db).Thumbnails(ctx, old); err != nil || len(recs) != 0 {
					t.Errorf("records of %q: %v, %v; want none", old, recs, err)
				}
			})
		})
	}
}

// TestHookErrorInAConnectionsTransaction: in a transaction begun on the
// connection of db.Connection (gorm's raw *sql.Tx, whose end the plugin
// does not see), a create and a replace whose AfterCreate or AfterUpdate
// hook fails after the row and its records were written, in a transaction
// that commits all the same. The failed statement deleted the upload's
// source and thumbnails, which the committed row references. They stay,
// as in a transaction begun on db.
func TestHookErrorInAConnectionsTransaction(t *testing.T) {
	for _, c := range []struct {
		name  string
		write func(tx *gorm.DB, row *Refusing) error
	}{
		{"create", func(tx *gorm.DB, row *Refusing) error {
			*row = Refusing{Refuse: true, Image: upload(t, pizzaJPG)}
			return tx.Create(row).Error
		}},
		{"replace", func(tx *gorm.DB, row *Refusing) error {
			row.Refuse, row.Image = true, upload(t, pastaJPG)
			return tx.Save(row).Error
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			forEachDialect(t, func(t *testing.T, db *gorm.DB) {
				e := setup(t, db, &Refusing{})
				ctx := context.Background()
				row := Refusing{Image: upload(t, soupJPG)}
				if err := db.Create(&row).Error; err != nil {
					t.Fatal(err)
				}
				err := db.Connection(func(conn *gorm.DB) error {
					return conn.Transaction(func(tx *gorm.DB) error {
						if err := c.write(tx, &row); !errors.Is(err, errHookRefused) {
							t.Errorf("write: %v, want the hook's error", err)
						}
						return nil // commits what the statement wrote
					})
				})
				if err != nil {
					t.Fatal(err)
				}
				var now Refusing
				if err := db.First(&now, row.ID).Error; err != nil {
					t.Fatal(err)
				}
				source := now.Image.Name()
				if source != row.Image.Name() || !e.exists(t, source) {
					t.Fatalf("committed row holds %q (stored: %v), want the upload %q", source, e.exists(t, source), row.Image.Name())
				}
				if th, err := now.Image.Thumbnail(ctx, "small"); err != nil || !e.exists(t, th.Name) {
					t.Errorf("committed row's small: %+v, %v", th, err)
				}
			})
		})
	}
}

// TestSaveFallbackFailingAtAnAssociation: without a transaction, a Save of
// an Album whose ID has no row (gorm's update matches nothing, and would
// insert next) and whose photo fails its unique index writes no row: the
// upload's files are deleted, and so are its records, which the update
// had written for the insert it may fall back to.
func TestSaveFallbackFailingAtAnAssociation(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setupSizesConfig(t, db, thumbnails.Config{Sizes: asyncSizes(), Enqueuer: &memoryEnqueuer{}}, &Album{}, &AlbumPhoto{})
		ctx := context.Background()
		if err := db.Create(&Album{Photos: []AlbumPhoto{{Code: "taken", Photo: upload(t, pastaJPG)}}}).Error; err != nil {
			t.Fatal(err)
		}
		before := e.files(t)
		album := Album{ID: 999, Cover: upload(t, pizzaJPG), Photos: []AlbumPhoto{{Code: "taken", Photo: upload(t, pastaJPG)}}}
		if err := db.Session(&gorm.Session{SkipDefaultTransaction: true}).Save(&album).Error; err == nil {
			t.Fatal("Save: want the unique index's error")
		}
		if n := count(t, db, "albums"); n != 1 {
			t.Fatalf("%d albums; want the first only", n)
		}
		if after := e.files(t); !slices.Equal(after, before) {
			t.Errorf("files before the Save %v, after %v", before, after)
		}
		err := metadataOf(db).Each(ctx, func(source string, _ []backends.Thumbnail) error {
			if !e.exists(t, source) {
				t.Errorf("%s recorded, its files deleted", source)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// TestFailedAutocommitInAConnectionOfOne: without a transaction, in a
// db.Connection of a pool of one, a Create that fails on a duplicate key
// and a Save that falls back to an insert and fails at an association
// return at once (what they recorded is removed through the statement's
// connection, the only one), and leave no record of their uploads.
func TestFailedAutocommitInAConnectionOfOne(t *testing.T) {
	db := openSQLite(t)
	e := setupSizesConfig(t, db, thumbnails.Config{Sizes: asyncSizes(), Enqueuer: &memoryEnqueuer{}}, &Album{}, &AlbumPhoto{})
	if err := db.Create(&Album{ID: 1, Photos: []AlbumPhoto{{Code: "taken", Photo: upload(t, pastaJPG)}}}).Error; err != nil {
		t.Fatal(err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	sqlDB.SetMaxOpenConns(1)
	before := e.files(t)
	for _, c := range []struct {
		name  string
		album Album
	}{
		{"duplicate key", Album{ID: 1, Cover: upload(t, pizzaJPG)}},
		{"save falling back, failing at an association", Album{ID: 999, Cover: upload(t, pizzaJPG), Photos: []AlbumPhoto{{Code: "taken", Photo: upload(t, pastaJPG)}}}},
	} {
		done := make(chan error, 1)
		go func() {
			done <- db.Session(&gorm.Session{SkipDefaultTransaction: true}).Connection(func(tx *gorm.DB) error {
				if c.album.ID == 1 {
					return tx.Create(&c.album).Error
				}
				return tx.Save(&c.album).Error
			})
		}()
		select {
		case err := <-done:
			if err == nil {
				t.Fatalf("%s: no error", c.name)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("%s: no answer after 30 s (a clean-up waiting for the pool's one connection)", c.name)
		}
		if after := e.files(t); !slices.Equal(after, before) {
			t.Errorf("%s: files before %v, after %v", c.name, before, after)
		}
		err := metadataOf(db).Each(context.Background(), func(source string, _ []backends.Thumbnail) error {
			if !e.exists(t, source) {
				t.Errorf("%s: %s recorded, its files deleted", c.name, source)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
