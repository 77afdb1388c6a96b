package thumbnails

import (
	"fmt"
	"reflect"
	"strings"

	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails/field"
	"github.com/gorm-thumbnails/thumbnails/internal/bridge"
)

// keyPreload marks a query made with the Preload scope.
const keyPreload = "thumbnails:preload"

// preloadRequest is what Preload asks of one query.
type preloadRequest struct {
	sizes []string // empty: every column
}

// Preload returns a scope that loads the thumbnail metadata of every row a
// query returns, in one round trip to the metadata store whatever the
// number of rows: one SELECT ... WHERE source IN (...) on the database
// backend (chunked only above the driver's parameter limit), one pipeline
// on Redis.
//
//	db.Scopes(thumbnails.Preload()).Find(&foods)
//
// Afterwards Thumbnail and Thumbnails on each loaded row answer from memory
// for the thumbnails that exist, with no further metadata query; a lazy
// size that does not exist yet is still generated on first access. Without
// Preload, each row's first access makes its own lookup.
//
// Naming sizes limits the preload to the image columns that have one of
// them; a name that no column of the model has fails the query with
// ErrUnknownSize. The records of every size of those columns are loaded:
// the round trip is the same.
func Preload(sizes ...string) func(*gorm.DB) *gorm.DB {
	return func(db *gorm.DB) *gorm.DB {
		return db.InstanceSet(keyPreload, preloadRequest{sizes: sizes})
	}
}

// preload fills the thumbnails known to the images that a query loaded, if
// the query asked for it with Preload.
func (p *plugin) preload(db *gorm.DB, m *model) {
	v, ok := db.InstanceGet(keyPreload)
	if !ok {
		return
	}
	cols, err := m.preloadColumns(v.(preloadRequest).sizes)
	if err != nil {
		_ = db.AddError(err)
		return
	}
	var (
		targets []*field.Image
		sources []string
		seen    = map[string]bool{}
	)
	eachRow(db.Statement.ReflectValue, m.schema.ModelType, func(row reflect.Value) {
		for _, col := range cols {
			img := col.image(row)
			if img == nil || img.Name() == "" {
				continue
			}
			targets = append(targets, img)
			if !seen[img.Name()] {
				seen[img.Name()] = true
				sources = append(sources, img.Name())
			}
		}
	})
	if len(sources) == 0 {
		return
	}
	recs, err := p.metadata(db).ThumbnailsOf(db.Statement.Context, sources)
	if err != nil {
		_ = db.AddError(fmt.Errorf("thumbnails: preload: %w", err))
		return
	}
	for _, img := range targets {
		bridge.Cache(img, known(recs[img.Name()]))
	}
}

// preloadColumns returns the columns that have one of sizes (all columns
// when sizes is empty).
func (m *model) preloadColumns(sizes []string) ([]*column, error) {
	if len(sizes) == 0 {
		return m.columns, nil
	}
	var cols []*column
	for _, c := range m.columns {
		for _, s := range sizes {
			if _, ok := c.size(s); ok {
				cols = append(cols, c)
				break
			}
		}
	}
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
