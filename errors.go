package thumbnails

import "errors"

// Sentinel errors of the plugin. The errors it makes itself wrap one of
// these, one of package backends or one of package migrations with %w, so
// callers tell cases apart with errors.Is; errors of the database, the
// storage or the metadata store come back as they are, or wrapped with
// what was being done.
var (
	// ErrInvalidImage is returned when an upload is not a JPEG, PNG, GIF or WebP
	// image that decodes; nothing is stored.
	ErrInvalidImage = errors.New("thumbnails: invalid image")
	// ErrImageTooLarge is returned when an upload is over a configured limit
	// (its pixels are never allocated), or when a size would make an image
	// over the pixel limit or too large for its output format; nothing is
	// stored.
	ErrImageTooLarge = errors.New("thumbnails: image too large")
	// ErrUnknownSize is returned for a size that is not configured, or that a
	// column's tag does not list.
	ErrUnknownSize = errors.New("thumbnails: unknown size")
	// ErrNoSource is returned when asking an empty column for a thumbnail of
	// a size that has no fallback URL.
	ErrNoSource = errors.New("thumbnails: column has no source image")
	// ErrInvalidConfig is returned by Config.Validate and by the plugin's
	// Initialize for an unusable configuration; by the first statement on a
	// model whose column tag is malformed (a tag that names a size which is
	// not configured fails with ErrUnknownSize); and by Regenerate,
	// DeleteSize, Prune and Bind for a model, Table, column or destination
	// they cannot work on.
	ErrInvalidConfig = errors.New("thumbnails: invalid configuration")
)
