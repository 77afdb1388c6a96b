package backends

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Table names of the database metadata backend. They are created by the
// versioned migrations of package migrations.
const (
	SourcesTable    = "thumbnails_sources"
	ThumbnailsTable = "thumbnails_thumbnails"
)

type sourceRow struct {
	ID        int64
	Name      string
	CreatedAt time.Time
}

type thumbnailRow struct {
	ID        int64
	Source    string
	Size      string
	Name      string
	Width     int
	Height    int
	CreatedAt time.Time
}

// databaseMetadata keeps metadata in two tables of a gorm database.
type databaseMetadata struct {
	db *gorm.DB
}

// NewDatabaseMetadata returns the Metadata that keeps its records in the
// tables thumbnails_sources and thumbnails_thumbnails of db. The tables must
// exist: the plugin creates them with migrations.Apply when it is
// initialised. It is the default when thumbnails.Config.Metadata is nil.
func NewDatabaseMetadata(db *gorm.DB) TxMetadata {
	return &databaseMetadata{db: db}
}

func (m *databaseMetadata) WithDB(db *gorm.DB) Metadata {
	return &databaseMetadata{db: db}
}

// session returns a fresh statement on the bound connection (and
// transaction, if any), carrying ctx.
func (m *databaseMetadata) session(ctx context.Context) *gorm.DB {
	return m.db.Session(&gorm.Session{NewDB: true, Context: ctx})
}

func (m *databaseMetadata) Thumbnails(ctx context.Context, source string) (map[string]Thumbnail, error) {
	var rows []thumbnailRow
	err := m.session(ctx).Table(ThumbnailsTable).Where("source = ?", source).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("backends: read thumbnails of %q: %w", source, err)
	}
	out := make(map[string]Thumbnail, len(rows))
	for _, r := range rows {
		out[r.Size] = r.thumbnail()
	}
	return out, nil
}

// maxParams is the largest number of bind parameters a dialect takes in one
// statement (SQLite's SQLITE_MAX_VARIABLE_NUMBER, PostgreSQL's protocol limit).
func maxParams(db *gorm.DB) int {
	if name := db.Dialector.Name(); name == "postgres" || name == "pgx" {
		return 65535
	}
	return 32766
}

func (m *databaseMetadata) ThumbnailsOf(ctx context.Context, sources []string) (map[string]map[string]Thumbnail, error) {
	out := make(map[string]map[string]Thumbnail)
	db := m.session(ctx)
	chunk := maxParams(db)
	for len(sources) > 0 {
		n := min(chunk, len(sources))
		var rows []thumbnailRow
		if err := db.Table(ThumbnailsTable).Where("source IN ?", sources[:n]).Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("backends: read thumbnails of %d sources: %w", n, err)
		}
		for _, r := range rows {
			if out[r.Source] == nil {
				out[r.Source] = make(map[string]Thumbnail)
			}
			out[r.Source][r.Size] = r.thumbnail()
		}
		sources = sources[n:]
	}
	return out, nil
}

func (r thumbnailRow) thumbnail() Thumbnail {
	return Thumbnail{Source: r.Source, Size: r.Size, Name: r.Name, Width: r.Width, Height: r.Height, CreatedAt: r.CreatedAt}
}

// Put runs in a transaction (a savepoint inside the caller's) that keeps the
// source's row locked, so that concurrent Puts of one source run one after
// the other. Without it, two processes recording the same thumbnail at once
// fail on PostgreSQL: ON CONFLICT (source, size) resolves only that
// constraint, and the second insert violates the unique name instead.
func (m *databaseMetadata) Put(ctx context.Context, source string, thumbs ...Thumbnail) error {
	return m.session(ctx).Transaction(func(db *gorm.DB) error {
		now := time.Now().UTC()
		src := sourceRow{Name: source, CreatedAt: now}
		err := db.Table(SourcesTable).Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "name"}},
			DoUpdates: clause.AssignmentColumns([]string{"name"}), // a no-op that locks the row
		}).Create(&src).Error
		if err != nil {
			return fmt.Errorf("backends: record source %q: %w", source, err)
		}
		if len(thumbs) == 0 {
			return nil
		}
		rows := make([]thumbnailRow, len(thumbs))
		for i, t := range thumbs {
			rows[i] = thumbnailRow{Source: source, Size: t.Size, Name: t.Name, Width: t.Width, Height: t.Height, CreatedAt: now}
		}
		err = db.Table(ThumbnailsTable).Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "source"}, {Name: "size"}},
			DoUpdates: clause.AssignmentColumns([]string{"name", "width", "height", "created_at"}),
		}).Create(&rows).Error
		if err != nil {
			return fmt.Errorf("backends: record thumbnails of %q: %w", source, err)
		}
		return nil
	})
}

func (m *databaseMetadata) Delete(ctx context.Context, source string) error {
	db := m.session(ctx)
	if err := db.Table(ThumbnailsTable).Where("source = ?", source).Delete(&thumbnailRow{}).Error; err != nil {
		return fmt.Errorf("backends: delete thumbnails of %q: %w", source, err)
	}
	if err := db.Table(SourcesTable).Where("name = ?", source).Delete(&sourceRow{}).Error; err != nil {
		return fmt.Errorf("backends: delete source %q: %w", source, err)
	}
	return nil
}
