package thumbnails_test

import (
	"context"
	"testing"

	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/schema"

	"github.com/gorm-thumbnails/thumbnails/internal/testdb"
)

// TestNamingStrategyOfTheApplication opens the database with a naming
// strategy that keeps field names' case (NoLowerCase): the application's
// columns are named so, the plugin's tables keep their own names. A whole
// life cycle works.
func TestNamingStrategyOfTheApplication(t *testing.T) {
	dialectors := map[string]func(t *testing.T) gorm.Dialector{
		"sqlite":   func(t *testing.T) gorm.Dialector { return sqlite.Open(testdb.SQLiteDSN(t, "")) },
		"postgres": func(t *testing.T) gorm.Dialector { return postgres.Open(testdb.PostgresDSN(t)) },
	}
	for name, dialector := range dialectors {
		t.Run(name, func(t *testing.T) {
			cfg := testdb.GormConfig()
			cfg.NamingStrategy = schema.NamingStrategy{NoLowerCase: true}
			db := testdb.OpenWith(t, dialector(t), cfg)
			e := setup(t, db, &Food{})
			food := savedFood(t, db)
			ctx := context.Background()
			if _, err := food.Image.Thumbnail(ctx, "large"); err != nil {
				t.Fatal(err)
			}
			var loaded Food
			if err := db.First(&loaded, food.ID).Error; err != nil {
				t.Fatal(err)
			}
			if th, err := loaded.Image.Thumbnails(ctx); err != nil || len(th) != 3 {
				t.Fatalf("thumbnails of the loaded row: %v, %v", th, err)
			}
			loaded.Image = newFood(t, "", pastaJPG).Image
			if err := db.Save(&loaded).Error; err != nil {
				t.Fatal(err)
			}
			if err := db.Delete(&loaded).Error; err != nil {
				t.Fatal(err)
			}
			if files := e.files(t); len(files) != 0 {
				t.Errorf("files after the delete: %v", files)
			}
		})
	}
}
