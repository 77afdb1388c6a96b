package thumbnails_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/gorm-thumbnails/thumbnails"
	"github.com/gorm-thumbnails/thumbnails/backends"
	"github.com/gorm-thumbnails/thumbnails/field"
	"github.com/gorm-thumbnails/thumbnails/internal/testdb"
)

// Menu has many Courses, each with an image: gorm saves them with a slice
// value as the statement's Dest.
type Menu struct {
	ID      uint
	Name    string
	Courses []Course
}

// Course is the image-holding side of Menu's association.
type Course struct {
	ID     uint
	MenuID uint
	Image  field.Image `thumbnails:"sizes:small;dir:courses"`
}

// lunchMenu returns a menu of two courses, each with an upload.
func lunchMenu(t *testing.T) Menu {
	return Menu{Name: "lunch", Courses: []Course{
		{Image: field.NewImage("pizza.jpg", reader(photo(t, pizzaJPG)))},
		{Image: field.NewImage("pasta.jpg", reader(photo(t, pastaJPG)))},
	}}
}

// TestAssociationsAndSliceValues checks that images are stored and bound
// when gorm saves a has-many association (it creates the children with a
// slice value, not a pointer), and when the caller passes a slice by value.
func TestAssociationsAndSliceValues(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setup(t, db, &Menu{}, &Course{})
		ctx := context.Background()
		menu := lunchMenu(t)
		if err := e.db.Create(&menu).Error; err != nil {
			t.Fatal(err)
		}
		for _, d := range menu.Courses {
			small, err := d.Image.Thumbnail(ctx, "small")
			if err != nil || !e.exists(t, small.Name) || !e.exists(t, d.Image.Name()) {
				t.Errorf("dish %d: %+v, %v; want its source and small stored", d.ID, small, err)
			}
		}
		var loaded Menu
		if err := e.db.Preload("Courses").First(&loaded, menu.ID).Error; err != nil || len(loaded.Courses) != 2 {
			t.Fatalf("%d dishes, %v", len(loaded.Courses), err)
		}
		if _, err := loaded.Courses[1].Image.Thumbnail(ctx, "small"); err != nil {
			t.Errorf("a preloaded dish: %v", err)
		}

		// A slice passed by value: gorm saves its elements in place.
		dishes := []Course{{MenuID: menu.ID, Image: field.NewImage("soup.jpg", reader(photo(t, soupJPG)))}, {MenuID: menu.ID}}
		if err := e.db.Create(dishes).Error; err != nil {
			t.Fatal(err)
		}
		small, err := dishes[0].Image.Thumbnail(ctx, "small")
		if err != nil || !e.exists(t, small.Name) {
			t.Errorf("a dish of a slice value: %+v, %v", small, err)
		}
	})
}

// TestUpsertThatKeepsTheImage: an insert whose conflict updates other
// columns only keeps the row's image, so the upload stored for it is
// referenced by nothing: its files go, and its Image is discarded rather
// than name a file the row does not hold. Two ways: an explicit ON
// CONFLICT DO UPDATE SET menu_id, and gorm's save of a has-many
// association (which updates the foreign key only).
func TestUpsertThatKeepsTheImage(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setup(t, db, &Menu{}, &Course{})
		menu := Menu{Name: "lunch", Courses: []Course{{Image: field.NewImage("pizza.jpg", reader(photo(t, pizzaJPG)))}}}
		if err := db.Create(&menu).Error; err != nil {
			t.Fatal(err)
		}
		kept := menu.Courses[0].Image.Name()
		before := e.files(t)

		again := Course{ID: menu.Courses[0].ID, MenuID: menu.ID, Image: field.NewImage("pasta.jpg", reader(photo(t, pastaJPG)))}
		err := db.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "id"}}, DoUpdates: clause.AssignmentColumns([]string{"menu_id"})}).Create(&again).Error
		if err != nil {
			t.Fatal(err)
		}
		if again.Image.Name() != "" {
			t.Errorf("the upsert's Image names %q, which the row does not hold", again.Image.Name())
		}

		menu.Courses[0].Image = field.NewImage("soup.jpg", reader(photo(t, soupJPG)))
		if err := db.Save(&menu).Error; err != nil {
			t.Fatal(err)
		}
		var row Course
		if err := db.First(&row, menu.Courses[0].ID).Error; err != nil || row.Image.Name() != kept {
			t.Fatalf("the row holds %q, %v; want %q", row.Image.Name(), err, kept)
		}
		if after := e.files(t); !slices.Equal(after, before) {
			t.Errorf("files %v, want those before the upserts %v", after, before)
		}

		// A DO UPDATE that assigns the image column a value of its own
		// (not the inserted one) writes that value: the upload is
		// discarded, and the name the row held is released.
		cleared := Course{ID: row.ID, MenuID: menu.ID, Image: field.NewImage("pasta.jpg", reader(photo(t, pastaJPG)))}
		err = db.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "id"}}, DoUpdates: clause.Assignments(map[string]any{"image": ""})}).Create(&cleared).Error
		if err != nil {
			t.Fatal(err)
		}
		if cleared.Image.Name() != "" {
			t.Errorf("an upsert that clears the column: the Image names %q", cleared.Image.Name())
		}
		if err := db.First(&row, row.ID).Error; err != nil || row.Image.Name() != "" {
			t.Fatalf("the row holds %q, %v; want no image", row.Image.Name(), err)
		}
		if after := e.files(t); len(after) != 0 {
			t.Errorf("after the upsert that cleared the only image, files %v; want none", after)
		}
	})
}

// TestUpsertIntoANamedTable: an insert with ON CONFLICT into a table that
// db.Table names with its schema checks its uploads in that table, and
// keeps those it wrote. It looked in the table of that name on the
// search_path, found none of them there, and deleted the new row's files.
func TestUpsertIntoANamedTable(t *testing.T) {
	db := testdb.Postgres(t)
	e := setup(t, db, &Food{})
	other := "other_" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "_"))
	if err := db.Exec("DROP SCHEMA IF EXISTS " + other + " CASCADE; CREATE SCHEMA " + other + "; CREATE TABLE " + other + ".foods (LIKE foods INCLUDING ALL)").Error; err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Exec("DROP SCHEMA " + other + " CASCADE") })
	row := Food{Name: "pizza", Image: field.NewImage("p.jpg", reader(photo(t, pizzaJPG)))}
	if err := db.Table(other + ".foods").Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error; err != nil {
		t.Fatal(err)
	}
	var name string
	if err := db.Raw("SELECT image FROM "+other+".foods WHERE id = ?", row.ID).Scan(&name).Error; err != nil || name == "" || name != row.Image.Name() {
		t.Fatalf("the row holds %q, %v; the struct names %q", name, err, row.Image.Name())
	}
	if !e.exists(t, name) {
		t.Errorf("the inserted row's image %s is not stored", name)
	}
}

// TestDeleteWithAssociations: deleting a menu with its courses through
// gorm (Select(clause.Associations)) deletes the courses' files, as a
// delete of each course would. A database's ON DELETE CASCADE does not go
// through gorm, and leaves them for Prune (see the README).
func TestDeleteWithAssociations(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setup(t, db, &Menu{}, &Course{})
		ctx := context.Background()
		menu := lunchMenu(t)
		other := Menu{Name: "dinner", Courses: []Course{{Image: field.NewImage("soup.jpg", reader(photo(t, soupJPG)))}}}
		for _, m := range []*Menu{&menu, &other} {
			if err := e.db.Create(m).Error; err != nil {
				t.Fatal(err)
			}
		}
		var files []string
		for _, c := range menu.Courses {
			small, err := c.Image.Thumbnail(ctx, "small")
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, c.Image.Name(), small.Name)
		}
		if err := e.db.Select(clause.Associations).Delete(&menu).Error; err != nil {
			t.Fatal(err)
		}
		if n := count(t, db, "courses"); n != 1 {
			t.Fatalf("%d courses left, want the other menu's", n)
		}
		for _, f := range files {
			if e.exists(t, f) {
				t.Errorf("%s of a deleted course is still stored", f)
			}
		}
		kept := other.Courses[0].Image.Name()
		if !e.exists(t, kept) {
			t.Errorf("the other menu's course lost its image %s", kept)
		}
	})
}

// TestAssociationImagesBeforeTheTransaction creates a menu whose courses
// have images, on SQLite with _txlock=immediate (BEGIN takes the write
// lock): gorm saves the courses in the menu's transaction, after the menu's
// row, but their images are stored before that transaction begins, so
// another connection can write while every file is written. A menu whose
// statement fails before its courses are saved leaves none of their files.
func TestAssociationImagesBeforeTheTransaction(t *testing.T) {
	dsn := testdb.SQLiteDSN(t, "&_txlock=immediate")
	db := testdb.Open(t, sqlite.Open(dsn))
	file, _, _ := strings.Cut(dsn, "?")
	other := testdb.Open(t, sqlite.Open(file+"?_busy_timeout=0"))
	files := localFiles(t.TempDir())
	var blocked []string
	hs := &saveHookStorage{Storage: backends.NewFileSystemStorage(string(files), "/media/")}
	usePlugin(t, db, thumbnails.Config{Sizes: testSizes(), Storage: hs}, &Menu{}, &Course{})
	if err := other.Exec("CREATE TABLE visits (id integer PRIMARY KEY)").Error; err != nil {
		t.Fatal(err)
	}
	hs.onSave = func(name string) {
		if err := other.Exec("INSERT INTO visits DEFAULT VALUES").Error; err != nil {
			blocked = append(blocked, name)
		}
	}
	menu := lunchMenu(t)
	if err := db.Create(&menu).Error; err != nil {
		t.Fatal(err)
	}
	if len(blocked) > 0 {
		t.Errorf("files written while the menu's transaction held the write lock: %v", blocked)
	}
	for _, c := range menu.Courses {
		if th, err := c.Image.Thumbnail(context.Background(), "small"); err != nil || !files.exists(t, th.Name) {
			t.Errorf("course %d: %+v, %v", c.ID, th, err)
		}
	}
	// The same menu again: its primary key is taken, the insert fails
	// before gorm saves the courses, and their stored uploads go; their
	// Images hold their uploads still, and a new menu saves them.
	before := files.names(t)
	again := lunchMenu(t)
	again.ID = menu.ID
	if err := db.Create(&again).Error; err == nil {
		t.Fatal("a menu with a taken primary key was created")
	}
	if got := files.names(t); len(got) != len(before) {
		t.Errorf("files after the failed create: %v, want %v", got, before)
	}
	again.ID = 0
	if err := db.Create(&again).Error; err != nil {
		t.Fatalf("the failed menu, saved as a new one: %v", err)
	}
	for _, c := range again.Courses {
		if th, err := c.Image.Thumbnail(context.Background(), "small"); err != nil || !files.exists(t, th.Name) {
			t.Errorf("a course of the menu saved again: %+v, %v", th, err)
		}
	}
}

// Owner's relation field comes after more fields than Kid has: gorm lists,
// in Kid's schema, the relation back to Owner, whose field is Owner's.
type Owner struct {
	ID      uint
	A, B, C string
	Kids    []Kid
}

// Kid is Owner's has-many side, with an image.
type Kid struct {
	ID      uint
	OwnerID uint
	Image   field.Image `thumbnails:"sizes:small;dir:kids"`
}

// RelayMenu's BeforeCreate hook changes its courses after the plugin
// stored their uploads: it replaces the first one's image, and adds a
// course (append, which may move the others to a new array).
type RelayMenu struct {
	ID      uint
	Courses []RelayCourse
	hook    func(m *RelayMenu)
}

func (m *RelayMenu) BeforeCreate(*gorm.DB) error {
	if m.hook != nil {
		m.hook(m)
	}
	return nil
}

// RelayCourse is RelayMenu's has-many side.
type RelayCourse struct {
	ID          uint
	RelayMenuID uint
	Image       field.Image `thumbnails:"sizes:small;dir:courses"`
}

// Chef has one Portfolio by value.
type Chef struct {
	ID        uint
	Name      string
	Portfolio Portfolio
}

// Portfolio is Chef's has-one side.
type Portfolio struct {
	ID     uint
	ChefID uint
	Image  field.Image `thumbnails:"sizes:small;dir:portfolios"`
}

// onlyFilesOf checks that files holds exactly the sources and thumbnails
// of imgs: no file lost, none left over.
func onlyFilesOf(t *testing.T, files localFiles, imgs ...*field.Image) {
	t.Helper()
	var want []string
	for _, img := range imgs {
		all, err := img.Thumbnails(context.Background())
		if err != nil {
			t.Fatalf("%s: %v", img.Name(), err)
		}
		want = append(want, img.Name())
		for _, th := range all {
			want = append(want, th.Name)
		}
	}
	slices.Sort(want)
	if got := files.names(t); !slices.Equal(got, want) {
		t.Errorf("files %v, want %v", got, want)
	}
}

// TestAssociationsStoredEarlyEdgeCases: the associations' uploads stored
// before the transaction, as gorm and the caller's hooks see them.
func TestAssociationsStoredEarlyEdgeCases(t *testing.T) {
	ctx := context.Background()
	db := openSQLite(t)
	files := localFiles(t.TempDir())
	usePlugin(t, db, thumbnails.Config{Sizes: testSizes(), Storage: backends.NewFileSystemStorage(string(files), "/media/")},
		&Owner{}, &Kid{}, &RelayMenu{}, &RelayCourse{}, &Chef{}, &Portfolio{})
	upload := func(name string) field.Image { return field.NewImage(name, reader(photo(t, pizzaJPG))) }

	// a schema with a relation back to its owner
	if err := db.Create(&Kid{}).Error; err != nil {
		t.Fatal(err)
	}
	owner := Owner{Kids: []Kid{{Image: upload("a.jpg")}}}
	if err := db.Create(&owner).Error; err != nil {
		t.Fatal(err)
	}
	onlyFilesOf(t, files, &owner.Kids[0].Image)

	// a hook replaces a stored upload, and appends a course
	reset := func() {
		if err := db.Exec("DELETE FROM relay_courses").Error; err != nil {
			t.Fatal(err)
		}
		for _, name := range files.names(t) {
			if err := os.Remove(files.path(name)); err != nil {
				t.Fatal(err)
			}
		}
	}
	reset()
	menu := RelayMenu{Courses: make([]RelayCourse, 2, 2)}
	menu.Courses[0].Image, menu.Courses[1].Image = upload("a.jpg"), upload("b.jpg")
	menu.hook = func(m *RelayMenu) {
		m.Courses[0].Image = upload("c.jpg")
		m.Courses = append(m.Courses, RelayCourse{Image: upload("d.jpg")})
	}
	if err := db.Create(&menu).Error; err != nil {
		t.Fatal(err)
	}
	var imgs []*field.Image
	for i := range menu.Courses {
		if _, err := menu.Courses[i].Image.Thumbnail(ctx, "small"); err != nil {
			t.Errorf("course %d: %v", i, err)
		}
		imgs = append(imgs, &menu.Courses[i].Image)
	}
	onlyFilesOf(t, files, imgs...)

	// a hook drops a course
	reset()
	menu = RelayMenu{Courses: []RelayCourse{{Image: upload("a.jpg")}, {Image: upload("b.jpg")}}}
	menu.hook = func(m *RelayMenu) { m.Courses = slices.Delete(m.Courses, 0, 1) }
	if err := db.Create(&menu).Error; err != nil {
		t.Fatal(err)
	}
	if len(menu.Courses) != 1 {
		t.Fatalf("%d courses", len(menu.Courses))
	}
	onlyFilesOf(t, files, &menu.Courses[0].Image)

	// Model(&m).Updates(m): gorm saves the Model's associations
	chef := Chef{Name: "a"}
	if err := db.Create(&chef).Error; err != nil {
		t.Fatal(err)
	}
	chef.Portfolio = Portfolio{Image: upload("p.jpg")}
	if err := db.Model(&chef).Updates(chef).Error; err != nil {
		t.Fatalf("Model(&chef).Updates(chef): %v", err)
	}
	if _, err := chef.Portfolio.Image.Thumbnail(ctx, "small"); err != nil {
		t.Errorf("the portfolio: %v", err)
	}
}
