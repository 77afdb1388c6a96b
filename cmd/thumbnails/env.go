package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/redis/go-redis/v9"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/logger"

	"github.com/gorm-thumbnails/thumbnails"
	"github.com/gorm-thumbnails/thumbnails/backends"
	"github.com/gorm-thumbnails/thumbnails/migrations"
	"github.com/gorm-thumbnails/thumbnails/sizes"
)

// env is what a subcommand works on, opened from the global flags.
type env struct {
	db      *gorm.DB // in a dry run that would create tables, a transaction rolled back by Close
	base    *gorm.DB // the database, outside the dry run's transaction
	inTx    bool     // db is such a dry run's transaction
	storage backends.Storage
	meta    backends.Metadata // where the thumbnails are recorded: Redis with --redis, else the database
	sizes   sizes.Sizes       // nil unless the plugin is registered
	table   thumbnails.Table
	redis   *redis.Client // nil without --redis
}

// open opens the database (and Redis, with --redis); withPlugin loads
// --sizes and registers the plugin, which also migrates the metadata tables.
// A dry run on a database whose tables are missing or out of date works in
// a transaction that Close rolls back, so that not even those tables are
// created by it; otherwise it works outside any transaction, holding no
// lock.
func (g *globalFlags) open(ctx context.Context, withPlugin, dryRun bool) (*env, error) {
	d, err := dialector(g.dsn)
	if err != nil {
		return nil, err
	}
	db, err := gorm.Open(d, &gorm.Config{Logger: logger.Default.LogMode(logger.Silent)})
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	// fail closes the database and returns err.
	fail := func(err error) (*env, error) {
		if sqlDB, e := db.DB(); e == nil {
			_ = sqlDB.Close()
		}
		return nil, err
	}
	work := db.WithContext(ctx)
	// A dry run changes nothing. Registering the plugin creates its tables
	// where they are missing, so only then does the dry run work in a
	// transaction, rolled back: held through the run, it would block the
	// application's writes (SQLite's write lock, with _txlock=immediate).
	inTx := false
	if dryRun && withPlugin {
		pending, err := migrations.Pending(ctx, db)
		if err != nil {
			return fail(fmt.Errorf("read the thumbnails tables' version: %w", err))
		}
		inTx = len(pending) > 0
	}
	if inTx {
		if work = work.Begin(); work.Error != nil {
			return fail(fmt.Errorf("begin the dry run's transaction: %w", work.Error))
		}
	}
	e := &env{
		db:      work,
		base:    db,
		inTx:    inTx,
		storage: backends.NewFileSystemStorage(g.storageRoot, g.baseURL),
		table:   thumbnails.Table{Name: g.table, Column: g.column, PrimaryKey: g.pk, Dir: g.dir, Focus: g.focus},
	}
	if err := e.connect(ctx, g, withPlugin); err != nil {
		return nil, errors.Join(err, e.Close())
	}
	return e, nil
}

func (e *env) connect(ctx context.Context, g *globalFlags, withPlugin bool) error {
	e.meta = backends.NewDatabaseMetadata(e.db)
	var pluginMeta backends.Metadata // nil: the plugin's database default
	if g.redis != "" {
		client, err := redisClient(ctx, g.redis)
		e.redis = client
		if err != nil {
			return err
		}
		e.meta = backends.NewRedisMetadata(client, g.redisPrefix)
		pluginMeta = e.meta
	}
	if !withPlugin {
		return nil
	}
	set, err := g.loadSizes()
	if err != nil {
		return err
	}
	e.sizes = set
	return e.db.Use(thumbnails.Plugin(thumbnails.Config{
		Sizes:      set,
		Storage:    e.storage,
		Metadata:   pluginMeta,
		BaseDir:    g.baseDir,
		Background: g.background,
	}))
}

// loadSizes reads --sizes. The command makes what it makes itself: an
// async size, which the application's workers make after a save, is made
// like the others (and the plugin needs no Enqueuer for it).
func (g *globalFlags) loadSizes() (sizes.Sizes, error) {
	set, err := sizes.LoadFile(g.sizes)
	if err != nil {
		return nil, fmt.Errorf("--sizes: %w", err)
	}
	for name, sz := range set {
		if sz.Async {
			sz.Async = false
			set[name] = sz
		}
	}
	return set, nil
}

// quietLogger drops go-redis' log lines: its errors reach the user as the
// command's one error line.
type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}

// redisClient connects to addr (host:port, or a redis:// URL) and checks
// that it answers.
func redisClient(ctx context.Context, addr string) (*redis.Client, error) {
	redis.SetLogger(quietLogger{})
	opts := &redis.Options{Addr: addr}
	if strings.Contains(addr, "://") {
		var err error
		if opts, err = redis.ParseURL(addr); err != nil {
			return nil, fmt.Errorf("--redis: %w", err)
		}
	}
	client := redis.NewClient(opts)
	if err := client.Ping(ctx).Err(); err != nil {
		return client, fmt.Errorf("redis at %s: %w", opts.Addr, err)
	}
	return client, nil
}

// Close rolls back a dry run's transaction and closes the database and
// Redis connections.
func (e *env) Close() error {
	var errs []error
	if e.inTx {
		if err := e.db.Rollback().Error; err != nil && !errors.Is(err, sql.ErrTxDone) {
			errs = append(errs, err)
		}
	}
	if sqlDB, err := e.base.DB(); err == nil {
		errs = append(errs, sqlDB.Close())
	}
	if e.redis != nil {
		errs = append(errs, e.redis.Close())
	}
	return errors.Join(errs...)
}

// requireRoot fails when --storage-root is not a folder: a mistyped or
// relative one (the command run from another folder) would have every
// file seen as gone, and its records deleted while the files stay.
func (g *globalFlags) requireRoot() error {
	info, err := os.Stat(g.storageRoot)
	if err == nil && !info.IsDir() {
		err = errors.New("not a folder")
	}
	if err != nil {
		return fmt.Errorf("--storage-root %q: %w", g.storageRoot, err)
	}
	return nil
}

// errFound stops a walk at what it looked for.
var errFound = errors.New("found")

// looksUnrelated returns why the database and metadata the flags name do
// not look like the application's, or "" when they do: the metadata records
// nothing while the storage root holds files (every file would look like
// an orphan), or it records sources while no row of the image columns holds
// an image (every source would look unreferenced). A wrong --dsn, --redis
// or --redis-prefix does that. It creates nothing.
func (g *globalFlags) looksUnrelated(ctx context.Context, columns []thumbnails.Table) (string, error) {
	e, err := g.open(ctx, false, true) // a dry run: creates nothing
	if err != nil {
		return "", err
	}
	defer e.Close()
	recorded := false
	if e.redis != nil || hasTable(e.db, backends.SourcesTable) {
		err = e.meta.Each(ctx, func(string, []backends.Thumbnail) error { return errFound })
		if recorded = errors.Is(err, errFound); !recorded && err != nil {
			return "", err
		}
	}
	if !recorded {
		err := filepath.WalkDir(g.storageRoot, func(_ string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				return errFound
			}
			return err
		})
		if !errors.Is(err, errFound) {
			return "", err // no file to lose
		}
		return fmt.Sprintf("the metadata (%s) records nothing while --storage-root %q holds files: prune would take every file for an orphan; check --dsn, --redis and --redis-prefix, or give --force to remove them all (nothing removed)", g.metadataName(), g.storageRoot), nil
	}
	names := make([]string, len(columns))
	for i, c := range columns {
		var n int64
		// clause.Table: gorm takes a name with a space for SQL of its own
		err := e.db.Table("?", clause.Table{Name: c.Name}).Where(clause.Neq{Column: clause.Column{Name: c.Column}, Value: ""}).Count(&n).Error
		if err != nil {
			return "", fmt.Errorf("read %s.%s: %w", c.Name, c.Column, err)
		}
		if n > 0 {
			return "", nil
		}
		names[i] = c.Name + "." + c.Column
	}
	return fmt.Sprintf("the metadata (%s) records sources but no row of %s holds an image: prune would take every source for unreferenced; check --dsn (and --table, --column, --also), or give --force to remove them all (nothing removed)", g.metadataName(), strings.Join(names, ", ")), nil
}

// metadataName says where the metadata is: the database's tables, or
// Redis (without the password of its URL) and the key prefix.
func (g *globalFlags) metadataName() string {
	if g.redis != "" {
		return fmt.Sprintf("Redis %s, prefix %q", redactedRedis(g.redis), g.redisPrefix)
	}
	return "the thumbnails tables of --dsn"
}

// hasTable reports whether the database has the table name where its
// queries look for it: on PostgreSQL, in any schema of the search_path
// (gorm's Migrator().HasTable looks in the first one only).
func hasTable(db *gorm.DB, name string) bool {
	if foldsNames(db) {
		return db.Migrator().HasTable(name)
	}
	var found bool
	return db.Raw("SELECT to_regclass(?) IS NOT NULL", db.Statement.Quote(name)).Scan(&found).Error == nil && found
}
