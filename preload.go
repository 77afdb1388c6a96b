package thumbnails

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"

	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails/backends"
	"github.com/gorm-thumbnails/thumbnails/field"
	"github.com/gorm-thumbnails/thumbnails/internal/bridge"
)

// keyPreload marks a query made with the Preload scope.
const keyPreload = "thumbnails:preload"

// preloadRequest is what Preload asks of one query.
type preloadRequest struct {
	sizes []string // empty: every column
	every bool     // every column, and sizes are only checked (Preload() with Preload("x"))
}

// Preload returns a scope that loads the thumbnail metadata of every row a
// query returns, in one round trip to the metadata store whatever the
// number of rows: on the database backend, one SELECT that binds the
// sources as one JSON array (one parameter, so never chunked) and reads
// each source's summary; on Redis, one pipeline.
//
//	db.Scopes(thumbnails.Preload()).Find(&foods)
//
// Afterwards Thumbnail and Thumbnails on each loaded row answer from memory
// for the thumbnails that exist, with no further metadata query; a lazy
// size that does not exist yet is still generated on first access. Without
// Preload, each row's first access makes its own lookup.
//
// Naming sizes limits the preload to the image columns that have one of
// them (two Preload scopes on one query preload what either names); a
// name that no column of the model has fails the query with
// ErrUnknownSize. The records of every size of those columns are loaded:
// the round trip is the same.
func Preload(sizes ...string) func(*gorm.DB) *gorm.DB {
	return func(db *gorm.DB) *gorm.DB {
		req := preloadRequest{sizes: sizes}
		if v, ok := db.InstanceGet(keyPreload); ok {
			req = v.(preloadRequest).merge(req) // two Preload scopes on one query
		}
		// The statement's context carries the request to the queries gorm
		// makes for it while it loads its associations (db.Preload("Items")),
		// and to no other: not those of an AfterFind hook, which get the
		// same context (those of the top-level rows once the associations
		// are loaded; those of an association's rows while they load, which
		// preloadScope.hooking tells).
		ctx := db.Statement.Context
		if ctx == nil {
			ctx = context.Background()
		}
		db.Statement.Context = context.WithValue(ctx, preloadContextKey{}, &preloadScope{req: req})
		return db.InstanceSet(keyPreload, req)
	}
}

// merge returns the request that asks for what r and o ask: every column
// when either does, or the sizes of both.
func (r preloadRequest) merge(o preloadRequest) preloadRequest {
	sizes := slices.Clone(r.sizes)
	for _, s := range o.sizes {
		if !slices.Contains(sizes, s) {
			sizes = append(sizes, s)
		}
	}
	every := r.every || o.every || len(r.sizes) == 0 || len(o.sizes) == 0
	return preloadRequest{sizes: sizes, every: every && len(sizes) > 0}
}

// preloadContextKey is the context key of the *preloadScope of the
// statement whose context holds it.
type preloadContextKey struct{}

// preloadScope is a Preload request as the queries of the statement's
// associations see it: loading counts the gorm:preload callbacks running
// under the statement's context (its own, and those of nested
// associations), during which those queries run; hooking counts the
// gorm:after_query callbacks running under it (the AfterFind hooks of
// the rows of an association run while the associations load, and their
// queries are not the associations').
type preloadScope struct {
	req     preloadRequest
	loading atomic.Int32
	hooking atomic.Int32
}

// loadingAssociations returns the callbacks that bracket gorm:preload.
func loadingAssociations(delta int32) func(*gorm.DB) {
	return func(db *gorm.DB) {
		if s := preloadScopeOf(db); s != nil {
			s.loading.Add(delta)
		}
	}
}

// runningHooks returns the callbacks that bracket gorm:after_query.
func runningHooks(delta int32) func(*gorm.DB) {
	return func(db *gorm.DB) {
		if s := preloadScopeOf(db); s != nil {
			s.hooking.Add(delta)
		}
	}
}

// preloadScopeOf returns the preloadScope that the context of the
// statement on db carries, or nil.
func preloadScopeOf(db *gorm.DB) *preloadScope {
	if ctx := db.Statement.Context; ctx != nil {
		if s, ok := ctx.Value(preloadContextKey{}).(*preloadScope); ok {
			return s
		}
	}
	return nil
}

// preloadOf returns, for each column of the model, whether the query on
// db asked to preload it with the Preload scope; nil when it did not ask.
// A query that gorm makes for the associations of a preloaded query
// (db.Scopes(Preload()).Preload("Items")) preloads too: all its columns,
// or those with one of the sizes named, which it need not have. The query's
// own sizes fail with ErrUnknownSize unless m has them all, or known says
// they are known elsewhere.
func (m *model) preloadOf(db *gorm.DB, known func(sizes []string) bool) ([]bool, error) {
	req, own, ok := preloadRequestOf(db)
	if !ok {
		return nil, nil
	}
	cols, err := m.preloadColumns(req.sizes)
	if err != nil {
		if !errors.Is(err, ErrUnknownSize) || own && !known(req.sizes) {
			return nil, err
		}
		cols = m.columnsWithAny(req.sizes)
	}
	if req.every {
		cols = m.columns
	}
	preload := make([]bool, len(m.columns))
	for i, c := range m.columns {
		preload[i] = slices.Contains(cols, c)
	}
	return preload, nil
}

// preload reads the thumbnails of images from metadata, in one round trip,
// and caches them in each image. Two images of one source are rare, and a
// batch read answers a source listed twice at both places: the list is not
// deduplicated. A query that failed (a Preload naming an unknown size
// among them) reads nothing.
func (p *plugin) preload(db *gorm.DB, images []*field.Image) {
	if db.Error != nil || len(images) == 0 {
		return
	}
	sources := make([]string, len(images))
	for i, img := range images {
		sources[i] = img.Name()
	}
	recs, err := thumbnailsIn(db.Statement.Context, p.metadata(db), sources)
	if err != nil {
		_ = db.AddError(fmt.Errorf("thumbnails: preload: %w", err))
		return
	}
	ks := make([]known, len(images)) // one allocation; each image holds a pointer
	for i, img := range images {
		ks[i] = recs[i]
		bridge.Cache(img, &ks[i])
	}
}

// thumbnailsIn reads the records of sources, those of sources[i] at [i],
// from meta in one round trip.
func thumbnailsIn(ctx context.Context, meta backends.Metadata, sources []string) ([][]backends.Thumbnail, error) {
	if a, ok := meta.(backends.AlignedMetadata); ok {
		return a.ThumbnailsIn(ctx, sources)
	}
	bySource, err := meta.ThumbnailsOf(ctx, sources)
	if err != nil {
		return nil, err
	}
	recs := make([][]backends.Thumbnail, len(sources))
	for i, s := range sources {
		recs[i] = bySource[s]
	}
	return recs, nil
}

// preloadRequestOf returns the Preload request of the query on db: its
// own (own is true), or that of the query whose associations it loads.
func preloadRequestOf(db *gorm.DB) (req preloadRequest, own, ok bool) {
	if v, ok := db.InstanceGet(keyPreload); ok {
		return v.(preloadRequest), true, true
	}
	if s := preloadScopeOf(db); s != nil && s.loading.Load() > 0 && s.hooking.Load() == 0 {
		return s.req, false, true
	}
	return req, false, false
}

// preloadColumns returns the columns that have one of sizes (all columns
// when sizes is empty), and an error wrapping ErrUnknownSize when one of
// sizes is a size of none.
func (m *model) preloadColumns(sizes []string) ([]*column, error) {
	if len(sizes) == 0 {
		return m.columns, nil
	}
	cols := m.columnsWithAny(sizes)
	for _, s := range sizes {
		found := false
		for _, c := range cols {
			if _, ok := c.size(s); ok {
				found = true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("%w: Preload(%q): no image column of %s has size %q", ErrUnknownSize, strings.Join(sizes, ", "), m.schema.Name, s)
		}
	}
	return cols, nil
}

// columnsWithAny returns the columns that have one of sizes.
func (m *model) columnsWithAny(sizes []string) []*column {
	var cols []*column
	for _, c := range m.columns {
		for _, s := range sizes {
			if _, ok := c.size(s); ok {
				cols = append(cols, c)
				break
			}
		}
	}
	return cols
}
