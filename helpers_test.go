package thumbnails_test

import (
	"bytes"
	"context"
	"image"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/disintegration/gift"
	"github.com/redis/go-redis/v9"
	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails"
	"github.com/gorm-thumbnails/thumbnails/backends"
	"github.com/gorm-thumbnails/thumbnails/internal/testdb"
	"github.com/gorm-thumbnails/thumbnails/processors"
	"github.com/gorm-thumbnails/thumbnails/sizes"
)

// dialects are the databases every lifecycle test runs on.
var dialects = []struct {
	name string
	open func(t testing.TB) *gorm.DB
}{
	{"sqlite", openSQLite},
	{"postgres", testdb.Postgres},
	{"sqlite+redis", openSQLiteRedis},
}

// redisMetadata holds the Redis metadata store of each database opened by
// openSQLiteRedis; setup uses it instead of the database backend.
var redisMetadata sync.Map // *gorm.DB -> backends.Metadata

// usesRedis reports whether db's plugin keeps metadata in Redis.
func usesRedis(db *gorm.DB) bool {
	_, ok := redisMetadata.Load(db)
	return ok
}

// metadataOf returns the metadata store that setup gives db's plugin.
func metadataOf(db *gorm.DB) backends.Metadata {
	if m, ok := redisMetadata.Load(db); ok {
		return m.(backends.Metadata)
	}
	return backends.NewDatabaseMetadata(db)
}

// openSQLiteRedis opens a fresh SQLite database whose plugin will keep its
// metadata in the test Redis, under a key prefix of the test's own that is
// removed at the end; it skips when THUMBNAILS_TEST_REDIS_ADDR is unset.
func openSQLiteRedis(t testing.TB) *gorm.DB {
	t.Helper()
	client := testdb.Redis(t)
	db := openSQLite(t)
	hook := &roundTripHook{}
	client.AddHook(hook)
	redisMetadata.Store(db, backends.NewRedisMetadata(client, testdb.RedisPrefix(t, client)))
	redisHooks.Store(db, hook)
	t.Cleanup(func() { redisMetadata.Delete(db); redisHooks.Delete(db) })
	return db
}

// redisHooks holds the round-trip counter of each database opened by openSQLiteRedis.
var redisHooks sync.Map // *gorm.DB -> *roundTripHook

// roundTripHook counts the round trips a go-redis client makes: one per
// command, one per pipeline.
type roundTripHook struct{ n atomic.Int64 }

func (h *roundTripHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *roundTripHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if !connectionSetup(cmd) {
			h.n.Add(1)
		}
		return next(ctx, cmd)
	}
}

func (h *roundTripHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if len(cmds) > 0 && !connectionSetup(cmds[0]) {
			h.n.Add(1)
		}
		return next(ctx, cmds)
	}
}

// connectionSetup reports whether cmd is one go-redis sends when it opens a
// connection (HELLO, CLIENT SETINFO), not one the code under test sent.
func connectionSetup(cmd redis.Cmder) bool {
	switch cmd.Name() {
	case "hello", "client", "auth", "select":
		return true
	}
	return false
}

// metadataRoundTrips returns a counter of the round trips made to db's
// metadata store from now on: statements on the thumbnails table for the
// database backend, commands and pipelines for Redis.
func metadataRoundTrips(t testing.TB, db *gorm.DB) func() int64 {
	t.Helper()
	if h, ok := redisHooks.Load(db); ok {
		hook := h.(*roundTripHook)
		start := hook.n.Load()
		return func() int64 { return hook.n.Load() - start }
	}
	var n atomic.Int64
	count := func(tx *gorm.DB) {
		if tx.Statement.Table == backends.ThumbnailsTable || strings.Contains(tx.Statement.SQL.String(), backends.ThumbnailsTable) {
			n.Add(1)
		}
	}
	if err := db.Callback().Query().After("gorm:query").Register("test:count_metadata", count); err != nil {
		t.Fatal(err)
	}
	if err := db.Callback().Row().After("gorm:row").Register("test:count_metadata", count); err != nil {
		t.Fatal(err)
	}
	return n.Load
}

// forEachDialect runs fn as a subtest on each database.
func forEachDialect(t *testing.T, fn func(t *testing.T, db *gorm.DB)) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) { fn(t, d.open(t)) })
	}
}

// gormConfig returns the configuration the test databases are opened with.
func gormConfig() *gorm.Config { return testdb.GormConfig() }

// openSQLite opens a fresh SQLite database file under the test's temp dir.
func openSQLite(t testing.TB) *gorm.DB {
	t.Helper()
	return testdb.SQLite(t, "")
}

// testSizes: small is eager (fill 100x100, PNG), medium eager (fit 400x400),
// large lazy (fit 1200x1200) with a fallback.
func testSizes() sizes.Sizes {
	return sizes.Sizes{
		"small":  {Processors: []gift.Filter{processors.Resize(processors.Px(100), processors.Px(100), processors.Fill)}, Format: "png"},
		"medium": {Processors: []gift.Filter{processors.Resize(processors.Px(400), processors.Px(400), processors.Fit)}, Quality: 80},
		"large": {Processors: []gift.Filter{processors.Resize(processors.Px(1200), processors.Px(1200), processors.Fit)},
			Lazy: true, FallbackImageURL: "/static/none.png"},
	}
}

// env is one database with the plugin on it, over a counting local storage.
type env struct {
	db      *gorm.DB
	root    string
	storage *countingStorage
}

// setup registers the plugin on db with testSizes and storage in a temp dir,
// and migrates the given models.
func setup(t testing.TB, db *gorm.DB, models ...any) *env {
	t.Helper()
	return setupSizes(t, db, testSizes(), models...)
}

// setupSizes is setup with sizes of the caller's.
func setupSizes(t testing.TB, db *gorm.DB, set sizes.Sizes, models ...any) *env {
	t.Helper()
	return setupSizesConfig(t, db, thumbnails.Config{Sizes: set}, models...)
}

// setupSizesConfig is setup with a configuration of the caller's, whose
// Storage and Metadata it sets.
func setupSizesConfig(t testing.TB, db *gorm.DB, cfg thumbnails.Config, models ...any) *env {
	t.Helper()
	root := t.TempDir()
	st := &countingStorage{Storage: backends.NewFileSystemStorage(root, "/media/")}
	cfg.Storage = st
	if m, ok := redisMetadata.Load(db); ok {
		cfg.Metadata = m.(backends.Metadata)
	}
	if err := db.Use(thumbnails.Plugin(cfg)); err != nil {
		t.Fatal(err)
	}
	if len(models) > 0 {
		if err := db.AutoMigrate(models...); err != nil {
			t.Fatal(err)
		}
	}
	return &env{db: db, root: root, storage: st}
}

// files lists the files under the storage root, slash-separated and sorted.
func (e *env) files(t testing.TB) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(e.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(e.root, p)
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// exists reports whether the storage holds name.
func (e *env) exists(name string) bool {
	_, err := os.Stat(filepath.Join(e.root, filepath.FromSlash(name)))
	return err == nil
}

// decodeStored decodes a stored file.
func (e *env) decodeStored(t testing.TB, name string) (image.Image, string) {
	t.Helper()
	f, err := os.Open(filepath.Join(e.root, filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, format, err := image.Decode(f)
	if err != nil {
		t.Fatalf("decode %s: %v", name, err)
	}
	return img, format
}

// count returns the number of rows of a table.
func count(t testing.TB, db *gorm.DB, table string) int64 {
	t.Helper()
	var n int64
	if err := db.Table(table).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// countingStorage is a real storage that counts the calls made to it.
type countingStorage struct {
	backends.Storage
	saves, opens, deletes atomic.Int64
}

func (c *countingStorage) Save(ctx context.Context, name string, r io.Reader) (string, error) {
	c.saves.Add(1)
	return c.Storage.Save(ctx, name, r)
}

func (c *countingStorage) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	c.opens.Add(1)
	return c.Storage.Open(ctx, name)
}

func (c *countingStorage) Delete(ctx context.Context, name string) error {
	c.deletes.Add(1)
	return c.Storage.Delete(ctx, name)
}

func (c *countingStorage) List(ctx context.Context, fn func(backends.FileInfo) error) error {
	return c.Storage.(backends.Lister).List(ctx, fn)
}

func (c *countingStorage) calls() int64 { return c.saves.Load() + c.opens.Load() + c.deletes.Load() }

// Test photos under testdata/: pizza and pasta are 600x400 and soup
// 400x600 JPEGs without EXIF, scaled down from the exif/ samples so that the
// lifecycle tests stay quick under the race detector; the exif/ photos are
// the 1800x1200 originals.
const (
	pizzaJPG = "pizza-600x400.jpg"
	pastaJPG = "pasta-600x400.jpg"
	soupJPG  = "soup-400x600.jpg"
)

// photo returns the bytes of a file under testdata/.
func photo(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func reader(b []byte) io.Reader { return bytes.NewReader(b) }
