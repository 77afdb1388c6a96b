package thumbnails_test

import (
	"context"
	"testing"

	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails"
	"github.com/gorm-thumbnails/thumbnails/field"
)

// dishForm is a struct of another type than the model that Updates writes
// from (a form, a DTO).
type dishForm struct {
	Cover field.Image
}

// TestCopyFormsAcrossProcesses: a food's image copied into a dish, by a
// process that never used Food, in every form a write takes (maps, another
// struct, an SQL expression, a name), is kept when another process that
// never used Dish deletes the food.
func TestCopyFormsAcrossProcesses(t *testing.T) {
	for _, tc := range []struct {
		name string
		copy func(t *testing.T, a *gorm.DB, food Food) error
	}{
		{"slice of maps", func(t *testing.T, a *gorm.DB, food Food) error {
			return a.Model(&Dish{}).Create(&[]map[string]any{{"cover": food.Image.Name()}}).Error
		}},
		{"pointer to a map", func(t *testing.T, a *gorm.DB, food Food) error {
			return a.Model(&Dish{}).Create(&map[string]any{"cover": food.Image.Name()}).Error
		}},
		{"another struct", func(t *testing.T, a *gorm.DB, food Food) error {
			d := Dish{}
			if err := a.Create(&d).Error; err != nil {
				return err
			}
			return a.Model(&d).Updates(dishForm{Cover: food.Image}).Error
		}},
		{"expression", func(t *testing.T, a *gorm.DB, food Food) error {
			d := Dish{}
			if err := a.Create(&d).Error; err != nil {
				return err
			}
			return a.Model(&d).Update("cover", gorm.Expr("(SELECT image FROM foods WHERE id = ?)", food.ID)).Error
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			forEachDialect(t, func(t *testing.T, db *gorm.DB) {
				e, food := setupFood(t, db)
				if err := tc.copy(t, anotherProcess(t, db, e), food); err != nil {
					t.Fatal(err)
				}
				var n int64
				if err := db.Model(&Dish{}).Where("cover = ?", food.Image.Name()).Count(&n).Error; err != nil || n != 1 {
					t.Fatalf("%d dishes hold the food's image, %v; want 1", n, err)
				}
				if err := anotherProcess(t, db, e).Delete(&Food{}, food.ID).Error; err != nil {
					t.Fatal(err)
				}
				requireKept(t, db, e, food.Image.Name(), "the dish's cover, after the food's delete")
			})
		})
	}
}

// tenantFood saves a food with an upload into the table foods_tenant
// (db.Table), as a table of one tenant of the application would get it.
func tenantFood(t *testing.T, db *gorm.DB) (*env, Food) {
	t.Helper()
	e := setup(t, db, &Food{}, &Dish{})
	if err := db.Table("foods_tenant").AutoMigrate(&Food{}); err != nil {
		t.Fatal(err)
	}
	f := newFood(t, "t", pizzaJPG)
	if err := db.Table("foods_tenant").Create(&f).Error; err != nil {
		t.Fatal(err)
	}
	return e, f
}

// TestTenantNameCopiedAcrossProcesses: the image of a row of another table
// of the model (db.Table), copied by its name into a dish by a process
// that never used that table, is kept when another process deletes the
// dish.
func TestTenantNameCopiedAcrossProcesses(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e, f := tenantFood(t, db)
		copyByNameThenDelete(t, db, e, f.Image.Name())
		requireKept(t, db, e, f.Image.Name(), "the tenant row's source, after the dish's delete")
	})
}

// TestPruneKeepsTenantTables: Prune given the models only keeps the
// sources of the rows of their other tables (db.Table), which their
// uploads recorded.
func TestPruneKeepsTenantTables(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e, f := tenantFood(t, db)
		report, err := thumbnails.Prune(context.Background(), anotherProcess(t, db, e),
			thumbnails.PruneOptions{Models: []any{&Food{}, &Dish{}}, MinAge: -1, Delete: true})
		if err != nil {
			t.Fatal(err)
		}
		if !e.exists(t, f.Image.Name()) {
			t.Fatalf("Prune deleted the tenant row's source: %+v", report.Sources)
		}
	})
}
