// Package thumbnails is a GORM plugin that gives image columns named
// thumbnail sizes.
//
// Tag a field.Image column, register the plugin, and saving a row stores the
// uploaded image and generates its sizes; replacing or deleting the row
// removes them once the change has committed:
//
//	set, err := sizes.LoadFile("thumbnails.yaml")
//	db.Use(thumbnails.Plugin(thumbnails.Config{Sizes: set}))
//
//	type Food struct {
//		ID    uint
//		Image field.Image `thumbnails:"sizes:small,large;dir:foods"`
//	}
//
//	food := Food{Image: field.NewImage("pizza.jpg", f)}
//	db.Create(&food)
//	t, err := food.Image.Thumbnail(ctx, "small") // t.URL, t.Width, t.Height
//
// Sources and thumbnails live in a backends.Storage (local files by
// default); which thumbnails exist is recorded in a backends.Metadata
// (tables in the model's own database by default, migrated by the plugin).
package thumbnails

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/singleflight"
	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails/backends"
	"github.com/gorm-thumbnails/thumbnails/migrations"
	"github.com/gorm-thumbnails/thumbnails/processors"
)

// pluginName is the name under which the plugin registers with gorm.
const pluginName = "thumbnails"

// plugin is the gorm.Plugin returned by Plugin.
type plugin struct {
	cfg     Config
	db      *gorm.DB // the base *gorm.DB, outside any transaction
	storage backends.Storage
	meta    backends.Metadata
	models  modelCache
	views   viewCache
	// recorded holds the columns (tableColumn) that columnsTable is known
	// to record, committed: recordColumns writes no others.
	recorded sync.Map
	lazy     singleflight.Group
	// draining is held by the drain of the outbox in progress.
	draining sync.Mutex
	// redrain is set by a drain that left sources for later because a
	// statement copying them held their lock (see guard.go): the commit
	// of the next statement that copies a source drains again.
	redrain atomic.Bool
	// deleted remembers the sources this process's drains deleted, for
	// the statements that copy sources (see guardCopies).
	deleted deletedLog
	// prestored holds the uploads of associated rows that a statement
	// stored before its transaction began, for the statements that gorm
	// runs to save those rows (see associations.go).
	prestored sync.Map // source name → *prestore
	reach     sync.Map // *schema.Schema → bool: see reachesImages
}

// Plugin returns the GORM plugin for cfg, to be registered with db.Use.
// Initialize validates cfg, applies the migrations of package migrations,
// and registers the callbacks; db.Use returns its error.
func Plugin(cfg Config) gorm.Plugin {
	return &plugin{cfg: cfg}
}

// Name implements gorm.Plugin.
func (p *plugin) Name() string { return pluginName }

// Initialize implements gorm.Plugin.
func (p *plugin) Initialize(db *gorm.DB) error {
	if err := p.cfg.Validate(); err != nil {
		return err
	}
	p.cfg = p.cfg.withDefaults()
	p.storage = p.cfg.Storage
	ctx := db.Statement.Context
	if ctx == nil {
		ctx = context.Background()
	}
	if err := migrations.Apply(ctx, db); err != nil {
		return fmt.Errorf("thumbnails: %w", err)
	}
	if c, ok := p.cfg.Enqueuer.(dbChecker); ok {
		if err := c.CheckDB(db); err != nil {
			return fmt.Errorf("%w: Enqueuer: %w", ErrInvalidConfig, err)
		}
	}
	if err := p.loadImages(ctx); err != nil {
		return err
	}
	wrapConnPool(db, p)
	p.db = db.Session(&gorm.Session{NewDB: true})
	p.meta = p.cfg.Metadata
	if p.meta == nil {
		p.meta = backends.NewDatabaseMetadata(p.db)
	}
	return p.registerCallbacks(db)
}

// metadata returns the metadata store to use from a callback running on
// db: bound to db's transaction when the store lives in the database.
func (p *plugin) metadata(db *gorm.DB) backends.Metadata {
	if tm, ok := p.meta.(backends.TxMetadata); ok {
		return tm.WithDB(db.Session(&gorm.Session{NewDB: true}))
	}
	return p.meta
}

// loadImages opens, in the storage, the images that processors draw (a
// watermark), so that a missing one is an error from db.Use, not from the
// first upload.
func (p *plugin) loadImages(ctx context.Context) error {
	return p.eachDrawnImage(func(size string, n processors.NeedsImage) error {
		rc, err := p.storage.Open(ctx, n.ImageName())
		if err == nil {
			var data []byte
			data, err = readStored(rc, p.cfg.Limits, n.ImageName())
			_ = rc.Close()
			if err == nil {
				var src *source
				if src, err = decode(data, p.cfg.Limits, nil); err == nil {
					n.SetImage(src.img)
				}
			}
		}
		if err != nil {
			return fmt.Errorf("%w: size %q: image %q: %w", ErrInvalidConfig, size, n.ImageName(), err)
		}
		return nil
	})
}

// eachDrawnImage calls fn for each processor of each size that draws an
// image of the storage (a watermark), until fn fails.
func (p *plugin) eachDrawnImage(fn func(size string, n processors.NeedsImage) error) error {
	for _, name := range p.cfg.Sizes.Names() {
		for _, f := range p.cfg.Sizes[name].Processors {
			if n, ok := f.(processors.NeedsImage); ok && n.ImageName() != "" {
				if err := fn(name, n); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// drawnImages returns the storage names of the images the sizes draw,
// which no row or record references and Prune must keep.
func (p *plugin) drawnImages() map[string]bool {
	out := map[string]bool{}
	_ = p.eachDrawnImage(func(_ string, n processors.NeedsImage) error {
		if clean, err := backends.CleanName(n.ImageName()); err == nil {
			out[clean] = true
		}
		return nil
	})
	return out
}
