package thumbnails_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails"
	"github.com/gorm-thumbnails/thumbnails/backends"
	"github.com/gorm-thumbnails/thumbnails/field"
)

var errDiskFull = errors.New("no space left on device (injected)")

// failingStorage is a real storage (files, or the S3 bucket) with faults
// injected into its writes: from the failAt-th Save on (1-based), the
// content reaches the storage only half-way before the write fails, as on a
// full disk or a dropped upload. A leaky one leaves the half it wrote
// under the name, as a storage that does not write atomically would.
type failingStorage struct {
	backends.Storage
	saves  atomic.Int64
	failAt atomic.Int64 // 0: never fail
	leaky  atomic.Bool
}

func (s *failingStorage) Save(ctx context.Context, name string, r io.Reader) (string, error) {
	n := s.saves.Add(1)
	if at := s.failAt.Load(); at > 0 && n >= at {
		data, _ := io.ReadAll(r)
		if s.leaky.Load() {
			if _, err := s.Storage.Save(ctx, name, bytes.NewReader(data[:len(data)/2])); err != nil {
				return "", err
			}
			return "", errDiskFull
		}
		r = io.MultiReader(bytes.NewReader(data[:len(data)/2]), errReader{errDiskFull})
	}
	return s.Storage.Save(ctx, name, r)
}

func (s *failingStorage) List(ctx context.Context, fn func(backends.FileInfo) error) error {
	return s.Storage.(backends.Lister).List(ctx, fn)
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func TestStorageWriteFaults(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		base, raw := newStorage(t, db)
		st := &failingStorage{Storage: base}
		cfg := thumbnails.Config{Sizes: testSizes(), Storage: st}
		if m, ok := redisMetadata.Load(db); ok {
			cfg.Metadata = m.(backends.Metadata)
		}
		if err := db.Use(thumbnails.Plugin(cfg)); err != nil {
			t.Fatal(err)
		}
		if err := db.AutoMigrate(&Food{}); err != nil {
			t.Fatal(err)
		}
		e := &env{db: db, raw: raw}
		food := newFood(t, "pizza", pizzaJPG)
		if err := db.Create(&food).Error; err != nil {
			t.Fatal(err)
		}
		files := filesOf(t, &food)

		// each write of a save fails in turn: the source, then each
		// thumbnail; then the same with the half written left behind
		for i := int64(0); i < 6; i++ {
			at := i%3 + 1
			st.leaky.Store(i >= 3)
			st.saves.Store(0)
			st.failAt.Store(at)
			err := db.Create(&Food{Name: "new", Image: field.NewImage("a.jpg", reader(photo(t, pastaJPG)))}).Error
			if !errors.Is(err, errDiskFull) {
				t.Fatalf("create failing at write %d: %v", at, err)
			}
			st.saves.Store(0)
			replaced := food
			replaced.Image = field.NewImage("b.jpg", reader(photo(t, pastaJPG)))
			if err := db.Save(&replaced).Error; !errors.Is(err, errDiskFull) {
				t.Fatalf("replace failing at write %d: %v", at, err)
			}
			if got := e.files(t); len(got) != len(files) {
				t.Fatalf("write %d failing (leaving half: %v): files %v, want only the committed row's %v", at, st.leaky.Load(), got, files)
			}
		}
		st.failAt.Store(0)
		st.leaky.Store(false)
		if n := count(t, db, "foods"); n != 1 {
			t.Fatalf("rows = %d", n)
		}
		// A save that failed before anything was stored can be tried again
		// with the same Image: its upload was read once, and kept.
		st.saves.Store(0)
		st.failAt.Store(2)
		retry := Food{Name: "retry", Image: field.NewImage("c.jpg", reader(photo(t, pastaJPG)))}
		if err := db.Create(&retry).Error; !errors.Is(err, errDiskFull) {
			t.Fatalf("create failing at write 2: %v", err)
		}
		st.failAt.Store(0)
		if err := db.Create(&retry).Error; err != nil {
			t.Fatalf("the same Create again, once the storage works: %v", err)
		}
		requireThumbs(t, e, &retry)
		if err := db.Delete(&retry).Error; err != nil {
			t.Fatal(err)
		}
		var got Food
		if err := db.First(&got, food.ID).Error; err != nil || got.Image.Name() != files[0] {
			t.Fatalf("row after failed replaces: %q, %v", got.Image.Name(), err)
		}
		requireThumbs(t, e, &got)
		assertMetadata(t, db, files[0], 2)
		// a lazy size whose write fails is an error, and nothing is recorded
		st.saves.Store(0)
		st.failAt.Store(1)
		if _, err := got.Image.Thumbnail(context.Background(), "large"); !errors.Is(err, errDiskFull) {
			t.Fatalf("lazy generation on a full disk: %v", err)
		}
		st.failAt.Store(0)
		assertMetadata(t, db, files[0], 2)
		if large, err := got.Image.Thumbnail(context.Background(), "large"); err != nil || large.Width != 1200 {
			t.Fatalf("lazy generation after recovery: %+v, %v", large, err)
		}
	})
}

// TestLazyWriteFault checks that a lazy size whose write fails is not
// recorded, and that the next call makes it whole; and that the failure
// deletes nothing under the size's name, which is every writer's of it:
// another writer's whole file, stored and about to be recorded, stays.
func TestLazyWriteFault(t *testing.T) {
	st := &failingStorage{}
	db, raw, food := lazyFood(t, func(base backends.Storage) backends.Storage { st.Storage = base; return st })
	e := &env{db: db, raw: raw}
	ctx := context.Background()
	before := e.files(t)
	first, second := loadTwice[Food](t, db, food.ID)
	st.failAt.Store(st.saves.Load() + 1)
	if _, err := first.Image.Thumbnail(ctx, "large"); !errors.Is(err, errDiskFull) {
		t.Fatalf("large, its write failing: %v, want errDiskFull", err)
	}
	if got := e.files(t); len(got) != len(before) {
		t.Errorf("files after the failed write %v, want %v", got, before)
	}
	st.failAt.Store(0)
	th, err := first.Image.Thumbnail(ctx, "large")
	if err != nil {
		t.Fatal(err)
	}
	cfgImg, _, err := image.DecodeConfig(bytes.NewReader(raw.read(t, th.Name)))
	if err != nil || cfgImg.Width != th.Width || cfgImg.Height != th.Height {
		t.Errorf("large is %dx%d (%v), recorded %dx%d", cfgImg.Width, cfgImg.Height, err, th.Width, th.Height)
	}

	// Another writer's file is stored, its record not in yet, when this
	// write fails.
	meta := metadataOf(db)
	rec, err := meta.Thumbnails(ctx, food.Image.Name())
	if err != nil {
		t.Fatal(err)
	}
	if err := meta.DeleteSize(ctx, food.Image.Name(), "large"); err != nil {
		t.Fatal(err)
	}
	st.failAt.Store(st.saves.Load() + 1)
	if _, err := second.Image.Thumbnail(ctx, "large"); !errors.Is(err, errDiskFull) {
		t.Fatalf("large, its write failing: %v, want errDiskFull", err)
	}
	if err := meta.Put(ctx, food.Image.Name(), rec["large"]); err != nil {
		t.Fatal(err)
	}
	if !raw.exists(t, th.Name) {
		t.Errorf("the failed write deleted %s, another writer's", th.Name)
	}
}

// TestRedisGoesAwayDuringPreload closes the Redis server while the preload's
// pipeline is being sent: the query fails with the error, nothing panics,
// and the next query after Redis comes back preloads normally.
func TestRedisGoesAwayDuringPreload(t *testing.T) {
	mr := miniredis.RunT(t)
	client := redis.NewClient(&redis.Options{Addr: mr.Addr(), MaxRetries: -1})
	t.Cleanup(func() { _ = client.Close() })
	var kill atomic.Bool
	client.AddHook(killHook{mr: mr, kill: &kill})
	db := openSQLite(t)
	redisMetadata.Store(db, backends.NewRedisMetadata(client, "away"))
	t.Cleanup(func() { redisMetadata.Delete(db) })
	setup(t, db, &Dish{})
	createDishes(t, db, 6)

	kill.Store(true)
	var dishes []Dish
	err := db.Scopes(thumbnails.Preload()).Find(&dishes).Error
	if err == nil || !strings.Contains(err.Error(), "preload") {
		t.Fatalf("preload while Redis went away: %v", err)
	}
	if err := mr.Restart(); err != nil {
		t.Fatal(err)
	}
	dishes = nil
	if err := db.Scopes(thumbnails.Preload()).Find(&dishes).Error; err != nil {
		t.Fatalf("preload after Redis came back: %v", err)
	}
	readAll(t, ptrs(dishes))
}

// killHook closes the miniredis server when a pipeline is about to be sent,
// once kill is set.
type killHook struct {
	mr   *miniredis.Miniredis
	kill *atomic.Bool
}

func (h killHook) DialHook(next redis.DialHook) redis.DialHook          { return next }
func (h killHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }
func (h killHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if h.kill.CompareAndSwap(true, false) {
			h.mr.Close()
		}
		return next(ctx, cmds)
	}
}

// TestConcurrentReplaceOfOneRow has goroutines replace the image of the
// same row at once: one consistent result, each replaced image cleaned up,
// no metadata pointing at a missing file.
func TestConcurrentReplaceOfOneRow(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setup(t, db, &Food{})
		food := Food{Name: "row", Image: field.NewImage("a.png", bytes.NewReader(smallPNG(t, 0)))}
		if err := db.Create(&food).Error; err != nil {
			t.Fatal(err)
		}
		const writers, rounds = 4, 3
		var wg sync.WaitGroup
		var ok atomic.Int64
		for w := 0; w < writers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for r := 0; r < rounds; r++ {
					row := Food{ID: food.ID, Name: "row", Image: field.NewImage("b.png", bytes.NewReader(smallPNG(t, uint8(w*10+r))))}
					if err := db.Save(&row).Error; err == nil {
						ok.Add(1)
					} else if !strings.Contains(err.Error(), "locked") && !strings.Contains(err.Error(), "busy") {
						t.Errorf("save: %v", err) // SQLite may refuse a concurrent writer; nothing else is expected
					}
				}
			}()
		}
		wg.Wait()
		if ok.Load() == 0 {
			t.Fatal("no save succeeded")
		}
		var got Food
		if err := db.First(&got, food.ID).Error; err != nil {
			t.Fatal(err)
		}
		requireStored(t, e, &got.Image, 2)
		if n := count(t, db, "foods"); n != 1 {
			t.Fatalf("rows = %d", n)
		}
		// every file left is the row's, or an orphan that Prune reclaims;
		// no metadata points at a missing file
		report, err := thumbnails.Prune(context.Background(), db, thumbnails.PruneOptions{Models: []any{&Food{}}, MinAge: -1, Delete: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(report.Records) != 0 {
			t.Errorf("metadata pointing at missing files: %+v", report.Records)
		}
		if db.Dialector.Name() == "postgres" && len(report.Files)+len(report.Sources) != 0 {
			t.Errorf("orphans on PostgreSQL, where replaces lock the row: %+v", report)
		}
		if got := e.files(t); len(got) != 3 {
			t.Errorf("files after prune: %v, want the row's source and two sizes", got)
		}
		requireStored(t, e, &got.Image, 2)
	})
}

// requireStored checks that img's source is stored and that it has n
// thumbnails, each stored, decoding to the dimensions its metadata records.
func requireStored(t *testing.T, e *env, img *field.Image, n int) {
	t.Helper()
	if img.Name() == "" || !e.exists(t, img.Name()) {
		t.Fatalf("source %q not stored", img.Name())
	}
	all, err := img.Thumbnails(context.Background())
	if err != nil || len(all) != n {
		t.Fatalf("Thumbnails() = %v, %v; want %d", all, err, n)
	}
	for size, th := range all {
		if !e.exists(t, th.Name) {
			t.Fatalf("%s: %s missing", size, th.Name)
		}
		decoded, _ := e.decodeStored(t, th.Name)
		if decoded.Bounds().Dx() != th.Width || decoded.Bounds().Dy() != th.Height {
			t.Fatalf("%s: decoded %v, metadata %dx%d", size, decoded.Bounds(), th.Width, th.Height)
		}
	}
}

// TestCorruptPixelsWriteNothing covers uploads whose header passes but
// whose pixels do not decode, on files and on S3, for a column with eager
// sizes and for one whose sizes are all lazy (the pixels are only checked):
// the save is ErrInvalidImage before anything is written, even to a storage
// whose writes fail, and leaves no file and no row; a valid upload whose
// source cannot be written fails with the storage's error and leaves
// nothing either.
func TestCorruptPixelsWriteNothing(t *testing.T) {
	type Lazy struct {
		ID    uint
		Image field.Image `thumbnails:"sizes:large"`
	}
	jpegBytes := photo(t, pizzaJPG)
	pngBytes := smallPNG(t, 3)
	uploads := map[string][]byte{
		"truncated JPEG": jpegBytes[:len(jpegBytes)/2],
		"truncated PNG":  pngBytes[:len(pngBytes)*2/3],
	}
	forEachStorage(t, openSQLite, func(t *testing.T, db *gorm.DB) {
		base, raw := newStorage(t, db)
		st := &failingStorage{Storage: base}
		if err := db.Use(thumbnails.Plugin(thumbnails.Config{Sizes: testSizes(), Storage: st})); err != nil {
			t.Fatal(err)
		}
		if err := db.AutoMigrate(&Food{}, &Lazy{}); err != nil {
			t.Fatal(err)
		}
		e := &env{db: db, raw: raw}
		create := map[string]func(data []byte) error{
			"eager": func(data []byte) error {
				return db.Create(&Food{Image: field.NewImage("upload.jpg", bytes.NewReader(data))}).Error
			},
			"lazy": func(data []byte) error {
				return db.Create(&Lazy{Image: field.NewImage("upload.jpg", bytes.NewReader(data))}).Error
			},
		}
		for kind, save := range create {
			for name, data := range uploads {
				for _, failing := range []bool{false, true} {
					st.saves.Store(0)
					st.failAt.Store(0)
					if failing {
						st.failAt.Store(1)
					}
					err := save(data)
					if !errors.Is(err, thumbnails.ErrInvalidImage) {
						t.Errorf("%s, %s, failing write %v: err = %v, want ErrInvalidImage", kind, name, failing, err)
					}
					if got := st.saves.Load(); got != 0 {
						t.Errorf("%s, %s: %d writes, want none", kind, name, got)
					}
				}
			}
			st.saves.Store(0)
			st.failAt.Store(1)
			err := save(jpegBytes)
			if !errors.Is(err, errDiskFull) || errors.Is(err, thumbnails.ErrInvalidImage) {
				t.Errorf("%s, valid upload, failing write: err = %v, want the storage's", kind, err)
			}
			st.failAt.Store(0)
		}
		if files := e.files(t); len(files) != 0 {
			t.Errorf("files left: %v", files)
		}
		for _, table := range []string{"foods", "lazies"} {
			if n := count(t, db, table); n != 0 {
				t.Errorf("%s: %d rows", table, n)
			}
		}
		// and the same storage still takes a valid upload whole
		food := Food{Image: field.NewImage("upload.jpg", bytes.NewReader(jpegBytes))}
		if err := db.Create(&food).Error; err != nil {
			t.Fatal(err)
		}
		requireThumbs(t, e, &food)
	})
}
