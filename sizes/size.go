package sizes

import (
	"strings"

	"github.com/disintegration/gift"
	"github.com/gorm-thumbnails/thumbnails/processors"
)

// DefaultQuality is the JPEG and WebP quality, from 1 to 100, of a Size whose Quality is 0.
const DefaultQuality = 85

// Size is one named thumbnail size.
type Size struct {
	// Name is the lower-case name of the size, set by Load, and by
	// Sizes.Validate from the map key when empty.
	Name string
	// Processors are the filters that make the thumbnail from the source image, applied in order.
	Processors []gift.Filter
	// PostProcessors run, in order, on the encoded thumbnail: optimizers such as optipng.
	PostProcessors []processors.PostProcessor
	// Format is "jpeg", "png", "gif", "webp", or "" to keep the source's format.
	// Load and Sizes.Validate accept "jpg" and any case, and normalise it.
	Format string
	// Quality is the JPEG or WebP quality from 1 to 100; 0 means DefaultQuality.
	Quality int
	// Lazy makes the thumbnail generated on first access instead of when the source is saved.
	Lazy bool
	// Async makes the thumbnail generated in the background after the save
	// commits, by a job the plugin's Config.Enqueuer queues in the row's own
	// transaction (see the riverjobs package). A size is lazy or async, not
	// both.
	Async bool
	// FallbackImageURL is the URL returned for this size when the column is
	// empty, and for an async size whose job has not run yet (whatever the
	// plugin's PendingPolicy).
	FallbackImageURL string
}

// JPEGQuality returns the JPEG quality to encode the size with: Quality, or
// DefaultQuality when Quality is not between 1 and 100.
func (s Size) JPEGQuality() int {
	if s.Quality >= 1 && s.Quality <= 100 {
		return s.Quality
	}
	return DefaultQuality
}

// normalizeFormat returns the canonical spelling of an output format, and
// whether it is one this package knows.
func normalizeFormat(f string) (string, bool) {
	switch f = strings.ToLower(strings.TrimSpace(f)); f {
	case "jpg":
		return "jpeg", true
	case "", "jpeg", "png", "gif", "webp":
		return f, true
	}
	return f, false
}
