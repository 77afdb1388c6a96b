package riverjobs_test

import (
	"bytes"
	"context"
	"database/sql"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/disintegration/gift"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails"
	"github.com/gorm-thumbnails/thumbnails/backends"
	"github.com/gorm-thumbnails/thumbnails/field"
	"github.com/gorm-thumbnails/thumbnails/internal/testdb"
	"github.com/gorm-thumbnails/thumbnails/processors"
	"github.com/gorm-thumbnails/thumbnails/riverjobs"
	"github.com/gorm-thumbnails/thumbnails/sizes"
)

// Food has an eager size (small) and an async one (medium).
type Food struct {
	ID    uint
	Name  string
	Image field.Image `thumbnails:"sizes:small,medium;dir:foods"`
}

// testSizes: small is eager (fill 100x100, PNG), medium async (fit 400x400).
func testSizes(fallback string) sizes.Sizes {
	return sizes.Sizes{
		"small": {Processors: []gift.Filter{processors.Resize(processors.Px(100), processors.Px(100), processors.Fill)}, Format: "png"},
		"medium": {Processors: []gift.Filter{processors.Resize(processors.Px(400), processors.Px(400), processors.Fit)},
			Async: true, FallbackImageURL: fallback},
	}
}

// savesStorage is a local storage that counts the saves of each name.
type savesStorage struct {
	backends.Storage
	mu    sync.Mutex
	saves map[string]int
	total atomic.Int64
}

func (s *savesStorage) Save(ctx context.Context, name string, r io.Reader) (string, error) {
	n, err := s.Storage.Save(ctx, name, r)
	if err == nil {
		s.mu.Lock()
		s.saves[n]++
		s.mu.Unlock()
		s.total.Add(1)
	}
	return n, err
}

// savesOf returns how many times name was saved.
func (s *savesStorage) savesOf(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.saves[name]
}

// env is a PostgreSQL database of the test's own with River's tables, the
// plugin on it with an Enqueuer, and the means to start workers.
type env struct {
	db      *gorm.DB
	sqlDB   *sql.DB
	root    string
	storage *savesStorage
	client  *river.Client[*sql.Tx] // insert-only
}

// setup opens the test PostgreSQL (skipping without it), migrates River and
// Food, and registers the plugin with an Enqueuer on an insert-only client.
func setup(t testing.TB, cfg thumbnails.Config) *env {
	t.Helper()
	db := testdb.Postgres(t)
	ctx := context.Background()
	if err := riverjobs.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	client, err := river.NewClient(riverdatabasesql.New(sqlDB), &river.Config{})
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	st := &savesStorage{Storage: backends.NewFileSystemStorage(root, "/media/"), saves: map[string]int{}}
	if cfg.Sizes == nil {
		cfg.Sizes = testSizes("")
	}
	cfg.Storage = st
	cfg.Enqueuer = riverjobs.NewEnqueuer(client, nil)
	if err := db.Use(thumbnails.Plugin(cfg)); err != nil {
		t.Fatal(err)
	}
	if err := db.AutoMigrate(&Food{}); err != nil {
		t.Fatal(err)
	}
	return &env{db: db, sqlDB: sqlDB, root: root, storage: st, client: client}
}

// startWorkers starts a River client with workers on e's database (as
// another machine would, with its own *gorm.DB and plugin sharing the
// storage) and stops it at the end of the test. It returns the client and a
// channel of the jobs it finished.
func (e *env) startWorkers(t testing.TB, db *gorm.DB, maxWorkers int) (*river.Client[*sql.Tx], <-chan *river.Event) {
	t.Helper()
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, riverjobs.NewWorker(db))
	client, err := river.NewClient(riverdatabasesql.New(sqlDB), &river.Config{
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: maxWorkers}},
		Workers:           workers,
		FetchPollInterval: 20 * time.Millisecond,
		FetchCooldown:     5 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	events, cancel := client.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed, river.EventKindJobCancelled)
	if err := client.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		ctx, stop := context.WithTimeout(context.Background(), 10*time.Second)
		defer stop()
		_ = client.Stop(ctx)
	})
	return client, events
}

// worker opens a second *gorm.DB on the same database and schema, with the
// plugin over the same storage: what a worker machine has.
func (e *env) worker(t testing.TB, cfg thumbnails.Config) *gorm.DB {
	t.Helper()
	db := testdb.Open(t, e.db.Dialector)
	if cfg.Sizes == nil {
		cfg.Sizes = testSizes("")
	}
	cfg.Storage = e.storage
	cfg.Enqueuer = riverjobs.NewEnqueuer(e.client, nil)
	if err := db.Use(thumbnails.Plugin(cfg)); err != nil {
		t.Fatal(err)
	}
	return db
}

// waitJobs waits for n job events and returns them, failing the test after
// timeout.
func waitJobs(t testing.TB, events <-chan *river.Event, n int, timeout time.Duration) []*river.Event {
	t.Helper()
	var out []*river.Event
	deadline := time.After(timeout)
	for len(out) < n {
		select {
		case ev := <-events:
			out = append(out, ev)
		case <-deadline:
			t.Fatalf("%d of %d jobs finished after %s", len(out), n, timeout)
		}
	}
	return out
}

// jobs counts the thumbnails jobs in River's table, by state.
func (e *env) jobs(t testing.TB) map[string]int {
	t.Helper()
	rows, err := e.sqlDB.Query("SELECT state, count(*) FROM river_job WHERE kind = $1 GROUP BY state", riverjobs.Kind)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			t.Fatal(err)
		}
		out[state] = n
	}
	return out
}

// exists reports whether the storage holds name.
func (e *env) exists(name string) bool {
	_, err := os.Stat(filepath.Join(e.root, filepath.FromSlash(name)))
	return err == nil
}

// photo reads a photo of the module's testdata.
func photo(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newFood(t testing.TB, name string) Food {
	return Food{Name: name, Image: field.NewImage("pizza.jpg", bytes.NewReader(photo(t, "pizza-600x400.jpg")))}
}
