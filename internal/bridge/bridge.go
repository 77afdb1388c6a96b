// Package bridge lets the thumbnails plugin reach the state of a
// field.Image that is not part of the type's public API: the pending
// upload, the stored name and the binding to the plugin. Package field sets
// these functions in its init; nothing else may.
package bridge

import "io"

// Upload is an image that was handed to field.NewImage and is not stored yet.
type Upload struct {
	Filename string
	Reader   io.Reader
}

// Owner is the row and column an Image was bound in: the plugin's number
// for the column (from 1) and the row's primary key (an integer, or a
// hash of a string key). The zero Owner is no row: one whose key is not
// such a single value, or not set yet. It is small: every loaded row's
// Image holds one.
type Owner struct {
	Key    uint64 // the row's primary key, mixed with its table when not the model's own
	Column uint32
	Table  uint32 // the plugin's number for the row's table and column when the table is not the model's own; 0 otherwise
}

// Keyed reports whether o names a row.
func (o Owner) Keyed() bool { return o.Column != 0 }

// Functions installed by package field. Each takes a *field.Image as img.
var (
	// Pending returns the upload of img, or nil.
	Pending func(img any) *Upload
	// Stored records that img's upload is stored under name, so that the
	// column now holds name.
	Stored func(img any, name string)
	// Original returns the name img had when the plugin bound it, loaded
	// from (or last written to) the database, the row and column it was
	// bound in, and whether that is known. A copy of the Image carries them
	// along, to whichever row and column it is put in.
	Original func(img any) (name string, owner Owner, known bool)
	// Bind attaches the plugin's accessor for img's column (b is a
	// field.Binder). When current, the column of the row owner holds img's
	// name now (the row was loaded, or the statement wrote the column),
	// which Original reports from then on; otherwise what Original reports
	// stays as it was.
	Bind func(img any, b any, owner Owner, current bool)
	// Decoded reports whether img's name was decoded from text (a cache)
	// and img not bound to its row since: a name the plugin must not
	// write, not knowing whether the row still holds it.
	Decoded func(img any) bool
	// Cached returns what the plugin recorded with Cache for img's current
	// source, or nil.
	Cached func(img any) any
	// Cache records, for img's current source, the thumbnails known to exist
	// (a value only the plugin interprets); a later change of source forgets
	// them.
	Cache func(img any, known any)
	// SetFocus records the focal point of img's row, a field.Focus, for the
	// sizes made later (on first access).
	SetFocus func(img any, focus any)
	// FocusOf returns what SetFocus recorded for img, a field.Focus.
	FocusOf func(img any) any
	// Discard records that the files stored for img's upload were deleted
	// because the save failed or rolled back: img names nothing and refuses
	// to be written.
	Discard func(img any)
	// Discarded reports whether Discard was called for img's upload (and
	// no source stored or loaded since).
	Discarded func(img any) bool
)
