package thumbnails_test

import (
	"bytes"
	"context"
	"errors"
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
	"time"

	"github.com/disintegration/gift"
	"github.com/redis/go-redis/v9"
	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails"
	"github.com/gorm-thumbnails/thumbnails/backends"
	"github.com/gorm-thumbnails/thumbnails/backends/blob"
	"github.com/gorm-thumbnails/thumbnails/internal/fakes3"
	"github.com/gorm-thumbnails/thumbnails/internal/testdb"
	"github.com/gorm-thumbnails/thumbnails/processors"
	"github.com/gorm-thumbnails/thumbnails/sizes"
)

// dialects are the databases every lifecycle test runs on.
var dialects = []struct {
	name string
	open func(t testing.TB) *gorm.DB
	// race: run under the race detector too. The Redis metadata and S3
	// variants run the same plugin code as sqlite on other backends; the
	// race detector makes each lifecycle test about 10 times slower, so
	// under it they skip, and .ci/run runs them without it.
	race bool
}{
	{"sqlite", openSQLite, true},
	{"postgres", testdb.Postgres, true},
	{"sqlite+redis", openSQLiteRedis, false},
	{"sqlite+s3", openSQLiteS3, false},
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

// s3Servers holds the fake S3 server of each database given one by onS3;
// setup keeps the files of its plugin in that server's bucket.
var s3Servers sync.Map // *gorm.DB -> *fakes3.Server

// openSQLiteS3 opens a fresh SQLite database whose plugin will keep its
// files in a bucket of an S3 server of the test's own (see onS3).
func openSQLiteS3(t testing.TB) *gorm.DB {
	t.Helper()
	return onS3(t, openSQLite(t))
}

// onS3 makes setup give db's plugin the blob storage on the bucket of a
// fake S3 server started for the test: gofakes3 behind httptest, reached
// through the AWS SDK. It returns db.
func onS3(t testing.TB, db *gorm.DB) *gorm.DB {
	t.Helper()
	s3Servers.Store(db, fakes3.New(t))
	t.Cleanup(func() { s3Servers.Delete(db) })
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
// metadata store from now on: statements on its tables (sources and their
// summaries, thumbnails, placeholders) for the database backend, commands
// and pipelines for Redis.
func metadataRoundTrips(t testing.TB, db *gorm.DB) func() int64 {
	t.Helper()
	if h, ok := redisHooks.Load(db); ok {
		hook := h.(*roundTripHook)
		start := hook.n.Load()
		return func() int64 { return hook.n.Load() - start }
	}
	var n atomic.Int64
	count := func(tx *gorm.DB) {
		for _, table := range []string{backends.SourcesTable, backends.ThumbnailsTable, backends.PlaceholdersTable} {
			if tx.Statement.Table == table || strings.Contains(tx.Statement.SQL.String(), table) {
				n.Add(1)
				return
			}
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

// forEachDialect runs fn as a subtest on each database. The subtests run in
// parallel: each has its own database, Redis prefix, bucket and folder, and
// the variants of one test would otherwise take turns on a single core.
func forEachDialect(t *testing.T, fn func(t *testing.T, db *gorm.DB)) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			if thumbnails.RaceEnabled && !d.race {
				t.Skip("runs without -race only (see dialects and .ci/run)")
			}
			t.Parallel()
			fn(t, d.open(t))
		})
	}
}

// forEachStorage runs fn as a subtest on each storage, with a database
// from open: "files" in a temp dir, and "s3" in a fake S3 bucket. It is for
// the lifecycle tests that need one particular database. The subtests run
// in parallel, as forEachDialect's.
func forEachStorage(t *testing.T, open func(testing.TB) *gorm.DB, fn func(t *testing.T, db *gorm.DB)) {
	t.Run("files", func(t *testing.T) {
		t.Parallel()
		fn(t, open(t))
	})
	t.Run("s3", func(t *testing.T) {
		t.Parallel()
		fn(t, onS3(t, open(t)))
	})
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

// env is one database with the plugin on it, over a counting storage.
type env struct {
	db      *gorm.DB
	root    string // the root of the file storage; "" on S3
	raw     stored // what the storage holds; nil: the files under root
	storage *countingStorage
}

// setup registers the plugin on db with testSizes and the storage of db
// (see newStorage), and migrates the given models.
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
	base, raw := newStorage(t, db)
	st := &countingStorage{Storage: base}
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
	e := &env{db: db, raw: raw, storage: st}
	if dir, ok := raw.(localFiles); ok {
		e.root = string(dir)
	}
	return e
}

// usePlugin registers the plugin with cfg as it is on db, and migrates
// models: for the tests whose storage or metadata is their own.
func usePlugin(t testing.TB, db *gorm.DB, cfg thumbnails.Config, models ...any) {
	t.Helper()
	if err := db.Use(thumbnails.Plugin(cfg)); err != nil {
		t.Fatal(err)
	}
	if err := db.AutoMigrate(models...); err != nil {
		t.Fatal(err)
	}
}

// newStorage returns the storage for db's plugin, serving under /media/:
// the blob storage on the bucket of db's fake S3 server when onS3 gave it
// one, else the file storage in a temp dir. The second result reaches what
// it holds without going through it.
func newStorage(t testing.TB, db *gorm.DB) (backends.Storage, stored) {
	t.Helper()
	if s, ok := s3Servers.Load(db); ok {
		srv := s.(*fakes3.Server)
		return blob.NewStorage(srv.Bucket, "/media/"), bucketFiles{srv}
	}
	root := t.TempDir()
	return backends.NewFileSystemStorage(root, "/media/"), localFiles(root)
}

// stored reaches what a storage holds around the storage under test: to
// check what it wrote, and to leave or break files as a crash or a person
// would have.
type stored interface {
	// names lists every stored file, sorted.
	names(t testing.TB) []string
	// exists reports whether name is stored.
	exists(t testing.TB, name string) bool
	// read returns the content of name.
	read(t testing.TB, name string) []byte
	// write stores data under name.
	write(t testing.TB, name string, data []byte)
	// remove deletes name.
	remove(t testing.TB, name string)
	// age makes name look written d ago to the storage's List.
	age(t testing.TB, name string, d time.Duration)
}

// stored returns what e's storage holds: e.raw, or the files under e.root
// for an env made by hand around a file storage.
func (e *env) stored() stored {
	if e.raw != nil {
		return e.raw
	}
	return localFiles(e.root)
}

// files lists the stored files, slash-separated and sorted.
func (e *env) files(t testing.TB) []string { t.Helper(); return e.stored().names(t) }

// exists reports whether the storage holds name.
func (e *env) exists(t testing.TB, name string) bool { t.Helper(); return e.stored().exists(t, name) }

// read returns the content of a stored file.
func (e *env) read(t testing.TB, name string) []byte { t.Helper(); return e.stored().read(t, name) }

// write stores a file directly, as a crashed save would have left it.
func (e *env) write(t testing.TB, name string, data []byte) {
	t.Helper()
	e.stored().write(t, name, data)
}

// remove deletes a stored file directly, as by hand.
func (e *env) remove(t testing.TB, name string) { t.Helper(); e.stored().remove(t, name) }

// age makes a stored file look modified d ago.
func (e *env) age(t testing.TB, name string, d time.Duration) { t.Helper(); e.stored().age(t, name, d) }

// decodeStored decodes a stored file.
func (e *env) decodeStored(t testing.TB, name string) (image.Image, string) {
	t.Helper()
	img, format, err := image.Decode(bytes.NewReader(e.read(t, name)))
	if err != nil {
		t.Fatalf("decode %s: %v", name, err)
	}
	return img, format
}

// localFiles is the folder of a file storage.
type localFiles string

func (l localFiles) path(name string) string {
	return filepath.Join(string(l), filepath.FromSlash(name))
}

func (l localFiles) names(t testing.TB) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(string(l), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(string(l), p)
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func (l localFiles) exists(t testing.TB, name string) bool {
	t.Helper()
	_, err := os.Stat(l.path(name))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return err == nil
}

func (l localFiles) read(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(l.path(name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (l localFiles) write(t testing.TB, name string, data []byte) {
	t.Helper()
	p := l.path(name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func (l localFiles) remove(t testing.TB, name string) {
	t.Helper()
	if err := os.Remove(l.path(name)); err != nil {
		t.Fatal(err)
	}
}

func (l localFiles) age(t testing.TB, name string, d time.Duration) {
	t.Helper()
	old := time.Now().Add(-d)
	if err := os.Chtimes(l.path(name), old, old); err != nil {
		t.Fatal(err)
	}
}

// bucketFiles is the bucket of a fake S3 server, read and written through
// the AWS SDK directly, not through the blob storage under test. Its names
// are every key of the bucket, even ones the storage would not list.
type bucketFiles struct{ srv *fakes3.Server }

func (b bucketFiles) names(t testing.TB) []string { t.Helper(); return b.srv.Keys(t) }

func (b bucketFiles) exists(t testing.TB, name string) bool {
	t.Helper()
	ok, err := b.srv.Bucket.Exists(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

func (b bucketFiles) read(t testing.TB, name string) []byte {
	t.Helper()
	data, err := b.srv.Bucket.ReadAll(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func (b bucketFiles) write(t testing.TB, name string, data []byte) {
	t.Helper()
	if err := b.srv.Bucket.WriteAll(context.Background(), name, data, nil); err != nil {
		t.Fatal(err)
	}
}

func (b bucketFiles) remove(t testing.TB, name string) {
	t.Helper()
	if err := b.srv.Bucket.Delete(context.Background(), name); err != nil {
		t.Fatal(err)
	}
}

// age rewrites the object with the server's clock set d back: S3 offers no
// other way to date an object, and that is how an old object came to be.
func (b bucketFiles) age(t testing.TB, name string, d time.Duration) {
	t.Helper()
	b.srv.Age(t, name, d)
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
