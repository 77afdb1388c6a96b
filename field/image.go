package field

import (
	"context"
	"database/sql/driver"
	"fmt"
	"io"

	"github.com/gorm-thumbnails/thumbnails/internal/bridge"
)

// Image is a model column holding a source image and giving access to its
// thumbnails. Its zero value is an empty column. Saving a row whose Image is
// empty removes the image the row had.
type Image struct {
	name   string
	orig   string // name as last read from or written to the database
	upload *bridge.Upload
	binder Binder
	// known are the thumbnails known to exist for name, recorded by the
	// plugin when it saves, preloads or first looks them up; never mutated,
	// only replaced, so that copies of an Image may share it.
	known any
	// focus is the focal point of the image's row, when its column has one
	// (see Focus); set by the plugin when it saves or loads the row.
	focus Focus
	// owner is the row and column the plugin bound the Image in: orig is
	// what that column of that row held. A copy of the Image put in another
	// row or column (b.Image = a.Image) carries it along, so the plugin
	// tells the copy from an unchanged column.
	owner  bridge.Owner
	loaded bool // orig is valid
	// discarded: the upload was stored for a save that failed or rolled
	// back, and its files deleted (see ErrDiscarded).
	discarded bool
	// decoded: the name came from UnmarshalText (a cache), and the plugin
	// has not bound the Image to its row since: it cannot tell whether the
	// row still holds that name, and refuses to write it (see Bind).
	decoded bool
}

// NewImage returns an Image holding an upload that is not stored yet: the
// content of r, uploaded under filename. Saving the row stores it. The
// file name is only a hint for humans: the format is taken from the bytes,
// and the stored name is new and random.
func NewImage(filename string, r io.Reader) Image {
	return Image{upload: &bridge.Upload{Filename: filename, Reader: r}}
}

// Name returns the storage name of the source image, or "" when the column
// is empty or holds an upload that is not stored yet. After a save of an
// upload that failed or rolled back it is "" too, and the Image refuses to
// be written again (ErrDiscarded): load the row again to see what it holds.
func (i Image) Name() string { return i.name }

// URL returns the URL of the source image, or "" when there is none or the
// image is not bound to the plugin.
func (i Image) URL() string {
	if i.name == "" || i.binder == nil {
		return ""
	}
	return i.binder.URL(i.name)
}

// IsEmpty reports whether the column holds neither a stored image nor an
// upload (an Image whose upload was discarded is not empty: see
// ErrDiscarded).
func (i Image) IsEmpty() bool { return i.name == "" && i.upload == nil && !i.discarded }

// String returns the storage name, so that an Image prints as what the column holds.
func (i Image) String() string { return i.name }

// Thumbnail returns the thumbnail of the image in size. A lazy size is
// generated on the first call and recorded. It fails with ErrNotBound for
// an Image that was neither saved nor loaded through a *gorm.DB using the
// plugin; with thumbnails.ErrUnknownSize for a size the column does not
// have; with thumbnails.ErrNoSource when the column is empty and the size
// has no fallback URL; with ErrDiscarded when the Image's upload was
// discarded (see Name); with thumbnails.ErrPending for an async size whose
// job has not run, under thumbnails.PendingError; and with
// backends.ErrNotFound when a lazy size is to be made from a source file
// that is gone (its row was deleted meanwhile, or the file was lost).
func (i *Image) Thumbnail(ctx context.Context, size string) (Thumbnail, error) {
	if i.discarded {
		return Thumbnail{}, ErrDiscarded
	}
	if i.binder == nil {
		return Thumbnail{}, ErrNotBound
	}
	return i.binder.Thumbnail(ctx, i, size)
}

// Thumbnails returns the thumbnails of the image that exist, keyed by size.
// It does not generate lazy sizes. An empty column has none; an Image
// whose upload was discarded fails with ErrDiscarded.
func (i *Image) Thumbnails(ctx context.Context) (map[string]Thumbnail, error) {
	if i.discarded {
		return nil, ErrDiscarded
	}
	if i.binder == nil {
		return nil, ErrNotBound
	}
	return i.binder.Thumbnails(ctx, i)
}

// Scan implements sql.Scanner: the column holds the source's storage name.
func (i *Image) Scan(src any) error {
	var name string
	switch v := src.(type) {
	case nil:
	case string:
		name = v
	case []byte:
		name = string(v)
	default:
		return fmt.Errorf("field: cannot scan %T into field.Image", src)
	}
	// No owner until the plugin binds the row: gorm scans into a
	// temporary, which it copies into the row.
	i.name, i.orig, i.loaded, i.upload, i.known, i.discarded, i.owner, i.decoded = name, name, true, nil, nil, false, bridge.Owner{}, false
	return nil
}

// Value implements driver.Valuer. An upload that the plugin has not stored
// is an error rather than an empty column, so that nothing is lost silently;
// so is an upload whose save failed or rolled back (ErrDiscarded).
func (i Image) Value() (driver.Value, error) {
	if i.upload != nil {
		return nil, ErrNotStored
	}
	if i.discarded {
		return nil, ErrDiscarded
	}
	return i.name, nil
}

// GormDataType tells gorm's migrator to make the column a string.
func (Image) GormDataType() string { return "string" }

func init() {
	bridge.Pending = func(img any) *bridge.Upload { return img.(*Image).upload }
	bridge.Stored = func(img any, name string) {
		i := img.(*Image)
		i.name, i.upload, i.known, i.discarded = name, nil, nil, false
	}
	bridge.Discard = func(img any) {
		i := img.(*Image)
		i.name, i.upload, i.known, i.discarded = "", nil, nil, true
	}
	bridge.Discarded = func(img any) bool { return img.(*Image).discarded }
	bridge.Original = func(img any) (string, bridge.Owner, bool) {
		i := img.(*Image)
		return i.orig, i.owner, i.loaded
	}
	bridge.Bind = func(img any, b any, owner bridge.Owner, current bool) {
		i := img.(*Image)
		i.binder = b.(Binder)
		if current {
			i.orig, i.loaded, i.owner, i.decoded = i.name, true, owner, false
		}
	}
	bridge.Decoded = func(img any) bool { return img.(*Image).decoded }
	bridge.Cached = func(img any) any { return img.(*Image).known }
	bridge.Cache = func(img any, known any) { img.(*Image).known = known }
	bridge.SetFocus = func(img any, focus any) { img.(*Image).focus = focus.(Focus) }
	bridge.FocusOf = func(img any) any { return img.(*Image).focus }
}
