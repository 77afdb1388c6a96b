// Package field provides Image, the model column type of the thumbnails
// plugin, and Thumbnail, what its accessors return.
//
//	type Food struct {
//		ID    uint
//		Image field.Image `thumbnails:"sizes:small,large;dir:foods"`
//	}
//
// An Image is stored in one string column as the storage name of its source
// image. field.NewImage wraps an upload; the plugin stores it, generates the
// eager sizes and writes the name into the column when the row is saved.
//
// The tag takes "sizes:a,b" (the sizes of this column; all configured sizes
// when absent), "dir:folder" (where sources are stored; the model's table
// name when absent) and "focus:Field" (the row's Focus field, which focal
// sizes crop around), separated by ";" as in gorm's own tags.
package field

import (
	"context"
	"errors"
)

// Sentinel errors of package field.
var (
	// ErrNotBound is returned by the thumbnail accessors of an Image that was
	// neither saved nor loaded through a *gorm.DB using the thumbnails plugin.
	ErrNotBound = errors.New("field: image is not bound to the thumbnails plugin (save or load the row through a *gorm.DB that uses thumbnails.Plugin)")
	// ErrNotStored is returned when a row holding an Image made by NewImage is
	// written to the database without the plugin storing the upload first.
	ErrNotStored = errors.New("field: image upload was not stored (is thumbnails.Plugin registered, and the column tagged?)")
	// ErrDiscarded is returned when a row is written again with an Image
	// whose upload was stored for a save that failed or rolled back: the
	// plugin deleted the files it had stored, and the upload's reader was
	// consumed. Attach the upload again (field.NewImage) to retry, or load
	// the row again to save it without a new image. It wraps ErrNotStored.
	ErrDiscarded error = discardedError{}
)

// discardedError is ErrDiscarded: it is an ErrNotStored (errors.Is), with
// its own message, as the plugin is registered and the column tagged.
type discardedError struct{}

func (discardedError) Error() string {
	return "field: image upload was discarded: its save failed or rolled back and its stored files were deleted; attach the upload again with field.NewImage to retry"
}

// Is reports that ErrDiscarded is an ErrNotStored.
func (discardedError) Is(target error) bool { return target == ErrNotStored }

// Thumbnail describes one generated thumbnail of an Image.
type Thumbnail struct {
	Size   string // the size's name, lower case
	Name   string // storage name of the thumbnail file; empty for a fallback
	URL    string // where the thumbnail is served
	Width  int    // in pixels; 0 for a fallback
	Height int    // in pixels; 0 for a fallback
}

// Binder is what the thumbnails plugin attaches to each Image it saves or
// loads, so that the Image can answer for its thumbnails. Users do not
// implement it.
type Binder interface {
	// URL returns the URL of the stored file name.
	URL(name string) string
	// Thumbnail returns the thumbnail of img in size, generating it first
	// if the size is lazy and not generated yet.
	Thumbnail(ctx context.Context, img *Image, size string) (Thumbnail, error)
	// Thumbnails returns the thumbnails of img that exist, keyed by size.
	Thumbnails(ctx context.Context, img *Image) (map[string]Thumbnail, error)
}
