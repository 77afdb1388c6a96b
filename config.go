package thumbnails

import (
	"fmt"
	"image"
	"image/color"
	"os/exec"
	"slices"

	"github.com/gorm-thumbnails/thumbnails/backends"
	"github.com/gorm-thumbnails/thumbnails/sizes"
)

// Defaults used for the zero values of Config.
const (
	DefaultBaseDir     = "thumbnails"
	DefaultStorageRoot = "media"
	DefaultBaseURL     = "/media/"
)

// Config configures the plugin. Only Sizes is required.
type Config struct {
	// Sizes are the named thumbnail sizes; a column's tag picks among them.
	Sizes sizes.Sizes
	// Storage holds sources and thumbnails. Nil means
	// backends.NewFileSystemStorage("media", "/media/").
	Storage backends.Storage
	// Metadata records the thumbnails of each source. Nil means the database
	// backend on the *gorm.DB the plugin is used with, whose tables the
	// plugin migrates in Initialize.
	Metadata backends.Metadata
	// BaseDir is the storage folder of thumbnails: a thumbnail of
	// "foods/ab12.jpg" in size "small" is "<BaseDir>/foods/ab12_small.jpg".
	// Empty means "thumbnails". Thumbnails keep the names they were
	// recorded with: after a change, run Regenerate (or the command's
	// regenerate), which makes them again under the new folder and deletes
	// the old files; until then Handler, which tells a thumbnail by this
	// prefix, takes the old ones for sources.
	BaseDir string
	// Limits bound what an upload may be. Each zero field takes its value
	// from DefaultLimits; a limit cannot be turned off.
	Limits Limits
	// Background is what a transparent image is flattened onto when a size
	// is stored as JPEG, which has no transparency. Nil means white. The
	// command's regenerate takes it as --background.
	Background color.Color
	// Enqueuer queues the background generation of async sizes, in the
	// transaction that saves the row (see package riverjobs). It is
	// required when a size is async, and unused otherwise.
	Enqueuer Enqueuer
	// OnPending says what Thumbnail returns for an async size whose job has
	// not run yet and that has no fallback URL: the zero value,
	// PendingGenerate, generates it on demand.
	OnPending PendingPolicy
	// Placeholders records for each saved source a tiny preview (a PNG
	// data: URI of a few hundred bytes, 12 pixels on its longer side) that
	// a page shows while a thumbnail loads; see field.Image.Placeholder.
	// Off by default.
	Placeholders bool
	// SigningKey is the HMAC-SHA256 key of the URLs field.Image.SignedURL
	// makes, with which Handler generates a thumbnail that does not exist
	// yet on its first request. Nil disables on-demand generation; a key
	// must have at least MinSigningKeyLen bytes (32 random bytes are best).
	SigningKey []byte
}

// Limits bound the uploads the plugin accepts. They are checked before any
// pixel is allocated: the byte size as the upload is read (at once when the
// reader knows its length), the dimensions and format from the image header,
// and the frames of a GIF by walking its blocks.
type Limits struct {
	MaxBytes  int64    // size of the upload in bytes
	MaxPixels int64    // width × height, of the image and of any GIF frame (a size may make images up to the larger of this and DefaultLimits.MaxPixels)
	MaxFrames int      // frames of an animated GIF
	MaxScans  int      // scans of a JPEG (a progressive one has several, each a pass over the image); a large one, fewer: scans × pixels at most 20 × MaxPixels
	Formats   []string // accepted formats, as image.DecodeConfig names them: "jpeg", "png", "gif", "webp"
}

// DefaultLimits are used for the zero fields of Config.Limits: 50 MiB, 50
// megapixels, 100 GIF frames, 100 JPEG scans (encoders write about ten; 20
// for a JPEG of 50 megapixels), JPEG, PNG, GIF and WebP.
var DefaultLimits = Limits{MaxBytes: 50 << 20, MaxPixels: 50_000_000, MaxFrames: 100, MaxScans: 100, Formats: []string{formatJPEG, formatPNG, formatGIF, formatWebP}}

// allows reports whether format is among l.Formats.
func (l Limits) allows(format string) bool {
	return slices.Contains(l.Formats, format)
}

// withDefaults returns c with every zero value replaced by its default.
func (c Config) withDefaults() Config {
	if c.Storage == nil {
		c.Storage = backends.NewFileSystemStorage(DefaultStorageRoot, DefaultBaseURL)
	}
	if c.BaseDir == "" {
		c.BaseDir = DefaultBaseDir
	}
	// Thumbnail names are joined (and so cleaned) with it, and the handler
	// tells a thumbnail by its prefix: both need its clean form ("thumbs/"
	// and "./thumbs" are "thumbs"). Validate refuses what does not clean.
	if clean, err := backends.CleanName(c.BaseDir); err == nil {
		c.BaseDir = clean
	}
	if c.Background == nil {
		c.Background = color.White
	}
	if c.Limits.MaxBytes == 0 {
		c.Limits.MaxBytes = DefaultLimits.MaxBytes
	}
	if c.Limits.MaxPixels == 0 {
		c.Limits.MaxPixels = DefaultLimits.MaxPixels
	}
	if c.Limits.MaxFrames == 0 {
		c.Limits.MaxFrames = DefaultLimits.MaxFrames
	}
	if c.Limits.MaxScans == 0 {
		c.Limits.MaxScans = DefaultLimits.MaxScans
	}
	if len(c.Limits.Formats) == 0 {
		c.Limits.Formats = DefaultLimits.Formats
	}
	return c
}

// Validate reports whether c can be used, after defaults are applied: there
// are sizes and they are valid (sizes.Sizes.Validate); every program a
// post-processor runs is found on the PATH; no size always makes images
// over the larger of Limits.MaxPixels and DefaultLimits.MaxPixels, or too
// wide or tall for its output format (JPEG and GIF 65,535 pixels a side,
// WebP 16,383); an async size has an
// Enqueuer; OnPending is one of the PendingPolicy values; SigningKey, when
// set, has at least MinSigningKeyLen bytes; BaseDir is a relative,
// slash-separated folder name that backends.CleanName accepts (no ".."
// segment) and none of whose segments, once cleaned, starts with "." (the
// plugin uses it cleaned: "thumbs/", "./thumbs" and "a//b" are accepted, as
// "thumbs" and "a/b"); no limit is negative and Limits.Formats names only
// jpeg, png, gif or webp. The error wraps ErrInvalidConfig.
func (c Config) Validate() error {
	c = c.withDefaults()
	if len(c.Sizes) == 0 {
		return fmt.Errorf("%w: no sizes configured", ErrInvalidConfig)
	}
	if err := c.Sizes.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	for _, name := range c.Sizes.Names() {
		for _, pp := range c.Sizes[name].PostProcessors {
			for _, program := range pp.Commands() {
				if _, err := exec.LookPath(program); err != nil {
					return fmt.Errorf("%w: size %q: post-processor program %q: %w", ErrInvalidConfig, name, program, err)
				}
			}
		}
	}
	for _, name := range c.Sizes.Names() {
		if err := checkFixedSize(c.Sizes[name], c.Limits.sizePixels()); err != nil {
			return fmt.Errorf("%w: size %q: %w", ErrInvalidConfig, name, err)
		}
	}
	if c.Enqueuer == nil {
		for _, name := range c.Sizes.Names() {
			if c.Sizes[name].Async {
				return fmt.Errorf("%w: size %q is async, but Config.Enqueuer is nil (see package riverjobs)", ErrInvalidConfig, name)
			}
		}
	}
	if c.OnPending != PendingGenerate && c.OnPending != PendingError {
		return fmt.Errorf("%w: OnPending %d is not PendingGenerate or PendingError", ErrInvalidConfig, c.OnPending)
	}
	if c.SigningKey != nil && len(c.SigningKey) < MinSigningKeyLen {
		return fmt.Errorf("%w: SigningKey has %d bytes, want at least %d", ErrInvalidConfig, len(c.SigningKey), MinSigningKeyLen)
	}
	if _, err := backends.CleanName(c.BaseDir); err != nil {
		return fmt.Errorf("%w: BaseDir: %w", ErrInvalidConfig, err)
	}
	if err := hiddenFolder(c.BaseDir); err != nil {
		return fmt.Errorf("%w: BaseDir: %w", ErrInvalidConfig, err)
	}
	if c.Limits.MaxBytes < 0 || c.Limits.MaxPixels < 0 || c.Limits.MaxFrames < 0 || c.Limits.MaxScans < 0 {
		return fmt.Errorf("%w: negative limit", ErrInvalidConfig)
	}
	for _, f := range c.Limits.Formats {
		if _, ok := extensions[f]; !ok {
			return fmt.Errorf("%w: Limits.Formats: unknown format %q (want jpeg, png, gif or webp)", ErrInvalidConfig, f)
		}
	}
	return nil
}

// checkFixedSize refuses a size whose images have the same dimensions
// whatever the source (a stretch or a pad to pixels), when they are over
// limit pixels, or too wide or tall for its format (see formatFits): what
// every save would refuse, refused once, here.
func checkFixedSize(sz sizes.Size, limit int64) error {
	var out image.Rectangle
	for i, probe := range []image.Rectangle{image.Rect(0, 0, 1, 1), image.Rect(0, 0, 4000, 3000), image.Rect(0, 0, 3000, 4000)} {
		b := probe
		for _, f := range sz.Processors {
			b = f.Bounds(b)
		}
		if i > 0 && b.Size() != out.Size() {
			return nil // depends on the source: checked at each save
		}
		out = b
	}
	w, h := out.Dx(), out.Dy()
	if int64(w)*int64(h) > limit {
		return fmt.Errorf("it makes images of %dx%d, over %d pixels", w, h, limit)
	}
	return formatFits(sz.Format, w, h) // sz as Sizes.Validate spells it
}
