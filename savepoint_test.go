package thumbnails_test

import (
	"errors"
	"slices"
	"testing"

	"gorm.io/gorm"
)

// TestSavepointRollback checks that a nested transaction (a savepoint) that
// rolls back takes the files of the uploads it saved with it, while the
// outer transaction commits the rest: no orphan, no missing file.
func TestSavepointRollback(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setup(t, db, &Food{})
		savepointRollback(t, e, db)
		// The same through a prepared-statement session.
		e.db = db.Session(&gorm.Session{PrepareStmt: true})
		savepointRollback(t, e, e.db)
	})
}

func savepointRollback(t *testing.T, e *env, db *gorm.DB) {
	t.Helper()
	{
		kept, dropped, later := newFood(t, "kept", pizzaJPG), newFood(t, "dropped", pastaJPG), newFood(t, "later", soupJPG)
		err := db.Transaction(func(tx *gorm.DB) error {
			if err := tx.Create(&kept).Error; err != nil {
				return err
			}
			inner := tx.Transaction(func(tx2 *gorm.DB) error {
				if err := tx2.Create(&dropped).Error; err != nil {
					return err
				}
				return errors.New("roll the savepoint back")
			})
			if inner == nil {
				t.Error("the inner transaction did not fail")
			}
			// A savepoint that is released keeps its uploads.
			return tx.Transaction(func(tx2 *gorm.DB) error { return tx2.Create(&later).Error })
		})
		if err != nil {
			t.Fatal(err)
		}
		var rows []Food
		if err := db.Order("id").Find(&rows).Error; err != nil {
			t.Fatal(err)
		}
		if len(rows) != 2 || rows[0].Name != "kept" || rows[1].Name != "later" {
			t.Fatalf("rows %+v, want kept and later", rows)
		}
		var want []string
		for i := range rows {
			want = append(want, filesOf(t, &rows[i])...) // its source and thumbnails
		}
		slices.Sort(want)
		if got := e.files(t); !slices.Equal(got, want) {
			t.Errorf("files %v, want only those of kept and later %v", got, want)
		}
		if err := db.Where("1 = 1").Delete(&Food{}).Error; err != nil { // for the next run
			t.Fatal(err)
		}
	}
}
