package backends

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// Thumbnail is the metadata record of one generated thumbnail.
type Thumbnail struct {
	Source    string    // storage name of the source image
	Size      string    // name of the size, lower case
	Name      string    // storage name of the thumbnail file, as Storage.Save returned it
	Width     int       // in pixels
	Height    int       // in pixels
	CreatedAt time.Time // when it was recorded
}

// createdAt returns t's CreatedAt in UTC, or now when it is zero.
func (t Thumbnail) createdAt(now time.Time) time.Time {
	if t.CreatedAt.IsZero() {
		return now
	}
	return t.CreatedAt.UTC()
}

// Metadata records which thumbnails exist for each source. It is the source
// of truth for reads: the plugin never asks the Storage whether a file exists.
// The plugin calls it from many goroutines at once: an implementation must
// be safe for concurrent use. Package backendtest checks an implementation
// against this contract.
type Metadata interface {
	// Thumbnails returns the thumbnails recorded for source, keyed by size.
	// A source without records gives an empty map and no error.
	Thumbnails(ctx context.Context, source string) (map[string]Thumbnail, error)
	// ThumbnailsOf returns the thumbnails of many sources in one round trip
	// (chunked only where the store limits a request's size), keyed by
	// source, in no particular order. Sources without records are absent,
	// and a source listed twice is read once. CreatedAt may be left zero.
	ThumbnailsOf(ctx context.Context, sources []string) (map[string][]Thumbnail, error)
	// Put records source and the given thumbnails of it. A thumbnail whose
	// source and size are already recorded replaces the old record, so
	// putting the same thumbnail twice is not an error; of two thumbnails
	// of one size in a Put, the last is recorded. A thumbnail's
	// CreatedAt is recorded as it is (a copy keeps its time), or, when
	// zero, as the time of the Put; a store may keep it to a coarser
	// precision (Redis keeps whole seconds).
	Put(ctx context.Context, source string, thumbs ...Thumbnail) error
	// Delete removes the records of source and of all its thumbnails.
	// Deleting a source that has no records is not an error.
	Delete(ctx context.Context, source string) error
	// DeleteSize removes the record of one size of source, if there is one.
	DeleteSize(ctx context.Context, source, size string) error
	// Each calls fn with every recorded source and its thumbnails, a batch
	// at a time, so that a whole store can be walked (to prune it, or to
	// copy it to another store) in bounded memory. An error from fn stops
	// the walk and is returned.
	Each(ctx context.Context, fn func(source string, thumbs []Thumbnail) error) error
}

// TxMetadata is a Metadata that lives in the model's own database. WithDB
// returns the same store bound to db, so that records written from inside a
// callback commit or roll back together with the row.
type TxMetadata interface {
	Metadata
	WithDB(db *gorm.DB) Metadata
}

// AlignedMetadata is a Metadata that can also return a batch aligned with
// its input: ThumbnailsIn is ThumbnailsOf with the records of sources[i]
// at index i (nil when it has none), which spares a caller that holds the
// sources in a slice (Preload) building and searching a map. The stores of
// this package implement it; the plugin falls back to ThumbnailsOf for any
// other.
type AlignedMetadata interface {
	Metadata
	ThumbnailsIn(ctx context.Context, sources []string) ([][]Thumbnail, error)
}
