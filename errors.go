package thumbnails

import "errors"

// Sentinel errors of the plugin. Errors returned by it wrap one of these (or
// one of package backends) with %w, so callers tell cases apart with errors.Is.
var (
	// ErrInvalidImage is returned when an upload is not a JPEG, PNG, GIF or WebP
	// image that decodes; nothing is stored.
	ErrInvalidImage = errors.New("thumbnails: invalid image")
	// ErrImageTooLarge is returned when an upload is over a configured limit;
	// nothing is stored and its pixels are never allocated.
	ErrImageTooLarge = errors.New("thumbnails: image too large")
	// ErrUnknownSize is returned for a size that is not configured, or that a
	// column's tag does not list.
	ErrUnknownSize = errors.New("thumbnails: unknown size")
	// ErrNoSource is returned when asking an empty column for a thumbnail of
	// a size that has no fallback URL.
	ErrNoSource = errors.New("thumbnails: column has no source image")
	// ErrInvalidConfig is returned by Config.Validate and by the plugin's
	// Initialize for an unusable configuration or column tag.
	ErrInvalidConfig = errors.New("thumbnails: invalid configuration")
)
