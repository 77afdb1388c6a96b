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
)

// leftovers stores what Prune finds, through e's plugin on db: three
// orphan files, an orphan source with its thumbnail, a record whose file
// is gone, and a lost source (a row's source file deleted by hand); every
// file is old. It returns the report a dry run gives.
func leftovers(t *testing.T, e *env, db *gorm.DB) thumbnails.PruneReport {
	t.Helper()
	ctx := context.Background()
	rows := []Food{newFood(t, "a", pizzaJPG), newFood(t, "b", pastaJPG)}
	if err := db.Create(&rows).Error; err != nil {
		t.Fatal(err)
	}
	orphans := []string{"foods/00000000000000000000000000000001.png", "foods/00000000000000000000000000000002.png", "foods/.tmp-1"}
	for i, f := range orphans {
		e.write(t, f, smallPNG(t, uint8(i)))
	}
	ghost := "foods/ffffffffffffffffffffffffffffffff.png"
	ghostThumb := "thumbnails/foods/ffffffffffffffffffffffffffffffff_small.png"
	e.write(t, ghost, smallPNG(t, 10))
	e.write(t, ghostThumb, smallPNG(t, 11))
	if err := metadataOf(db).Put(ctx, ghost, backends.Thumbnail{Size: "small", Name: ghostThumb, Width: 100, Height: 100}); err != nil {
		t.Fatal(err)
	}
	dangling, err := rows[0].Image.Thumbnail(ctx, "small")
	if err != nil {
		t.Fatal(err)
	}
	e.remove(t, dangling.Name)
	e.remove(t, rows[1].Image.Name())
	for _, f := range e.files(t) {
		e.age(t, f, 2*time.Hour)
	}
	files := append(slices.Clone(orphans), ghost, ghostThumb)
	slices.Sort(files)
	return thumbnails.PruneReport{
		Counts:  thumbnails.Counts{Done: len(files) + 2, Skipped: 1},
		Files:   files,
		Sources: []string{ghost},
		Records: []backends.Thumbnail{{Source: rows[0].Image.Name(), Size: "small", Name: dangling.Name}},
		Lost:    []string{rows[1].Image.Name()},
	}
}

// itemNames are the names Prune reports through Progress for r's items,
// in the order it removes them.
func itemNames(r thumbnails.PruneReport) []string {
	out := slices.Clone(r.Sources)
	for _, t := range r.Records {
		out = append(out, t.Name)
	}
	return append(out, r.Files...)
}

// sameReport reports whether got lists the items of want (records by
// source, size and name) and has its counts.
func sameReport(got, want thumbnails.PruneReport) bool {
	return got.Counts == want.Counts && slices.Equal(got.Files, want.Files) && slices.Equal(got.Sources, want.Sources) &&
		slices.Equal(got.Lost, want.Lost) && slices.EqualFunc(got.Records, want.Records, func(a, b backends.Thumbnail) bool {
		return a.Source == b.Source && a.Size == b.Size && a.Name == b.Name
	})
}

// TestPruneCounts checks Prune's counts and its Progress calls, in a dry
// run (what would be removed) and with Delete (what was removed).
func TestPruneCounts(t *testing.T) {
	for _, tc := range []struct {
		name   string
		delete bool
	}{
		{"dry run", false},
		{"delete", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			db := openSQLite(t)
			e := setup(t, db, &Food{})
			want := leftovers(t, e, db)
			var calls []thumbnails.Progress
			report, err := thumbnails.Prune(context.Background(), db, thumbnails.PruneOptions{
				Models: []any{&Food{}}, Delete: tc.delete,
				Progress: func(p thumbnails.Progress) { calls = append(calls, p) },
			})
			if err != nil || !sameReport(report, want) {
				t.Fatalf("Prune = %+v, %v\nwant %+v", report, err, want)
			}
			names := itemNames(want)
			if len(calls) != len(names) {
				t.Fatalf("%d Progress calls, want %d: %+v", len(calls), len(names), calls)
			}
			for i, p := range calls {
				wantCall := thumbnails.Progress{Counts: thumbnails.Counts{Done: i + 1}, Total: len(names), Source: names[i]}
				if p != wantCall {
					t.Errorf("Progress call %d = %+v, want %+v", i, p, wantCall)
				}
			}
			for _, f := range want.Files {
				if got := e.exists(t, f); got == tc.delete {
					t.Errorf("after the %s, %s exists: %v", tc.name, f, got)
				}
			}
		})
	}
}

// TestPruneCancelled cancels ctx from the Progress callback after the
// first item: Prune removes nothing more, returns ctx's error and reports
// only what it removed; a second run removes the rest.
func TestPruneCancelled(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setup(t, db, &Food{})
		found := leftovers(t, e, db)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		calls := 0
		opts := thumbnails.PruneOptions{Models: []any{&Food{}}, Delete: true, Progress: func(thumbnails.Progress) {
			calls++
			cancel()
		}}
		report, err := thumbnails.Prune(ctx, db, opts)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Prune cancelled: %v; want context.Canceled", err)
		}
		want := thumbnails.PruneReport{Counts: thumbnails.Counts{Done: 1, Skipped: 1}, Sources: found.Sources, Lost: found.Lost}
		if calls != 1 || !sameReport(report, want) {
			t.Fatalf("Prune cancelled after the first item: %+v, %d Progress calls; want %+v, 1 call", report, calls, want)
		}
		assertNoMetadata(t, db, found.Sources[0])
		for _, f := range found.Files {
			if !e.exists(t, f) {
				t.Errorf("%s was removed after ctx was cancelled", f)
			}
		}
		assertMetadata(t, db, found.Records[0].Source, 2) // the dangling record kept, and medium's

		opts.Progress = nil
		again, err := thumbnails.Prune(context.Background(), db, opts)
		want = found
		want.Sources, want.Done = nil, found.Done-1
		if err != nil || !sameReport(again, want) {
			t.Fatalf("second Prune = %+v, %v\nwant %+v", again, err, want)
		}
		for _, f := range found.Files {
			if e.exists(t, f) {
				t.Errorf("%s survived the second Prune", f)
			}
		}
	})
}

// refusingStorage is a real storage whose Delete of one name fails.
type refusingStorage struct {
	backends.Storage
	refuse string
}

// errRefused is the failure of refusingStorage's Delete.
var errRefused = errors.New("delete refused")

func (s *refusingStorage) Delete(ctx context.Context, name string) error {
	if name == s.refuse {
		return errRefused
	}
	return s.Storage.Delete(ctx, name)
}

func (s *refusingStorage) List(ctx context.Context, fn func(backends.FileInfo) error) error {
	return s.Storage.(backends.Lister).List(ctx, fn)
}

// setupOver registers the plugin on db with cfg, over the storage that
// wrap makes of a file storage in a temporary folder, with the Food table.
func setupOver(t *testing.T, db *gorm.DB, cfg thumbnails.Config, wrap func(backends.Storage) backends.Storage) *env {
	t.Helper()
	root := t.TempDir()
	cfg.Storage = wrap(backends.NewFileSystemStorage(root, "/media/"))
	usePlugin(t, db, cfg, &Food{})
	return &env{db: db, root: root}
}

// TestPruneFailedDelete: a file that cannot be deleted is counted in
// Failed, reported through Progress with its error, left out of the
// report's files, and its error is returned; the others are removed.
func TestPruneFailedDelete(t *testing.T) {
	db := openSQLite(t)
	st := &refusingStorage{}
	e := setupOver(t, db, thumbnails.Config{Sizes: testSizes()}, func(fs backends.Storage) backends.Storage { st.Storage = fs; return st })
	found := leftovers(t, e, db)
	st.refuse = found.Files[1]

	var failures []thumbnails.Progress
	report, err := thumbnails.Prune(context.Background(), db, thumbnails.PruneOptions{Models: []any{&Food{}}, Delete: true,
		Progress: func(p thumbnails.Progress) {
			if p.Err != nil {
				failures = append(failures, p)
			}
		}})
	if !errors.Is(err, errRefused) {
		t.Fatalf("Prune: %v; want the refused delete's error", err)
	}
	want := found
	want.Files = slices.Delete(slices.Clone(found.Files), 1, 2)
	want.Done, want.Failed = found.Done-1, 1
	if !sameReport(report, want) {
		t.Errorf("Prune = %+v\nwant %+v", report, want)
	}
	if len(failures) != 1 || failures[0].Source != st.refuse || !errors.Is(failures[0].Err, errRefused) || failures[0].Failed != 1 {
		t.Errorf("failures reported: %+v; want %s's", failures, st.refuse)
	}
	if !e.exists(t, st.refuse) {
		t.Errorf("%s, whose delete failed, is gone", st.refuse)
	}
	for _, f := range want.Files {
		if e.exists(t, f) {
			t.Errorf("%s survived the prune", f)
		}
	}
}
