package thumbnails

import (
	"fmt"

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
	// Empty means "thumbnails".
	BaseDir string
	// Limits bound what an upload may be. The zero value means DefaultLimits.
	Limits Limits
}

// Limits bound the uploads the plugin accepts. They are checked from the
// image header, before any pixel is allocated.
type Limits struct {
	MaxBytes  int64 // size of the upload in bytes
	MaxPixels int64 // width × height
}

// DefaultLimits are used for a zero Config.Limits: 50 MiB and 50 megapixels.
var DefaultLimits = Limits{MaxBytes: 50 << 20, MaxPixels: 50_000_000}

// withDefaults returns c with every zero value replaced by its default.
func (c Config) withDefaults() Config {
	if c.Storage == nil {
		c.Storage = backends.NewFileSystemStorage(DefaultStorageRoot, DefaultBaseURL)
	}
	if c.BaseDir == "" {
		c.BaseDir = DefaultBaseDir
	}
	if c.Limits.MaxBytes == 0 {
		c.Limits.MaxBytes = DefaultLimits.MaxBytes
	}
	if c.Limits.MaxPixels == 0 {
		c.Limits.MaxPixels = DefaultLimits.MaxPixels
	}
	return c
}

// Validate reports whether c can be used, after defaults are applied. The
// error wraps ErrInvalidConfig.
func (c Config) Validate() error {
	c = c.withDefaults()
	if len(c.Sizes) == 0 {
		return fmt.Errorf("%w: no sizes configured", ErrInvalidConfig)
	}
	if err := c.Sizes.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	if _, err := backends.CleanName(c.BaseDir); err != nil {
		return fmt.Errorf("%w: BaseDir: %w", ErrInvalidConfig, err)
	}
	if c.Limits.MaxBytes < 0 || c.Limits.MaxPixels < 0 {
		return fmt.Errorf("%w: negative limit", ErrInvalidConfig)
	}
	return nil
}
