package thumbnails_test

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/disintegration/gift"
	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails"
	"github.com/gorm-thumbnails/thumbnails/backends"
	"github.com/gorm-thumbnails/thumbnails/internal/testdb"
)

// gatedStorage is a real storage whose Saves of names holding gate wait
// until open is closed, after closing entered (once).
type gatedStorage struct {
	backends.Storage
	gate    string
	entered chan struct{}
	open    chan struct{}
	once    sync.Once
}

func (s *gatedStorage) Save(ctx context.Context, name string, r io.Reader) (string, error) {
	if strings.Contains(name, s.gate) {
		s.once.Do(func() { close(s.entered) })
		<-s.open
	}
	return s.Storage.Save(ctx, name, r)
}

// TestLazyGenerationOutlivesItsCaller checks that a lazy size whose
// generation is shared by two callers is made for the second when the
// first, which started it, gives up: the first gets its context's error at
// once, the second its thumbnail, and the size is recorded.
func TestLazyGenerationOutlivesItsCaller(t *testing.T) {
	st := &gatedStorage{gate: "_large.", entered: make(chan struct{}), open: make(chan struct{})}
	db, raw, food := lazyFood(t, func(base backends.Storage) backends.Storage { st.Storage = base; return st })
	a, b := loadTwice[Food](t, db, food.ID)
	ctxA, cancelA := context.WithCancel(context.Background())
	errA := make(chan error, 1)
	go func() { _, err := a.Image.Thumbnail(ctxA, "large"); errA <- err }()
	<-st.entered // A's generation is writing large
	type result struct {
		t   any
		err error
	}
	resB := make(chan result, 1)
	go func() { th, err := b.Image.Thumbnail(context.Background(), "large"); resB <- result{th, err} }()
	time.Sleep(50 * time.Millisecond) // B joins the generation in flight
	cancelA()
	select {
	case err := <-errA:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("A, cancelled: %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("A did not return when its context was cancelled")
	}
	close(st.open)
	r := <-resB
	if r.err != nil {
		t.Fatalf("B, never cancelled, failed: %v", r.err)
	}
	recs, err := metadataOf(db).Thumbnails(context.Background(), food.Image.Name())
	if err != nil || !raw.exists(t, recs["large"].Name) {
		t.Errorf("large is not recorded and stored: %+v, %v", recs["large"], err)
	}
}

// TestLazyGenerationOutlivesItsCallersDeadline is
// TestLazyGenerationOutlivesItsCaller with a deadline: the first caller's
// running out fails that caller alone, not the second, which has none.
func TestLazyGenerationOutlivesItsCallersDeadline(t *testing.T) {
	st := &gatedStorage{gate: "_large.", entered: make(chan struct{}), open: make(chan struct{})}
	db, raw, food := lazyFood(t, func(base backends.Storage) backends.Storage { st.Storage = base; return st })
	a, b := loadTwice[Food](t, db, food.ID)
	ctxA, cancelA := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancelA()
	errA := make(chan error, 1)
	go func() { _, err := a.Image.Thumbnail(ctxA, "large"); errA <- err }()
	<-st.entered // A's generation is writing large
	resB := make(chan error, 1)
	go func() { _, err := b.Image.Thumbnail(context.Background(), "large"); resB <- err }()
	if err := <-errA; !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("A, past its deadline: %v, want context.DeadlineExceeded", err)
	}
	time.Sleep(50 * time.Millisecond) // past any timer of A's deadline
	close(st.open)                    // the write goes on past it
	if err := <-resB; err != nil {
		t.Fatalf("B, with no deadline, failed: %v", err)
	}
	recs, err := metadataOf(db).Thumbnails(context.Background(), food.Image.Name())
	if err != nil || !raw.exists(t, recs["large"].Name) {
		t.Errorf("large is not recorded and stored: %+v, %v", recs["large"], err)
	}
}

// panicFilter is a processor of the caller's that panics.
type panicFilter struct{}

func (panicFilter) Bounds(src image.Rectangle) image.Rectangle  { return src }
func (panicFilter) Draw(draw.Image, image.Image, *gift.Options) { panic("a processor's bug") }

// TestLazyGenerationPanics checks that a lazy size whose processor panics
// fails with an error: the generation runs in a goroutine of its own, where
// a panic would otherwise end the process.
func TestLazyGenerationPanics(t *testing.T) {
	set := testSizes()
	large := set["large"]
	large.Processors = []gift.Filter{panicFilter{}}
	set["large"] = large
	e := setupSizes(t, openSQLite(t), set, &Food{})
	food := *savedFood(t, e.db)
	if _, err := food.Image.Thumbnail(context.Background(), "large"); err == nil || !strings.Contains(err.Error(), "panic") {
		t.Errorf("a panicking processor: %v, want an error", err)
	}
	// In the caller's transaction the size is made in it, on the caller's
	// goroutine: the panic is an error there too.
	err := e.db.Transaction(func(tx *gorm.DB) error {
		var loaded Food
		if err := tx.First(&loaded, food.ID).Error; err != nil {
			return err
		}
		_, err := loaded.Image.Thumbnail(context.Background(), "large")
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "panic") {
		t.Errorf("a panicking processor in a transaction: %v, want an error", err)
	}
}

// TestLazySizeOfADeletedRow: a lazy size whose generation was under way
// while its row was deleted, and whose record came after the delete's
// clean-up, is not left behind (a record of a source whose file is gone,
// which Prune would report as lost for ever, and a file the handler would
// go on serving): its record and file go, and the call fails with
// backends.ErrNotFound, or the handler's request with 404.
func TestLazySizeOfADeletedRow(t *testing.T) {
	for _, via := range []string{"Thumbnail", "Handler"} {
		t.Run(via, func(t *testing.T) {
			forEachDialect(t, func(t *testing.T, db *gorm.DB) {
				base, raw := newStorage(t, db)
				st := &gatedStorage{Storage: base, gate: "_large.", entered: make(chan struct{}), open: make(chan struct{})}
				cfg := thumbnails.Config{Sizes: testSizes(), Storage: st}
				if m, ok := redisMetadata.Load(db); ok {
					cfg.Metadata = m.(backends.Metadata)
				}
				withKey(&cfg)
				usePlugin(t, db, cfg, &Food{})
				e := &env{db: db, raw: raw}
				food := *savedFood(t, db)
				var loaded Food
				if err := db.First(&loaded, food.ID).Error; err != nil {
					t.Fatal(err)
				}
				done := make(chan error, 1)
				if via == "Thumbnail" {
					go func() {
						_, err := loaded.Image.Thumbnail(context.Background(), "large")
						done <- err
					}()
				} else {
					signed, err := loaded.Image.SignedURL("large")
					if err != nil {
						t.Fatal(err)
					}
					h := newHandler(t, db, thumbnails.HandlerOptions{})
					go func() {
						if w := get(h, "GET", signed, nil); w.Code != http.StatusNotFound {
							done <- fmt.Errorf("status %d", w.Code)
							return
						}
						done <- backends.ErrNotFound
					}()
				}
				<-st.entered // the size is made, not yet written
				if err := db.Delete(&Food{}, food.ID).Error; err != nil {
					t.Fatal(err)
				}
				close(st.open)
				if err := <-done; !errors.Is(err, backends.ErrNotFound) {
					t.Errorf("large of the deleted row: %v; want ErrNotFound (404)", err)
				}
				if files := e.files(t); len(files) != 0 {
					t.Errorf("files left: %v", files)
				}
				if recs, err := metadataOf(db).Thumbnails(context.Background(), food.Image.Name()); err != nil || len(recs) != 0 {
					t.Errorf("records left: %v, %v", recs, err)
				}
			})
		})
	}
}

// lazyFood saves a Food on SQLite, with the lazy size large made light
// (lightLarge), through the storage that wrap returns around a real one;
// it returns the database, what the real storage holds, and the row.
func lazyFood(t *testing.T, wrap func(backends.Storage) backends.Storage) (*gorm.DB, stored, Food) {
	t.Helper()
	db := openSQLite(t)
	base, raw := newStorage(t, db)
	cfg := thumbnails.Config{Sizes: testSizes(), Storage: wrap(base)}
	lightLarge(&cfg)
	usePlugin(t, db, cfg, &Food{})
	food := *savedFood(t, db)
	return db, raw, food
}

// pausingStorage pauses the first Save of a name holding gate until
// saveOpen is closed, and the first Delete until deleteOpen is, telling
// saving and deleting when each starts waiting.
type pausingStorage struct {
	backends.Storage
	gate                 string
	saving, saveOpen     chan struct{}
	deleting, deleteOpen chan struct{}
	saveOnce             sync.Once
	deleted              atomic.Bool
}

func (s *pausingStorage) Save(ctx context.Context, name string, r io.Reader) (string, error) {
	if strings.Contains(name, s.gate) {
		s.saveOnce.Do(func() { close(s.saving); <-s.saveOpen })
	}
	return s.Storage.Save(ctx, name, r)
}

func (s *pausingStorage) Delete(ctx context.Context, name string) error {
	if s.deleted.CompareAndSwap(false, true) { // the first alone
		close(s.deleting)
		<-s.deleteOpen
	}
	return s.Storage.Delete(ctx, name)
}

// TestLazySizeRecordedWhileItsRowIsCleanedUp makes a lazy size whose
// record comes after its row's clean-up read the source's records, and
// before it deleted the source's file: the size is nobody's (no row holds
// the source), and goes; the clean-up, which did not see it, would have
// left its file for good.
func TestLazySizeRecordedWhileItsRowIsCleanedUp(t *testing.T) {
	ctx := context.Background()
	db := openSQLite(t)
	client := testdb.Redis(t)
	base, raw := newStorage(t, db)
	st := &pausingStorage{Storage: base, gate: "_large.", saving: make(chan struct{}), saveOpen: make(chan struct{}),
		deleting: make(chan struct{}), deleteOpen: make(chan struct{})}
	cfg := thumbnails.Config{Sizes: testSizes(), Storage: st, Metadata: backends.NewRedisMetadata(client, testdb.RedisPrefix(t, client))}
	lightLarge(&cfg)
	usePlugin(t, db, cfg, &Food{})
	food := *savedFood(t, db)
	loaded, _ := loadTwice[Food](t, db, food.ID)
	made := make(chan error, 1)
	go func() { _, err := loaded.Image.Thumbnail(ctx, "large"); made <- err }()
	<-st.saving // large is being written
	deleted := make(chan error, 1)
	go func() { deleted <- db.Delete(&food).Error }()
	<-st.deleting      // the clean-up read the records, without large's
	close(st.saveOpen) // large is written and recorded
	if err := <-made; !errors.Is(err, backends.ErrNotFound) {
		t.Errorf("large of a row deleted while it was made: %v, want backends.ErrNotFound", err)
	}
	close(st.deleteOpen)
	if err := <-deleted; err != nil {
		t.Fatal(err)
	}
	if files := (&env{db: db, raw: raw}).files(t); len(files) != 0 {
		t.Errorf("files after the delete: %v", files)
	}
}

// TestLazySizeCancelledWhileItsRowGoes deletes a row while its lazy size is
// written, and ends the context of the caller that asked for it then: the
// caller returns at once, and the generation goes on and records the size
// afterwards. What it made is nobody's, and goes once it is recorded,
// though no caller waits for it any more.
func TestLazySizeCancelledWhileItsRowGoes(t *testing.T) {
	db := openSQLite(t)
	base, raw := newStorage(t, db)
	st := &gatedStorage{Storage: base, gate: "_large.", entered: make(chan struct{}), open: make(chan struct{})}
	meta := newNotedDeletes(db)
	cfg := thumbnails.Config{Sizes: testSizes(), Storage: st, Metadata: meta}
	lightLarge(&cfg)
	usePlugin(t, db, cfg, &Food{})
	food := *savedFood(t, db)
	loaded, _ := loadTwice[Food](t, db, food.ID)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	made := make(chan error, 1)
	go func() { _, err := loaded.Image.Thumbnail(ctx, "large"); made <- err }()
	<-st.entered // large is being written
	if err := db.Delete(&Food{}, food.ID).Error; err != nil {
		t.Fatal(err)
	}
	meta.armed.Store(true) // the delete's clean-up has run
	cancel()
	if err := <-made; !errors.Is(err, context.Canceled) {
		t.Errorf("large, cancelled: %v, want context.Canceled", err)
	}
	close(st.open) // large is written and recorded
	meta.await(t, food.Image.Name())
	if files := (&env{db: db, raw: raw}).files(t); len(files) != 0 {
		t.Errorf("files after the delete: %v", files)
	}
	if recs, err := meta.Thumbnails(context.Background(), food.Image.Name()); err != nil || len(recs) != 0 {
		t.Errorf("records after the delete: %v, %v", recs, err)
	}
	if n := count(t, db, "thumbnails_sources"); n != 0 {
		t.Errorf("%d source record(s) after the delete", n)
	}
}
