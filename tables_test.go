package thumbnails_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/gorm-thumbnails/thumbnails"
	"github.com/gorm-thumbnails/thumbnails/backends"
	"github.com/gorm-thumbnails/thumbnails/field"
)

// TestTableOverride writes Food rows into another table with db.Table:
// create, replace (Update, Save), and delete (of the row, and by a Where,
// through an alias too) work there as on the model's own table, and each
// queues the old source from that table, whose files then go.
func TestTableOverride(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setup(t, db, &Food{})
		if err := db.Table("foods_2024").AutoMigrate(&Food{}); err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		create := func(name string) Food {
			f := newFood(t, name, pizzaJPG)
			if err := db.Table("foods_2024").Create(&f).Error; err != nil {
				t.Fatal(err)
			}
			return f
		}
		f := create("a")
		first := f.Image.Name()
		replaced := newFood(t, "a", pastaJPG).Image
		if err := db.Table("foods_2024").Model(&f).Update("image", replaced).Error; err != nil {
			t.Fatalf("Update: %v", err)
		}
		if e.exists(t, first) {
			t.Errorf("the replaced source %s is still stored", first)
		}
		second := f.Image.Name()
		f.Image = newFood(t, "a", pizzaJPG).Image
		if err := db.Table("foods_2024").Save(&f).Error; err != nil {
			t.Fatalf("Save: %v", err)
		}
		if e.exists(t, second) {
			t.Errorf("the source %s replaced by Save is still stored", second)
		}
		if _, err := f.Image.Thumbnail(ctx, "small"); err != nil {
			t.Errorf("small after Save: %v", err)
		}
		deletes := map[string]func(f Food) *gorm.DB{
			"row":   func(f Food) *gorm.DB { return db.Table("foods_2024").Delete(&f) },
			"where": func(f Food) *gorm.DB { return db.Table("foods_2024").Where("id = ?", f.ID).Delete(&Food{}) },
			"alias": func(f Food) *gorm.DB { return db.Table("foods_2024 AS f").Where("f.id = ?", f.ID).Delete(&Food{}) },
			"clause": func(f Food) *gorm.DB {
				return db.Table("?", clause.Table{Name: "foods_2024"}).Where("id = ?", f.ID).Delete(&Food{})
			},
			// unquoted, PostgreSQL folds the name to lower case
			"upper-case alias": func(f Food) *gorm.DB {
				return db.Table("FOODS_2024 AS f").Where("f.id = ?", f.ID).Delete(&Food{})
			},
		}
		for name, del := range deletes {
			g := f
			if name != "row" {
				g = create(name)
			}
			source := g.Image.Name()
			if r := del(g); r.Error != nil || r.RowsAffected != 1 {
				t.Fatalf("delete %s: %d rows, %v", name, r.RowsAffected, r.Error)
			}
			if e.exists(t, source) {
				t.Errorf("delete %s: the source %s is still stored", name, source)
			}
		}
		// A table the plugin cannot name is refused before anything is
		// stored.
		g := newFood(t, "b", pizzaJPG)
		err := db.Table("(?) AS f", db.Table("foods_2024")).Create(&g).Error
		if !errors.Is(err, thumbnails.ErrUnknownTable) {
			t.Errorf("Create into an expression: %v; want ErrUnknownTable", err)
		}
	})
}

// TestTableOverrideOddNames: tables whose names are not plain ASCII
// identifiers (a hyphen, a letter with an accent), which gorm quotes, are
// written, replaced in and deleted from as any other.
func TestTableOverrideOddNames(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setup(t, db, &Food{})
		for _, table := range []string{"food-archive", "bücher"} {
			if err := db.Table(table).AutoMigrate(&Food{}); err != nil {
				t.Fatal(err)
			}
			f := newFood(t, "a", pizzaJPG)
			if err := db.Table(table).Create(&f).Error; err != nil {
				t.Fatalf("%s: Create: %v", table, err)
			}
			first := f.Image.Name()
			if err := db.Table(table).Model(&f).Update("image", newFood(t, "a", pastaJPG).Image).Error; err != nil {
				t.Fatalf("%s: Update: %v", table, err)
			}
			if e.exists(t, first) {
				t.Errorf("%s: the replaced source is still stored", table)
			}
			second := f.Image.Name()
			if err := db.Table(table).Delete(&f).Error; err != nil {
				t.Fatalf("%s: Delete: %v", table, err)
			}
			if e.exists(t, second) {
				t.Errorf("%s: the deleted row's source is still stored", table)
			}
		}
	})
}

// TestArchiveCopyThenDelete copies a loaded row into an archive table of the
// same model (db.Table) and deletes the original in the same transaction:
// the archived row keeps the source and its thumbnails.
func TestArchiveCopyThenDelete(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e, f := withArchive(t, db)
		archiveAndDelete(t, db, f)
		var archived Food
		if err := db.Table("foods_archive").First(&archived).Error; err != nil {
			t.Fatal(err)
		}
		if archived.Image.Name() != f.Image.Name() || !e.exists(t, archived.Image.Name()) {
			t.Fatalf("archived image %q (stored: %v); want %q, stored", archived.Image.Name(), e.exists(t, archived.Image.Name()), f.Image.Name())
		}
		small, err := archived.Image.Thumbnail(context.Background(), "small")
		if err != nil || !e.exists(t, small.Name) {
			t.Errorf("the archived row's small: %+v, %v; want it stored", small, err)
		}
	})
}

// TestTablesCheckedByTheCleanUp: the clean-up of a replaced image checks
// every other table of the model (db.Table) that holds images, one query
// each, a table that only ever got uploads of its own (one per tenant,
// say) too: a name copied out of it by name carries no trace of where it
// came from, and Prune must not take its sources for orphans.
func TestTablesCheckedByTheCleanUp(t *testing.T) {
	db := openSQLite(t)
	setup(t, db, &Food{})
	var queries atomic.Int64
	if err := db.Callback().Query().After("gorm:query").Register("test:count", func(*gorm.DB) { queries.Add(1) }); err != nil {
		t.Fatal(err)
	}
	food := newFood(t, "a", pizzaJPG)
	if err := db.Create(&food).Error; err != nil {
		t.Fatal(err)
	}
	replace := func() int64 {
		t.Helper()
		food.Image = newFood(t, "a", pastaJPG).Image
		start := queries.Load()
		if err := db.Save(&food).Error; err != nil {
			t.Fatal(err)
		}
		return queries.Load() - start
	}
	before := replace()
	for i := range 20 {
		table := fmt.Sprintf("foods_tenant_%d", i)
		if err := db.Table(table).AutoMigrate(&Food{}); err != nil {
			t.Fatal(err)
		}
		f := newFood(t, "t", pizzaJPG)
		if err := db.Table(table).Create(&f).Error; err != nil {
			t.Fatal(err)
		}
		f.Image = newFood(t, "t", pastaJPG).Image
		if err := db.Table(table).Save(&f).Error; err != nil {
			t.Fatal(err)
		}
	}
	if n := replace(); n != before+20 {
		t.Errorf("a replace made %d queries after 20 tenant tables got uploads; want %d, one a table", n, before+20)
	}
	if err := db.Table("foods_archive").AutoMigrate(&Food{}); err != nil {
		t.Fatal(err)
	}
	var loaded Food
	if err := db.First(&loaded, food.ID).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Table("foods_archive").Create(&loaded).Error; err != nil {
		t.Fatal(err)
	}
	if n := replace(); n != before+21 {
		t.Errorf("a replace made %d queries once foods_archive holds a copy; want %d, one more", n, before+21)
	}
}

// TestStaleSaveAfterAnotherName: a row read through another name of the
// model's own table (its name in capitals, unquoted; "main.foods" on
// SQLite) and saved after another request replaced its image keeps the new
// image, as a row read from the table itself does: its image is the row's
// own, unchanged, and is not written back.
func TestStaleSaveAfterAnotherName(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setup(t, db, &Food{})
		names := []string{"FOODS AS f"}
		if db.Dialector.Name() == "sqlite" {
			names = append(names, "main.foods")
		}
		for _, name := range names {
			food := newFood(t, "a", pizzaJPG)
			if err := db.Create(&food).Error; err != nil {
				t.Fatal(err)
			}
			var stale, fresh Food
			if err := db.Table(name).First(&stale, food.ID).Error; err != nil {
				t.Fatal(err)
			}
			if err := db.First(&fresh, food.ID).Error; err != nil {
				t.Fatal(err)
			}
			fresh.Image = newFood(t, "a", pastaJPG).Image
			if err := db.Save(&fresh).Error; err != nil {
				t.Fatal(err)
			}
			stale.Name = "renamed"
			if err := db.Save(&stale).Error; err != nil {
				t.Fatal(err)
			}
			var got Food
			if err := db.First(&got, food.ID).Error; err != nil {
				t.Fatal(err)
			}
			if got.Image.Name() != fresh.Image.Name() || !e.exists(t, got.Image.Name()) || got.Name != "renamed" {
				t.Errorf("read through %q: the row holds %q (%s, stored: %v); want the new image %q, stored, and the new name", name, got.Image.Name(), got.Name, e.exists(t, got.Image.Name()), fresh.Image.Name())
			}
		}
	})
}

// TestArchiveRowsOfTheSameKey: an archive table (db.Table) whose rows
// keep their original's primary key holds other rows than the model's
// table: an image read from one and saved into the other is a copy,
// written (not taken for the row's own, unchanged, and left out) and
// guarded, whether the archive is synced from the live row or the live
// row restored from the archive; and the live row's replace keeps the
// file the archive holds.
func TestArchiveRowsOfTheSameKey(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e, food := withArchive(t, db)
		load := func(table string) Food {
			t.Helper()
			var f Food
			if err := db.Table(table).First(&f, food.ID).Error; err != nil {
				t.Fatal(err)
			}
			return f
		}
		replace := func(file string) {
			t.Helper()
			live := load("foods")
			live.Image = newFood(t, "a", file).Image
			if err := db.Save(&live).Error; err != nil {
				t.Fatal(err)
			}
		}
		check := func(step, table, want string) {
			t.Helper()
			if got := load(table).Image.Name(); got != want || !e.exists(t, want) {
				t.Errorf("%s: %s holds %q (%q stored: %v); want %q", step, table, got, want, e.exists(t, want), want)
			}
		}
		// archived, then the live row's image replaced
		live := load("foods")
		if err := db.Table("foods_archive").Create(&live).Error; err != nil {
			t.Fatal(err)
		}
		a := live.Image.Name()
		replace(pastaJPG)
		check("archived", "foods_archive", a)

		// synced: the archive row takes the live row's image
		live = load("foods")
		if err := db.Table("foods_archive").Save(&live).Error; err != nil {
			t.Fatal(err)
		}
		b := live.Image.Name()
		check("synced", "foods_archive", b)
		replace(soupJPG)
		check("synced, then replaced", "foods_archive", b)

		// restored: the live row takes the archive's image
		live = load("foods")
		live.Image = load("foods_archive").Image
		if err := db.Save(&live).Error; err != nil {
			t.Fatal(err)
		}
		check("restored", "foods", b)
		check("restored", "foods_archive", b)
	})
}

// TestArchiveCopyAfterRestart: the table a row was copied into is
// recorded in the database, so that another process (or this one after a
// restart), which never wrote to it, checks it too before deleting a
// source: the archived row keeps its files when the original's image is
// replaced there.
func TestArchiveCopyAfterRestart(t *testing.T) {
	db := openSQLite(t)
	e, food := withArchive(t, db)
	var loaded Food
	if err := db.First(&loaded, food.ID).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Table("foods_archive").Create(&loaded).Error; err != nil {
		t.Fatal(err)
	}

	restarted, err := gorm.Open(db.Dialector, gormConfig())
	if err != nil {
		t.Fatal(err)
	}
	usePlugin(t, restarted, thumbnails.Config{Sizes: testSizes(), Storage: backends.NewFileSystemStorage(e.root, "/media/")}, &Food{})
	var fresh Food
	if err := restarted.First(&fresh, food.ID).Error; err != nil {
		t.Fatal(err)
	}
	fresh.Image = newFood(t, "a", pastaJPG).Image
	if err := restarted.Save(&fresh).Error; err != nil {
		t.Fatal(err)
	}
	if !e.exists(t, loaded.Image.Name()) {
		t.Errorf("the archived row's source %s was deleted with the original's replaced image", loaded.Image.Name())
	}
}

// TestPruneKeepsArchivedSources: Prune with Models checks the tables that
// rows were copied into (db.Table) too: the source only an archived row
// holds is kept.
func TestPruneKeepsArchivedSources(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e, food := withArchive(t, db)
		archiveAndDelete(t, db, food)
		e.age(t, food.Image.Name(), 2*time.Hour)
		report, err := thumbnails.Prune(context.Background(), db, thumbnails.PruneOptions{Models: []any{&Food{}}, MinAge: -1, Delete: true})
		if err != nil || len(report.Sources) != 0 || len(report.Files) != 0 {
			t.Errorf("Prune: %+v, %v; want nothing (foods_archive holds the source)", report, err)
		}
		if !e.exists(t, food.Image.Name()) {
			t.Errorf("the archived source %s is gone", food.Image.Name())
		}
	})
}

// FoodView is a struct a page loads Food rows into: the image without its
// tag, which the model's column gives.
type FoodView struct {
	ID    uint
	Image field.Image
}

// TestRestoreFromTheArchive restores the live row's image from its
// archive row of the same key, read in each way that names the archive
// table: the image is a copy, written into the live row (not taken for the
// live row's own, unchanged, and left out).
func TestRestoreFromTheArchive(t *testing.T) {
	reads := map[string]func(db *gorm.DB, id uint) (field.Image, error){
		"db.Table": func(db *gorm.DB, id uint) (field.Image, error) {
			var f Food
			err := db.Table("foods_archive").First(&f, id).Error
			return f.Image, err
		},
		"clause.Table alias": func(db *gorm.DB, id uint) (field.Image, error) {
			var f Food
			err := db.Table("? AS a", clause.Table{Name: "foods_archive"}).Where("a.id = ?", id).First(&f).Error
			return f.Image, err
		},
		"a scope setting Statement.Table": func(db *gorm.DB, id uint) (field.Image, error) {
			var f Food
			err := db.Scopes(func(tx *gorm.DB) *gorm.DB { tx.Statement.Table = "foods_archive"; return tx }).First(&f, id).Error
			return f.Image, err
		},
		"another struct": func(db *gorm.DB, id uint) (field.Image, error) {
			var v FoodView
			err := db.Model(&Food{}).Table("foods_archive").Where("id = ?", id).First(&v).Error
			return v.Image, err
		},
		"Raw and Bind": func(db *gorm.DB, id uint) (field.Image, error) {
			var f Food
			if err := db.Raw("SELECT * FROM foods_archive WHERE id = ?", id).Scan(&f).Error; err != nil {
				return field.Image{}, err
			}
			return f.Image, thumbnails.Bind(db.Table("foods_archive"), &f)
		},
	}
	for name, read := range reads {
		t.Run(name, func(t *testing.T) {
			db := openSQLite(t)
			e, food := withArchive(t, db)
			var live Food
			if err := db.First(&live, food.ID).Error; err != nil {
				t.Fatal(err)
			}
			if err := db.Table("foods_archive").Create(&live).Error; err != nil {
				t.Fatal(err)
			}
			archived := live.Image.Name()
			live.Image = newFood(t, "a", pastaJPG).Image
			if err := db.Save(&live).Error; err != nil {
				t.Fatal(err)
			}
			img, err := read(db, food.ID)
			if err != nil || img.Name() != archived {
				t.Fatalf("read the archive: %q, %v; want %q", img.Name(), err, archived)
			}
			live.Image = img
			if err := db.Save(&live).Error; err != nil {
				t.Fatal(err)
			}
			var got Food
			if err := db.First(&got, food.ID).Error; err != nil {
				t.Fatal(err)
			}
			if got.Image.Name() != archived || !e.exists(t, archived) {
				t.Errorf("restored: the live row holds %q (%q stored: %v); want %q", got.Image.Name(), archived, e.exists(t, archived), archived)
			}
		})
	}
}

// withArchive registers the plugin on db, migrates Food and its archive
// table foods_archive (db.Table), and creates a Food with a photo.
func withArchive(t *testing.T, db *gorm.DB) (*env, Food) {
	t.Helper()
	e := setup(t, db, &Food{})
	if err := db.Table("foods_archive").AutoMigrate(&Food{}); err != nil {
		t.Fatal(err)
	}
	food := newFood(t, "a", pizzaJPG)
	if err := db.Create(&food).Error; err != nil {
		t.Fatal(err)
	}
	return e, food
}

// archiveAndDelete copies the row food, as loaded, into foods_archive and
// deletes it, in one transaction.
func archiveAndDelete(t *testing.T, db *gorm.DB, food Food) {
	t.Helper()
	var loaded Food
	if err := db.First(&loaded, food.ID).Error; err != nil {
		t.Fatal(err)
	}
	err := db.Transaction(func(tx *gorm.DB) error {
		if err := tx.Table("foods_archive").Create(&loaded).Error; err != nil {
			return err
		}
		return tx.Delete(&Food{}, food.ID).Error
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestUpdatesCopyIntoTable: Updates given a struct, by value or by
// pointer, holding another row's image, into a row of another table: the
// copy is noted, and deleting the original keeps the file.
func TestUpdatesCopyIntoTable(t *testing.T) {
	for _, c := range []struct {
		name  string
		value func(img field.Image) any
	}{
		{"by value", func(img field.Image) any { return Food{Image: img} }},
		{"by pointer", func(img field.Image) any { return &Food{Image: img} }},
	} {
		t.Run(c.name, func(t *testing.T) {
			forEachDialect(t, func(t *testing.T, db *gorm.DB) {
				e, orig := withArchive(t, db)
				name := orig.Image.Name()
				arch := Food{ID: 100, Name: "bob"}
				if err := db.Table("foods_archive").Create(&arch).Error; err != nil {
					t.Fatal(err)
				}
				if err := db.Table("foods_archive").Model(&arch).Updates(c.value(orig.Image)).Error; err != nil {
					t.Fatal(err)
				}
				var got Food
				if err := db.Table("foods_archive").First(&got, 100).Error; err != nil || got.Image.Name() != name {
					t.Fatalf("archive holds %q, %v", got.Image.Name(), err)
				}
				if err := db.Delete(&orig).Error; err != nil {
					t.Fatal(err)
				}
				if !e.exists(t, name) {
					t.Fatal("deleting the original deleted the file its copy in foods_archive holds")
				}
			})
		})
	}
}
