package thumbnails_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails"
	"github.com/gorm-thumbnails/thumbnails/backends"
	"github.com/gorm-thumbnails/thumbnails/field"
	"github.com/gorm-thumbnails/thumbnails/internal/testdb"
)

func TestPrune(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setup(t, db, &Food{})
		ctx := context.Background()
		meta := metadataOf(db)

		// committed rows, whose files must survive
		kept := []Food{newFood(t, "a", pizzaJPG), newFood(t, "b", pastaJPG)}
		if err := db.Create(&kept).Error; err != nil {
			t.Fatal(err)
		}
		var keptFiles []string
		for i := range kept {
			keptFiles = append(keptFiles, filesOf(t, &kept[i])...)
		}

		// a crash between writing the files and committing: files, no metadata, no row
		crashed := []string{"foods/0123456789abcdef0123456789abcdef.png", "thumbnails/foods/0123456789abcdef0123456789abcdef_small.png", "foods/.tmp-123"}
		for _, f := range crashed {
			e.write(t, f, smallPNG(t, 1))
		}
		// a save that rolled back with metadata outside the database (Redis), or a
		// row deleted by hand: recorded source and files, no row
		ghost := "foods/ffffffffffffffffffffffffffffffff.png"
		ghostThumb := "thumbnails/foods/ffffffffffffffffffffffffffffffff_small.png"
		e.write(t, ghost, smallPNG(t, 2))
		e.write(t, ghostThumb, smallPNG(t, 2))
		if err := meta.Put(ctx, ghost, backends.Thumbnail{Size: "small", Name: ghostThumb, Width: 100, Height: 100}); err != nil {
			t.Fatal(err)
		}
		// a thumbnail file deleted by hand: its record points at nothing
		lost, err := kept[1].Image.Thumbnail(ctx, "small")
		if err != nil {
			t.Fatal(err)
		}
		e.remove(t, lost.Name)
		// an upload in flight: a fresh file, not referenced yet
		fresh := "foods/eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee.png"
		e.write(t, fresh, smallPNG(t, 3))
		for _, f := range e.files(t) {
			if f != fresh {
				e.age(t, f, 2*time.Hour)
			}
		}

		opts := thumbnails.PruneOptions{Models: []any{&Food{}}}
		report, err := thumbnails.Prune(ctx, db, opts)
		if err != nil {
			t.Fatal(err)
		}
		wantFiles := append(slices.Clone(crashed), ghost, ghostThumb)
		slices.Sort(wantFiles)
		if !slices.Equal(report.Files, wantFiles) {
			t.Errorf("orphan files = %v, want %v", report.Files, wantFiles)
		}
		if !slices.Equal(report.Sources, []string{ghost}) {
			t.Errorf("orphan sources = %v", report.Sources)
		}
		if len(report.Records) != 1 || report.Records[0].Name != lost.Name {
			t.Errorf("dangling records = %+v, want %s", report.Records, lost.Name)
		}
		// a dry run deletes nothing
		for _, f := range wantFiles {
			if !e.exists(t, f) {
				t.Fatalf("dry run deleted %s", f)
			}
		}

		opts.Delete = true
		if _, err := thumbnails.Prune(ctx, db, opts); err != nil {
			t.Fatal(err)
		}
		for _, f := range wantFiles {
			if e.exists(t, f) {
				t.Errorf("%s survived the prune", f)
			}
		}
		assertNoMetadata(t, db, ghost)
		assertMetadata(t, db, kept[1].Image.Name(), 1) // medium left, small's dangling record gone
		for _, f := range keptFiles {
			if f != lost.Name && !e.exists(t, f) {
				t.Errorf("prune deleted %s, which a committed row references", f)
			}
		}
		if !e.exists(t, fresh) {
			t.Error("prune deleted a file younger than MinAge")
		}

		again, err := thumbnails.Prune(ctx, db, opts)
		if err != nil || len(again.Files)+len(again.Sources)+len(again.Records) != 0 {
			t.Errorf("second prune = %+v, %v", again, err)
		}
		// the lost size is regenerated on access
		if th, err := kept[1].Image.Thumbnail(ctx, "small"); err == nil && th.Width != 100 {
			t.Errorf("small after prune = %+v", th)
		}
	})
}

func TestPruneNeedsPlugin(t *testing.T) {
	db := openSQLite(t)
	if _, err := thumbnails.Prune(context.Background(), db, thumbnails.PruneOptions{}); !errors.Is(err, thumbnails.ErrNotRegistered) {
		t.Fatalf("err = %v", err)
	}
}

// TestPruneMissingRoot checks that Prune on a file storage whose root folder
// does not exist (a mistyped path, or a relative one from another working
// folder) fails and deletes nothing, rather than finding every record's
// file gone.
func TestPruneMissingRoot(t *testing.T) {
	w := newWrongRoot(t, filepath.Join(t.TempDir(), "typo"))
	report, err := thumbnails.Prune(context.Background(), w.other, thumbnails.PruneOptions{Models: []any{&Food{}}, MinAge: -1, Delete: true})
	if !errors.Is(err, backends.ErrNotFound) {
		t.Fatalf("Prune with a missing root: %+v, %v; want ErrNotFound", report, err)
	}
	w.checkRecords(t)
}

// wrongRoot is a database with a row saved through the plugin, and the
// same database opened by another process whose file storage has another
// root.
type wrongRoot struct {
	db, other *gorm.DB
	food      Food
	before    map[string]field.Thumbnail // the row's thumbnails
}

func newWrongRoot(t *testing.T, root string) wrongRoot {
	t.Helper()
	db := openSQLite(t)
	cfg := thumbnails.Config{Sizes: testSizes(), Storage: backends.NewFileSystemStorage(t.TempDir(), "/media/")}
	usePlugin(t, db, cfg, &Food{})
	w := wrongRoot{db: db, food: newFood(t, "a", pizzaJPG)}
	if err := db.Create(&w.food).Error; err != nil {
		t.Fatal(err)
	}
	var err error
	if w.before, err = w.food.Image.Thumbnails(context.Background()); err != nil || len(w.before) == 0 {
		t.Fatalf("%d thumbnails, %v", len(w.before), err)
	}
	if w.other, err = gorm.Open(db.Dialector, gormConfig()); err != nil {
		t.Fatal(err)
	}
	cfg.Storage = backends.NewFileSystemStorage(root, "/media/")
	if err := w.other.Use(thumbnails.Plugin(cfg)); err != nil {
		t.Fatal(err)
	}
	return w
}

// checkRecords checks that the row's thumbnails are all still recorded.
func (w wrongRoot) checkRecords(t *testing.T) {
	t.Helper()
	var again Food
	if err := w.db.First(&again, w.food.ID).Error; err != nil {
		t.Fatal(err)
	}
	if after, err := again.Image.Thumbnails(context.Background()); err != nil || len(after) != len(w.before) {
		t.Errorf("after the refused Prune: %d thumbnails recorded, %v; want %d", len(after), err, len(w.before))
	}
}

// TestPruneReportsLostSources checks that a recorded source whose own file
// is gone is reported as lost, and that Prune removes neither its records
// nor its thumbnails, which still serve.
func TestPruneReportsLostSources(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setup(t, db, &Food{})
		food := newFood(t, "a", pizzaJPG)
		if err := db.Create(&food).Error; err != nil {
			t.Fatal(err)
		}
		e.remove(t, food.Image.Name())
		ctx := context.Background()
		report, err := thumbnails.Prune(ctx, db, thumbnails.PruneOptions{Models: []any{&Food{}}, MinAge: -1, Delete: true})
		if err != nil || !slices.Equal(report.Lost, []string{food.Image.Name()}) || len(report.Records) != 0 || len(report.Sources) != 0 {
			t.Fatalf("report %+v, %v; want the source lost, nothing else", report, err)
		}
		var again Food
		if err := db.First(&again, food.ID).Error; err != nil {
			t.Fatal(err)
		}
		small, err := again.Image.Thumbnail(ctx, "small")
		if err != nil || !e.exists(t, small.Name) {
			t.Errorf("small after Prune: %+v, %v; want it kept", small, err)
		}
	})
}

// TestPruneWrongStorage checks that Prune with a storage that holds none
// of the recorded files (an existing folder that is not the application's
// root) fails with ErrWrongStorage and deletes nothing: neither the
// folder's files nor the records; Force deletes what the report lists.
func TestPruneWrongStorage(t *testing.T) {
	ctx := context.Background()
	// The same database, opened with the root of something else.
	wrong := t.TempDir()
	notes := filepath.Join(wrong, "notes.txt")
	if err := os.WriteFile(notes, []byte("not the plugin's"), 0o644); err != nil {
		t.Fatal(err)
	}
	w := newWrongRoot(t, wrong)
	other := w.other
	opts := thumbnails.PruneOptions{Models: []any{&Food{}}, MinAge: -1, Delete: true}
	report, err := thumbnails.Prune(ctx, other, opts)
	if !errors.Is(err, thumbnails.ErrWrongStorage) {
		t.Fatalf("Prune with the wrong storage: %+v, %v; want ErrWrongStorage", report, err)
	}
	if !slices.Equal(report.Files, []string{"notes.txt"}) || len(report.Records) != len(w.before) {
		t.Errorf("report %+v; want notes.txt and every record", report)
	}
	if _, err := os.Stat(notes); err != nil {
		t.Errorf("the wrong root's file: %v; want it kept", err)
	}
	w.checkRecords(t)

	// A dry run reports without the error; Force deletes.
	opts.Delete = false
	if _, err := thumbnails.Prune(ctx, other, opts); err != nil {
		t.Errorf("dry run: %v", err)
	}
	opts.Delete, opts.Force = true, true
	if _, err := thumbnails.Prune(ctx, other, opts); err != nil {
		t.Fatalf("Force: %v", err)
	}
	if _, err := os.Stat(notes); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("after Force, notes.txt: %v; want it deleted", err)
	}
}

// TestPruneKeepsSourcesWithoutThumbnails: the source of a column whose
// sizes are all lazy (none made yet), and one whose only size was deleted,
// are recorded sources, on every metadata store: Prune without Models
// (which then prunes only what no metadata references) keeps their files.
func TestPruneKeepsSourcesWithoutThumbnails(t *testing.T) {
	type Lazy struct {
		ID    uint
		Image field.Image `thumbnails:"sizes:large"`
	}
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setup(t, db, &Lazy{}, &Food{})
		ctx := context.Background()
		lazy := Lazy{Image: field.NewImage("a.jpg", bytes.NewReader(photo(t, pizzaJPG)))}
		if err := db.Create(&lazy).Error; err != nil {
			t.Fatal(err)
		}
		food := newFood(t, "b", pastaJPG)
		if err := db.Create(&food).Error; err != nil {
			t.Fatal(err)
		}
		for _, size := range []string{"small", "medium"} {
			if _, err := thumbnails.DeleteSize(ctx, db, &Food{}, "image", size); err != nil {
				t.Fatal(err)
			}
		}
		for _, name := range []string{lazy.Image.Name(), food.Image.Name()} {
			e.age(t, name, 2*time.Hour)
		}
		report, err := thumbnails.Prune(ctx, db, thumbnails.PruneOptions{MinAge: -1, Delete: true})
		if err != nil || len(report.Files) != 0 {
			t.Fatalf("Prune: %+v, %v; want nothing to delete", report, err)
		}
		for _, name := range []string{lazy.Image.Name(), food.Image.Name()} {
			if !e.exists(t, name) {
				t.Errorf("Prune deleted the source %s", name)
			}
		}
		var again Lazy
		if err := db.First(&again, lazy.ID).Error; err != nil {
			t.Fatal(err)
		}
		if large, err := again.Image.Thumbnail(ctx, "large"); err != nil || large.Width == 0 {
			t.Errorf("large after Prune: %+v, %v", large, err)
		}
	})
}

// TestPruneFollowsLinkedFolders: a folder of the storage root that is a
// symbolic link to another disk (media/foods) holds live sources; Prune
// neither takes the link for an orphan file nor the sources for lost.
func TestPruneFollowsLinkedFolders(t *testing.T) {
	db := openSQLite(t)
	e := setup(t, db, &Food{})
	food := newFood(t, "a", pizzaJPG)
	if err := db.Create(&food).Error; err != nil {
		t.Fatal(err)
	}
	elsewhere := filepath.Join(t.TempDir(), "foods")
	if err := os.Rename(filepath.Join(e.root, "foods"), elsewhere); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(elsewhere, filepath.Join(e.root, "foods")); err != nil {
		t.Skipf("symbolic links: %v", err)
	}
	ctx := context.Background()
	report, err := thumbnails.Prune(ctx, db, thumbnails.PruneOptions{Models: []any{&Food{}}, MinAge: -1, Delete: true})
	if err != nil || len(report.Files) != 0 || len(report.Lost) != 0 || len(report.Records) != 0 {
		t.Fatalf("Prune: %+v, %v; want nothing found", report, err)
	}
	if !e.exists(t, food.Image.Name()) {
		t.Errorf("the source %s is gone after Prune", food.Image.Name())
	}
}

// listHook runs after, once, when the storage's listing has ended.
type listHook struct {
	backends.Storage
	after func()
}

func (s *listHook) List(ctx context.Context, fn func(backends.FileInfo) error) error {
	err := s.Storage.(backends.Lister).List(ctx, fn)
	if f := s.after; f != nil {
		s.after = nil
		f()
	}
	return err
}

// TestPruneKeepsWhatIsWrittenWhileItRuns commits a row, and makes a lazy
// size, once Prune has listed the storage (a save during a long walk):
// their files are not in the listing, and are young, so their records
// stay, with or without Models.
func TestPruneKeepsWhatIsWrittenWhileItRuns(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		st := &listHook{}
		cfg := thumbnails.Config{Sizes: testSizes()}
		if m, ok := redisMetadata.Load(db); ok {
			cfg.Metadata = m.(backends.Metadata)
		}
		e := setupOver(t, db, cfg, func(fs backends.Storage) backends.Storage { st.Storage = fs; return st })
		foods := []Food{*savedFood(t, db)}
		for _, models := range [][]any{{&Food{}}, nil} {
			st.after = func() {
				foods = append(foods, *savedFood(t, db))
				if _, err := foods[len(foods)-2].Image.Thumbnail(ctx, "large"); err != nil {
					t.Error(err)
				}
			}
			report, err := thumbnails.Prune(ctx, db, thumbnails.PruneOptions{Models: models, Delete: true})
			if err != nil || report.Done != 0 || len(report.Lost) != 0 {
				t.Errorf("Prune (models %v) while a row is written: %+v, %v; want nothing found", models, report, err)
			}
			for _, f := range foods {
				recs := sizesOf(t, db, f)
				for _, size := range []string{"small", "medium"} {
					if th, ok := recs[size]; !ok || !e.exists(t, th.Name) {
						t.Errorf("row %d lost its %s size: record %v", f.ID, size, ok)
					}
				}
			}
			if _, ok := sizesOf(t, db, foods[len(foods)-2])["large"]; !ok {
				t.Errorf("the lazy size made during the run lost its record")
			}
		}
	})
}

// eachThen runs after, once, when a walk of the metadata (Each) has ended.
type eachThen struct {
	backends.Metadata
	after func()
}

func (m *eachThen) WithDB(db *gorm.DB) backends.Metadata {
	return &eachThen{Metadata: m.Metadata.(backends.TxMetadata).WithDB(db), after: m.after}
}

func (m *eachThen) Each(ctx context.Context, fn func(string, []backends.Thumbnail) error) error {
	err := m.Metadata.Each(ctx, fn)
	if f := m.after; f != nil {
		m.after = nil
		f()
	}
	return err
}

// TestPruneDuringAClearNotLost: a row's image is cleared while Prune runs;
// its clean-up has deleted the files when the listing runs, and the
// records once Prune has read them. The source was released, not lost:
// Prune reports neither it nor its records.
func TestPruneDuringAClearNotLost(t *testing.T) {
	db := openSQLite(t)
	meta := &eachThen{Metadata: backends.NewDatabaseMetadata(db)}
	e := setupOver(t, db, thumbnails.Config{Sizes: testSizes(), Metadata: meta}, func(fs backends.Storage) backends.Storage { return fs })
	kept := *savedFood(t, db)
	food := *savedFood(t, db)
	name := food.Image.Name()
	recs := sizesOf(t, db, food)
	e.remove(t, name) // the clean-up's first steps
	for _, r := range recs {
		e.remove(t, r.Name)
	}
	if err := db.Exec("UPDATE foods SET image = '' WHERE id = ?", food.ID).Error; err != nil {
		t.Fatal(err)
	}
	meta.after = func() { // and its last
		if err := meta.Metadata.Delete(context.Background(), name); err != nil {
			t.Error(err)
		}
	}
	report, err := thumbnails.Prune(context.Background(), db, thumbnails.PruneOptions{})
	if err != nil || len(report.Lost) != 0 || len(report.Records) != 0 {
		t.Errorf("report %+v, %v; want no source lost, no record", report, err)
	}
	if _, ok := sizesOf(t, db, kept)["small"]; !ok {
		t.Error("the other row lost its small size")
	}
}

// TestPruneOnOneConnection prunes, with Models, a source no row holds on a
// database of one connection: the sources go under their locks, in one
// transaction, through it (no second connection to wait for).
func TestPruneOnOneConnection(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		sqlDB, err := db.DB()
		if err != nil {
			t.Fatal(err)
		}
		sqlDB.SetMaxOpenConns(1)
		e := setup(t, db, &Food{})
		food := *savedFood(t, db)
		if err := db.Exec("UPDATE foods SET image = '' WHERE id = ?", food.ID).Error; err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		report, err := thumbnails.Prune(ctx, db, thumbnails.PruneOptions{Models: []any{&Food{}}, MinAge: -1, Delete: true})
		if err != nil || !slices.Equal(report.Sources, []string{food.Image.Name()}) {
			t.Fatalf("report %+v, %v; want the source pruned", report, err)
		}
		if files := e.files(t); len(files) != 0 {
			t.Errorf("files left: %v", files)
		}
	})
}

// TestPruneDuringAReleaseNotLost: with Models, a row lets go of its image
// once Prune has read the rows (its clean-up has deleted the files, not
// yet the records): the source is not reported lost, since no row holds
// it any more.
func TestPruneDuringAReleaseNotLost(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		st := &listHook{}
		cfg := thumbnails.Config{Sizes: testSizes()}
		if m, ok := redisMetadata.Load(db); ok {
			cfg.Metadata = m.(backends.Metadata)
		}
		e := setupOver(t, db, cfg, func(fs backends.Storage) backends.Storage { st.Storage = fs; return st })
		savedFood(t, db)
		food := *savedFood(t, db)
		e.remove(t, food.Image.Name())
		st.after = func() {
			if err := db.Exec("UPDATE foods SET image = '' WHERE id = ?", food.ID).Error; err != nil {
				t.Error(err)
			}
		}
		report, err := thumbnails.Prune(context.Background(), db, thumbnails.PruneOptions{Models: []any{&Food{}}})
		if err != nil || len(report.Lost) != 0 {
			t.Errorf("report %+v, %v; want no source lost", report, err)
		}
	})
}

// refuseSourceDelete makes db refuse to delete the metadata row of source,
// as a deadlock, a lock or a statement timeout would: a trigger raises.
// On PostgreSQL, deferred makes it raise at the commit instead.
func refuseSourceDelete(t *testing.T, db *gorm.DB, source string, deferred bool) {
	t.Helper()
	var qs []string
	if db.Dialector.Name() == "sqlite" {
		qs = []string{`CREATE TRIGGER refuse_delete BEFORE DELETE ON ` + backends.SourcesTable +
			` WHEN OLD.name = '` + source + `' BEGIN SELECT RAISE(ABORT, 'refused'); END`}
	} else {
		create := `CREATE TRIGGER refuse_delete BEFORE DELETE ON ` + backends.SourcesTable
		if deferred {
			create = `CREATE CONSTRAINT TRIGGER refuse_delete AFTER DELETE ON ` + backends.SourcesTable + ` DEFERRABLE INITIALLY DEFERRED`
		}
		qs = []string{
			`CREATE FUNCTION refuse_delete() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN IF OLD.name = '` + source + `' THEN RAISE EXCEPTION 'refused'; END IF; RETURN OLD; END $$`,
			create + ` FOR EACH ROW EXECUTE FUNCTION refuse_delete()`,
		}
	}
	for _, q := range qs {
		if err := db.Exec(q).Error; err != nil {
			t.Fatal(err)
		}
	}
}

// filesOfSource returns the files of the source of food: its own and its
// thumbnails', sorted.
func filesOfSource(t *testing.T, db *gorm.DB, food Food) []string {
	t.Helper()
	files := []string{food.Image.Name()}
	for _, r := range sizesOf(t, db, food) {
		if r.IsFile() {
			files = append(files, r.Name)
		}
	}
	slices.Sort(files)
	return files
}

// TestPruneOneFailedSourceDelete prunes two sources no row holds, the
// records of one of which cannot be deleted. That one is reported failed
// and keeps its records and its files; the other goes whole, records and
// files. On PostgreSQL, where the deletes share the locks' transaction,
// the failed one no longer aborts it (the other's records were rolled
// back at the commit, their files deleted all the same).
func TestPruneOneFailedSourceDelete(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		if usesRedis(db) {
			t.Skip("a trigger refuses the delete: database metadata only")
		}
		e := setup(t, db, &Food{})
		ctx := context.Background()
		bad, good := *savedFood(t, db), *savedFood(t, db)
		badFiles, goodFiles := filesOfSource(t, db, bad), filesOfSource(t, db, good)
		if err := db.Exec("UPDATE foods SET image = ''").Error; err != nil {
			t.Fatal(err)
		}
		refuseSourceDelete(t, db, bad.Image.Name(), false)

		var last thumbnails.Progress
		report, err := thumbnails.Prune(ctx, db, thumbnails.PruneOptions{Models: []any{&Food{}}, MinAge: -1, Delete: true,
			Progress: func(p thumbnails.Progress) { last = p }})
		if err == nil {
			t.Error("Prune: no error; want the failed delete's")
		}
		if !slices.Equal(report.Sources, []string{good.Image.Name()}) || !slices.Equal(report.Files, goodFiles) ||
			report.Done != 1+len(goodFiles) || report.Failed != 1 {
			t.Errorf("report: Sources %v, Files %v, Counts %+v; want %s removed with its files %v, 1 failed",
				report.Sources, report.Files, report.Counts, good.Image.Name(), goodFiles)
		}
		if last.Total != last.Done+last.Failed || last.Done != report.Done {
			t.Errorf("last progress %+v; want a total of the done and failed (the kept files left out)", last)
		}
		if recs := sizesOf(t, db, good); len(recs) != 0 {
			t.Errorf("%s keeps its records %v", good.Image.Name(), recs)
		}
		for _, f := range goodFiles {
			if e.exists(t, f) {
				t.Errorf("%s survived the prune", f)
			}
		}
		if recs := sizesOf(t, db, bad); len(recs) == 0 {
			t.Errorf("%s, whose delete failed, lost its records", bad.Image.Name())
		}
		for _, f := range badFiles {
			if !e.exists(t, f) {
				t.Errorf("%s is gone, its source's records kept", f)
			}
		}
	})
}

// TestPruneLockedCommitFails: on PostgreSQL, the commit of the locks'
// transaction fails (a deferred trigger raises). The source's records are
// still there: it is reported failed, not removed. Its files went under
// the locks, before the commit (a copy waiting for them must find the
// source gone); no row holds it, and the next run removes its records.
func TestPruneLockedCommitFails(t *testing.T) {
	t.Parallel()
	db := testdb.Postgres(t)
	e := setup(t, db, &Food{})
	ctx := context.Background()
	food := *savedFood(t, db)
	files := filesOfSource(t, db, food)
	if err := db.Exec("UPDATE foods SET image = ''").Error; err != nil {
		t.Fatal(err)
	}
	savedFood(t, db) // kept: the storage is the application's
	refuseSourceDelete(t, db, food.Image.Name(), true)
	opts := thumbnails.PruneOptions{Models: []any{&Food{}}, MinAge: -1, Delete: true}
	report, err := thumbnails.Prune(ctx, db, opts)
	if err == nil || len(report.Sources) != 0 || report.Failed != 1 || report.Done != len(files) {
		t.Errorf("report: Sources %v, Files %v, Counts %+v, %v; want the source failed at the commit", report.Sources, report.Files, report.Counts, err)
	}
	if recs := sizesOf(t, db, food); len(recs) == 0 {
		t.Errorf("%s: its records are gone; the commit failed", food.Image.Name())
	}

	if err := db.Exec("DROP TRIGGER refuse_delete ON " + backends.SourcesTable).Error; err != nil {
		t.Fatal(err)
	}
	report, err = thumbnails.Prune(ctx, db, opts)
	if err != nil || !slices.Equal(report.Sources, []string{food.Image.Name()}) {
		t.Errorf("the next run: Sources %v, %v; want the source removed", report.Sources, err)
	}
	if recs := sizesOf(t, db, food); len(recs) != 0 {
		t.Errorf("%s keeps its records %v after the next run", food.Image.Name(), recs)
	}
	for _, f := range files {
		if e.exists(t, f) {
			t.Errorf("%s survived the prune", f)
		}
	}
}

// TestPruneReadsEveryRowOfALargeTable prunes with a SQLite table whose
// rows Prune reads in chunks: the one row holding a source comes after
// more rows than a chunk (or has the smallest rowid there is), in a table
// with a rowid, one without (WITHOUT ROWID) and one with a column named
// like it. The source is kept in all.
func TestPruneReadsEveryRowOfALargeTable(t *testing.T) {
	for _, tc := range []struct{ name, create string }{
		{"rowid", `CREATE TABLE "held by" (id integer PRIMARY KEY, image text)`},
		{"negative rowids", `CREATE TABLE "held by" (id integer PRIMARY KEY, image text)`},
		{"the smallest rowid", `CREATE TABLE "held by" (id integer PRIMARY KEY, image text)`},
		{"without rowid", `CREATE TABLE "held by" (id integer PRIMARY KEY, image text) WITHOUT ROWID`},
		{"a column named _rowid_", `CREATE TABLE "held by" (id integer PRIMARY KEY, _rowid_ text, image text)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			db := openSQLite(t)
			e := setup(t, db, &Food{})
			ctx := context.Background()
			food := newFood(t, "a", pizzaJPG)
			if err := db.Create(&food).Error; err != nil {
				t.Fatal(err)
			}
			if err := db.Exec("DELETE FROM foods").Error; err != nil { // by hand: the files stay
				t.Fatal(err)
			}
			if err := db.Exec(tc.create).Error; err != nil {
				t.Fatal(err)
			}
			first := int64(1)
			held := first + 25001 // after more rows than a chunk
			switch tc.name {
			case "negative rowids":
				first, held = -30000, -30000+25001
			case "the smallest rowid":
				first, held = math.MinInt64+1, math.MinInt64
			}
			err := db.Exec(`WITH RECURSIVE n(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM n WHERE i < ?)
				INSERT INTO "held by" (id, image) SELECT i, 'foods/gone.jpg' FROM n`, first, first+25000).Error
			if err != nil {
				t.Fatal(err)
			}
			if err := db.Exec(`INSERT INTO "held by" (id, image) VALUES (?, ?)`, held, food.Image.Name()).Error; err != nil {
				t.Fatal(err)
			}
			if tc.name == "a column named _rowid_" {
				if err := db.Exec(`UPDATE "held by" SET _rowid_ = 'x'`).Error; err != nil {
					t.Fatal(err)
				}
			}
			for _, f := range e.files(t) {
				e.age(t, f, 2*time.Hour)
			}
			opts := thumbnails.PruneOptions{Models: []any{thumbnails.Table{Name: "held by", Column: "image", Dir: "foods"}}}
			for _, del := range []bool{false, true} {
				opts.Delete = del
				report, err := thumbnails.Prune(ctx, db, opts)
				if err != nil {
					t.Fatal(err)
				}
				if len(report.Sources) != 0 || len(report.Files) != 0 {
					t.Errorf("prune (delete %v) lists %v and %v, which the last row holds", del, report.Sources, report.Files)
				}
			}
			if !e.exists(t, food.Image.Name()) {
				t.Errorf("%s deleted", food.Image.Name())
			}
		})
	}
}

// TestPruneWithTheWrongMetadata prunes the application's rows and storage
// from a program whose metadata is not the application's (a mistyped Redis
// key prefix; the database's tables where the application keeps Redis):
// Prune refuses with ErrWrongMetadata and deletes nothing; a dry run
// reports without it; Force deletes the thumbnails the report lists and
// keeps the source a row holds.
func TestPruneWithTheWrongMetadata(t *testing.T) {
	client := testdb.Redis(t)
	prefix := testdb.RedisPrefix(t, client)
	for _, tc := range []struct {
		name  string
		wrong backends.Metadata
	}{
		{"mistyped prefix", backends.NewRedisMetadata(client, prefix+"typo:")},
		{"database instead of Redis", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			dsn := testdb.SQLiteDSN(t, "")
			root := t.TempDir()
			storage := backends.NewFileSystemStorage(root, "/media/")
			app := testdb.Open(t, sqlite.Open(dsn))
			usePlugin(t, app, thumbnails.Config{Sizes: testSizes(), Storage: storage, Metadata: backends.NewRedisMetadata(client, prefix+tc.name+":")}, &Food{})
			food := newFood(t, "a", pizzaJPG)
			if err := app.Create(&food).Error; err != nil {
				t.Fatal(err)
			}
			files := localFiles(root)
			before := files.names(t)
			for _, f := range before {
				files.age(t, f, 2*time.Hour)
			}

			maint := testdb.Open(t, sqlite.Open(dsn))
			wrong := tc.wrong
			if wrong == nil {
				wrong = backends.NewDatabaseMetadata(maint)
			}
			usePlugin(t, maint, thumbnails.Config{Sizes: testSizes(), Storage: storage, Metadata: wrong}, &Food{})
			opts := thumbnails.PruneOptions{Models: []any{&Food{}}, MinAge: -1}
			found, err := thumbnails.Prune(ctx, maint, opts)
			if err != nil || len(found.Files) == 0 {
				t.Fatalf("dry run: %+v, %v; want the thumbnails listed", found, err)
			}
			opts.Delete = true
			if report, err := thumbnails.Prune(ctx, maint, opts); !errors.Is(err, thumbnails.ErrWrongMetadata) || report.Done != 0 {
				t.Fatalf("Prune with the wrong metadata: %+v, %v; want ErrWrongMetadata", report, err)
			}
			if after := files.names(t); !slices.Equal(after, before) {
				t.Fatalf("files before %v, after the refused prune %v", before, after)
			}
			opts.Force = true
			report, err := thumbnails.Prune(ctx, maint, opts)
			if err != nil || !slices.Equal(report.Files, found.Files) {
				t.Fatalf("forced: %+v, %v; want %v removed", report, err, found.Files)
			}
			if after := files.names(t); !slices.Equal(after, []string{food.Image.Name()}) {
				t.Errorf("after the forced prune %v; want only the source", after)
			}
		})
	}
}

// TestPruneLegacyHexNamesAreNoWrongMetadata: a legacy table whose uploads
// are named like the plugin's (an MD5, 32 hex digits), with nothing
// recorded yet, is no sign of the wrong metadata: Prune removes a real
// orphan, and keeps the source the row holds.
func TestPruneLegacyHexNamesAreNoWrongMetadata(t *testing.T) {
	ctx := context.Background()
	db := openSQLite(t)
	e := setup(t, db)
	if err := db.Exec("CREATE TABLE legacy_items (id INTEGER PRIMARY KEY, image TEXT)").Error; err != nil {
		t.Fatal(err)
	}
	const held, orphan = "uploads/5d41402abc4b2a76b9719d911017c592.jpg", "uploads/leftover.jpg"
	for _, n := range []string{held, orphan} {
		e.write(t, n, photo(t, pizzaJPG))
		e.age(t, n, 2*time.Hour)
	}
	if err := db.Exec("INSERT INTO legacy_items (id, image) VALUES (1, ?)", held).Error; err != nil {
		t.Fatal(err)
	}
	models := []any{thumbnails.Table{Name: "legacy_items", Column: "image"}}
	report, err := thumbnails.Prune(ctx, db, thumbnails.PruneOptions{Models: models, Delete: true})
	if err != nil || !slices.Equal(report.Files, []string{orphan}) {
		t.Fatalf("Prune: %+v, %v; want %s removed", report, err, orphan)
	}
	if !e.exists(t, held) || e.exists(t, orphan) {
		t.Errorf("after Prune: %v", e.files(t))
	}
}

// TestPruneWithTheWrongMetadataAndLegacyThumbnails: the rows hold a
// legacy source whose thumbnails Regenerate made, and a recent upload
// whose files are younger than MinAge. Prune with a mistyped Redis prefix
// refuses with ErrWrongMetadata, though only the legacy thumbnails are old
// enough to remove, and deletes nothing.
func TestPruneWithTheWrongMetadataAndLegacyThumbnails(t *testing.T) {
	client := testdb.Redis(t)
	prefix := testdb.RedisPrefix(t, client)
	ctx := context.Background()
	dsn := testdb.SQLiteDSN(t, "")
	root := t.TempDir()
	storage := backends.NewFileSystemStorage(root, "/media/")
	app := testdb.Open(t, sqlite.Open(dsn))
	usePlugin(t, app, thumbnails.Config{Sizes: testSizes(), Storage: storage, Metadata: backends.NewRedisMetadata(client, prefix+"right:")}, &Food{})
	files := localFiles(root)
	files.write(t, "legacy/cat.jpg", photo(t, pizzaJPG))
	if err := app.Exec(`INSERT INTO foods (id, name, image) VALUES (1, 'legacy', 'legacy/cat.jpg')`).Error; err != nil {
		t.Fatal(err)
	}
	if _, err := thumbnails.Regenerate(ctx, app, &Food{}, thumbnails.RegenerateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, f := range files.names(t) {
		files.age(t, f, 2*time.Hour)
	}
	food := newFood(t, "new", pizzaJPG)
	if err := app.Create(&food).Error; err != nil {
		t.Fatal(err)
	}
	before := files.names(t)

	maint := testdb.Open(t, sqlite.Open(dsn))
	usePlugin(t, maint, thumbnails.Config{Sizes: testSizes(), Storage: storage, Metadata: backends.NewRedisMetadata(client, prefix+"typo:")}, &Food{})
	report, err := thumbnails.Prune(ctx, maint, thumbnails.PruneOptions{Models: []any{&Food{}}, Delete: true})
	if !errors.Is(err, thumbnails.ErrWrongMetadata) {
		t.Errorf("Prune: %+v, %v; want ErrWrongMetadata", report, err)
	}
	if after := files.names(t); !slices.Equal(after, before) {
		t.Errorf("files before %v, after %v", before, after)
	}
}

// TestPruneWithARecordedTableGone: a table whose image column the plugin
// recorded (here one written through db.Table) is renamed. Its rows still
// hold their images, which no table Prune can read holds: Prune with
// Delete refuses with ErrMissingColumns and deletes nothing, where it
// deleted them; a dry run lists the column in Missing, and Force deletes,
// for a table dropped for good.
func TestPruneWithARecordedTableGone(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		e := setup(t, db, &Food{})
		if err := db.Table("foods_archive").AutoMigrate(&Food{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Migrator().DropTable("foods_archive", "foods_renamed") })
		kept, archived := newFood(t, "kept", pizzaJPG), newFood(t, "archived", pastaJPG)
		if err := db.Create(&kept).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Table("foods_archive").Create(&archived).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Migrator().RenameTable("foods_archive", "foods_renamed"); err != nil {
			t.Fatal(err)
		}
		opts := thumbnails.PruneOptions{Models: []any{&Food{}}, MinAge: -1, Delete: true}
		report, err := thumbnails.Prune(ctx, db, opts)
		if !errors.Is(err, thumbnails.ErrMissingColumns) || !strings.Contains(err.Error(), "foods_archive.image") {
			t.Fatalf("Prune: %+v, %v; want ErrMissingColumns naming foods_archive.image", report, err)
		}
		if !slices.Equal(report.Missing, []string{"foods_archive.image"}) || !slices.Equal(report.Sources, []string{archived.Image.Name()}) || report.Done != 0 {
			t.Errorf("report %+v; want foods_archive.image missing, the archived source found, nothing done", report)
		}
		if !e.exists(t, archived.Image.Name()) || !e.exists(t, kept.Image.Name()) {
			t.Fatal("a source was deleted")
		}

		opts.Delete = false
		if report, err = thumbnails.Prune(ctx, db, opts); err != nil || !slices.Equal(report.Missing, []string{"foods_archive.image"}) {
			t.Errorf("dry run: %+v, %v; want foods_archive.image in Missing, no error", report, err)
		}
		opts.Delete, opts.Force = true, true
		if _, err := thumbnails.Prune(ctx, db, opts); err != nil {
			t.Fatalf("Force: %v", err)
		}
		if e.exists(t, archived.Image.Name()) || !e.exists(t, kept.Image.Name()) {
			t.Errorf("after Force: the archived source stored %t, the kept one %t; want deleted, kept", e.exists(t, archived.Image.Name()), e.exists(t, kept.Image.Name()))
		}
	})
}

// TestPruneTableFurtherDownTheSearchPath: on PostgreSQL, a model's table
// in the second schema of the search_path is read as any query reads it,
// not taken for a recorded column that is gone (ErrMissingColumns), which
// refused the run.
func TestPruneTableFurtherDownTheSearchPath(t *testing.T) {
	first := testdb.PostgresDSN(t)
	second := testdb.PostgresDSN(t)
	u, err := url.Parse(second)
	if err != nil {
		t.Fatal(err)
	}
	if err := testdb.Open(t, postgres.Open(second)).AutoMigrate(&Food{}); err != nil {
		t.Fatal(err)
	}
	db := testdb.Open(t, postgres.Open(first+","+u.Query().Get("search_path")))
	root := t.TempDir()
	if err := db.Use(thumbnails.Plugin(thumbnails.Config{Sizes: testSizes(), Storage: backends.NewFileSystemStorage(root, "/")})); err != nil {
		t.Fatal(err)
	}
	e := &env{root: root}
	kept, orphan := newFood(t, "kept", pizzaJPG), newFood(t, "orphan", pastaJPG)
	for _, f := range []*Food{&kept, &orphan} {
		if err := db.Create(f).Error; err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Exec("DELETE FROM foods WHERE id = ?", orphan.ID).Error; err != nil { // no clean-up
		t.Fatal(err)
	}
	report, err := thumbnails.Prune(context.Background(), db, thumbnails.PruneOptions{Models: []any{&Food{}}, MinAge: -1, Delete: true})
	if err != nil || len(report.Missing) != 0 || !slices.Equal(report.Sources, []string{orphan.Image.Name()}) {
		t.Fatalf("Prune = %+v, %v; want the orphan's source removed, no column missing", report, err)
	}
	if e.exists(t, orphan.Image.Name()) || !e.exists(t, kept.Image.Name()) {
		t.Errorf("the orphan's source stored %t, the kept one %t; want removed, kept", e.exists(t, orphan.Image.Name()), e.exists(t, kept.Image.Name()))
	}
}
