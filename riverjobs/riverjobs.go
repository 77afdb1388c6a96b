// Package riverjobs generates the async sizes of the thumbnails plugin in
// the background, on River (github.com/riverqueue/river), a job queue that
// lives in PostgreSQL.
//
// A size with `async: true` is not generated while the row is saved: the
// plugin hands a job per async size to the Enqueuer, which inserts it with
// River's InsertManyTx in the very transaction that writes the row. The job
// becomes visible to workers only if that transaction commits, so a rolled
// back save queues nothing, and a committed one cannot lose its job.
//
//	riverjobs.Migrate(ctx, db)            // River's tables
//	driver := riverdatabasesql.New(sqlDB) // sqlDB, _ := db.DB()
//	workers := river.NewWorkers()
//	river.AddWorker(workers, riverjobs.NewWorker(db))
//	client, _ := river.NewClient(driver, &river.Config{
//		Queues:  map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 4}},
//		Workers: workers,
//	})
//	db.Use(thumbnails.Plugin(thumbnails.Config{Sizes: set, Enqueuer: riverjobs.NewEnqueuer(client, nil)}))
//	client.Start(ctx)
//
// The package is PostgreSQL only: River's tables and the row must be in one
// database for the insert to share the row's transaction. On SQLite, keep
// sizes eager or lazy. The core thumbnails package does not import River;
// only programs that import this package do.
package riverjobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/rivermigrate"
	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails"

	"github.com/gorm-thumbnails/thumbnails/internal/dialect"
)

// ErrNotPostgres is returned by db.Use when the Enqueuer is used with a
// database other than PostgreSQL, and by Migrate for such a database.
var ErrNotPostgres = errors.New("riverjobs: River jobs need PostgreSQL (keep sizes eager or lazy on other databases)")

// Kind is the River job kind of the generation of one async size.
const Kind = "thumbnails.generate"

// Args are the arguments of a job: one async size of one source. Jobs are
// unique by source and size in River's default unique states (a job that
// waits, runs, is retried or has completed, until River's cleaner removes
// it), so a size is queued once; a cancelled or discarded job does not keep
// its size from being queued again.
type Args struct {
	Source string `json:"source" river:"unique"` // storage name of the source image
	Size   string `json:"size" river:"unique"`   // the async size to make
	Table  string `json:"table"`                 // table of the image column
	Column string `json:"column"`                // the image column, whose sizes give Size's processors
	// FocusColumn is the row's field.Focus column, if its image column has one.
	FocusColumn string `json:"focus_column,omitempty"`
}

// Kind implements river.JobArgs.
func (Args) Kind() string { return Kind }

// InsertOpts implements river.JobArgsWithInsertOpts: unique by source and
// size (the fields tagged river:"unique").
func (Args) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// Enqueuer is the thumbnails.Enqueuer that inserts River jobs.
type Enqueuer struct {
	client *river.Client[*sql.Tx]
	opts   river.InsertOpts
}

var _ thumbnails.Enqueuer = (*Enqueuer)(nil)

// NewEnqueuer returns an Enqueuer that inserts jobs with client, a River
// client on the riverdatabasesql driver over the same PostgreSQL database
// as the *gorm.DB (it needs no workers of its own: an insert-only client
// is enough). opts, when not nil, sets the queue, priority, maximum
// attempts or tags of the jobs; their uniqueness is always by source and
// size.
func NewEnqueuer(client *river.Client[*sql.Tx], opts *river.InsertOpts) *Enqueuer {
	e := &Enqueuer{client: client}
	if opts != nil {
		e.opts = *opts
	}
	e.opts.UniqueOpts = Args{}.InsertOpts().UniqueOpts
	return e
}

// Enqueue implements thumbnails.Enqueuer: one InsertManyTx in tx (one
// InsertMany when tx is nil). Jobs are unique by source and size: a job
// listed twice is inserted once, the first time it is listed.
func (e *Enqueuer) Enqueue(ctx context.Context, tx *sql.Tx, jobs []thumbnails.Job) error {
	params := make([]river.InsertManyParams, 0, len(jobs))
	seen := make(map[[2]string]bool, len(jobs))
	for _, j := range jobs {
		// One INSERT ... ON CONFLICT cannot touch a unique row twice.
		k := [2]string{j.Source, j.Size}
		if seen[k] {
			continue
		}
		seen[k] = true
		opts := e.opts
		params = append(params, river.InsertManyParams{
			Args:       Args{Source: j.Source, Size: j.Size, Table: j.Table, Column: j.Column, FocusColumn: j.FocusColumn},
			InsertOpts: &opts,
		})
	}
	if len(params) == 0 {
		return nil
	}
	var err error
	if tx != nil {
		_, err = e.client.InsertManyTx(ctx, tx, params)
	} else {
		_, err = e.client.InsertMany(ctx, params)
	}
	if err != nil {
		return fmt.Errorf("riverjobs: insert %d job(s): %w", len(jobs), err)
	}
	return nil
}

// CheckDB is called by db.Use: it refuses a database other than PostgreSQL.
func (e *Enqueuer) CheckDB(db *gorm.DB) error {
	if name := dialect.Of(db); name != dialect.Postgres {
		return fmt.Errorf("%w: the database is %s", ErrNotPostgres, name)
	}
	if e == nil || e.client == nil {
		return errors.New("riverjobs: the Enqueuer has no River client (NewEnqueuer(nil, ...), or a nil *Enqueuer)")
	}
	return nil
}

// Migrate creates or updates River's tables in db, the PostgreSQL database
// the plugin uses (in its current search_path schema). It is River's own
// migration (rivermigrate), here so that a program need not import it.
func Migrate(ctx context.Context, db *gorm.DB) error {
	if name := dialect.Of(db); name != dialect.Postgres {
		return fmt.Errorf("%w: the database is %s", ErrNotPostgres, name)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return fmt.Errorf("riverjobs: migrate: %w", err)
	}
	m, err := rivermigrate.New(riverdatabasesql.New(sqlDB), nil)
	if err != nil {
		return fmt.Errorf("riverjobs: migrate: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("riverjobs: migrate: %w", err)
	}
	return nil
}
