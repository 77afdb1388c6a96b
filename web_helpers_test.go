package thumbnails_test

import (
	"testing"

	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails"
	"github.com/gorm-thumbnails/thumbnails/backends"
)

// setupWith is setup with a change to the plugin's configuration.
func setupWith(t testing.TB, db *gorm.DB, change func(*thumbnails.Config), models ...any) *env {
	t.Helper()
	root := t.TempDir()
	st := &countingStorage{Storage: backends.NewFileSystemStorage(root, "/media/")}
	cfg := thumbnails.Config{Sizes: testSizes(), Storage: st}
	if m, ok := redisMetadata.Load(db); ok {
		cfg.Metadata = m.(backends.Metadata)
	}
	change(&cfg)
	if err := db.Use(thumbnails.Plugin(cfg)); err != nil {
		t.Fatal(err)
	}
	if err := db.AutoMigrate(models...); err != nil {
		t.Fatal(err)
	}
	return &env{db: db, root: root, storage: st}
}

// savedFood creates a Food with the pizza photo.
func savedFood(t *testing.T, db *gorm.DB) *Food {
	t.Helper()
	food := newFood(t, "pizza", pizzaJPG)
	if err := db.Create(&food).Error; err != nil {
		t.Fatal(err)
	}
	return &food
}
