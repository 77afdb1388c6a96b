package backends

import (
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// PlaceholderSize is the reserved size under which a Metadata records the
// placeholder of a source: a tiny preview shown while a thumbnail loads.
// No configured size can have this name (size names are letters, digits,
// '_' and '-'), so the record travels with the thumbnails of its source —
// through Thumbnails, ThumbnailsOf (one round trip for Preload), Each and
// Put — in every Metadata, including one written outside this module.
//
// The placeholder record is not a file: its Name is the placeholder itself,
// a data: URI of a few hundred bytes, and its Width and Height are those of
// that tiny image. Code that treats records as files skips it (IsFile).
const PlaceholderSize = "@placeholder"

// PlaceholdersTable is where the database metadata backend keeps
// placeholders, one row per source; a migration of package migrations
// creates it.
const PlaceholdersTable = "thumbnails_placeholders"

// IsFile reports whether the record names a stored file: every record but
// a placeholder's.
func (t Thumbnail) IsFile() bool { return t.Size != PlaceholderSize }

// placeholderRow is a row of PlaceholdersTable.
type placeholderRow struct {
	Source    string    `gorm:"column:source"`
	Data      string    `gorm:"column:data"`
	Width     int       `gorm:"column:width"`
	Height    int       `gorm:"column:height"`
	CreatedAt time.Time `gorm:"column:created_at"`
}

// putPlaceholder records t, the placeholder of source, in db (inside Put's
// transaction, after the source's row).
func putPlaceholder(db *gorm.DB, source string, t Thumbnail, now time.Time) error {
	row := placeholderRow{Source: source, Data: t.Name, Width: t.Width, Height: t.Height, CreatedAt: t.createdAt(now)}
	err := db.Table(PlaceholdersTable).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "source"}},
		DoUpdates: clause.AssignmentColumns([]string{"data", "width", "height", "created_at"}),
	}).Create(&row).Error
	if err != nil {
		return fmt.Errorf("backends: record placeholder of %q: %w", source, err)
	}
	return nil
}
