package thumbnails_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// statements is a gorm logger that keeps the SQL of every statement run
// through it.
type statements struct {
	mu  sync.Mutex
	sql []string
}

func (s *statements) LogMode(logger.LogLevel) logger.Interface { return s }
func (s *statements) Info(context.Context, string, ...any)     {}
func (s *statements) Warn(context.Context, string, ...any)     {}
func (s *statements) Error(context.Context, string, ...any)    {}
func (s *statements) Trace(_ context.Context, _ time.Time, fc func() (string, int64), _ error) {
	sql, _ := fc()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sql = append(s.sql, sql)
}

// run returns the SQL of the statements fn runs on a session of db that
// logs to s.
func (s *statements) run(t *testing.T, db *gorm.DB, fn func(db *gorm.DB) error) []string {
	t.Helper()
	s.mu.Lock()
	s.sql = nil
	s.mu.Unlock()
	if err := fn(db.Session(&gorm.Session{Logger: s})); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sql
}

// TestSaveOfLoadedAssociationsReadsNoRows: a loaded row saved again with
// its preloaded associations unchanged: gorm saves them as inserts with ON
// CONFLICT (a has-many's DO UPDATE SET of its foreign key, a belongs-to's
// DO NOTHING), whose image columns the conflict leaves alone. Such a save
// read the associations' rows (FOR UPDATE on PostgreSQL, under the write
// lock on SQLite) to tell those deleted since they were read, on every
// save. It reads none of them, nor does a Create of a loaded row, deleted
// since by SQL: it only takes the images' locks, as a copy does, so that
// a clean-up still deleting one is waited for (see
// TestCreateOfALoadedRowRacingItsCleanUp).
func TestSaveOfLoadedAssociationsReadsNoRows(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		setup(t, db, &Menu{}, &Course{}, &Author{}, &Post{}, &Food{})
		menu := lunchMenu(t)
		if err := db.Create(&menu).Error; err != nil {
			t.Fatal(err)
		}
		post := Post{Author: Author{Avatar: upload(t, pizzaJPG)}, Cover: upload(t, soupJPG)}
		if err := db.Create(&post).Error; err != nil {
			t.Fatal(err)
		}
		var loadedMenu Menu
		if err := db.Preload("Courses").First(&loadedMenu, menu.ID).Error; err != nil || len(loadedMenu.Courses) != 2 {
			t.Fatalf("%+v, %v", loadedMenu, err)
		}
		var loadedPost Post
		if err := db.Preload("Author").First(&loadedPost, post.ID).Error; err != nil || loadedPost.Author.Avatar.Name() == "" {
			t.Fatalf("%+v, %v", loadedPost, err)
		}
		food := newFood(t, "a", pizzaJPG)
		if err := db.Create(&food).Error; err != nil {
			t.Fatal(err)
		}
		var loadedFood Food
		if err := db.First(&loadedFood, food.ID).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Exec("DELETE FROM foods WHERE id = ?", food.ID).Error; err != nil {
			t.Fatal(err)
		}
		var log statements
		for name, c := range map[string]struct {
			table string
			save  func(db *gorm.DB) error
		}{
			"has-many":       {"courses", func(db *gorm.DB) error { return db.Save(&loadedMenu).Error }},
			"belongs-to":     {"authors", func(db *gorm.DB) error { return db.Save(&loadedPost).Error }},
			"Create of both": {"courses", func(db *gorm.DB) error { return db.Create(&[]Menu{{Name: "more", Courses: loadedMenu.Courses}}).Error }},
			// a row deleted behind the plugin's back: its image is stored
			"Create of a loaded row": {"foods", func(db *gorm.DB) error { return db.Create(&loadedFood).Error }},
		} {
			for _, sql := range log.run(t, db, c.save) {
				s := strings.ToLower(sql)
				if strings.Contains(s, c.table) && !strings.HasPrefix(s, "insert") || strings.Contains(s, "for update") {
					t.Errorf("%s: a save of unchanged associations ran %s", name, sql)
				}
			}
		}
	})
}
