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
	ID        int64     `gorm:"column:id"`
	Name      string    `gorm:"column:name"`
	CreatedAt time.Time `gorm:"column:created_at"`
}

type thumbnailRow struct {
	Source    string    `gorm:"column:source"`
	Size      string    `gorm:"column:size"`
	Name      string    `gorm:"column:name"`
	Width     int       `gorm:"column:width"`
	Height    int       `gorm:"column:height"`
	CreatedAt time.Time `gorm:"column:created_at"`
}

// databaseMetadata keeps metadata in two tables of a gorm database.
type databaseMetadata struct {
	db *gorm.DB
}

// NewDatabaseMetadata returns the Metadata that keeps its records in the
// tables thumbnails_sources, thumbnails_thumbnails and
// thumbnails_placeholders of db. The tables must exist: the plugin creates
// them with migrations.Apply when it is initialised. It is the default when
// thumbnails.Config.Metadata is nil.
//
// Thumbnails reads a source's records; ThumbnailsOf and ThumbnailsIn read
// the summaries that triggers keep of them in thumbnails_sources (one
// value a source, one row a batch), and leave CreatedAt zero.
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

// thumbnailsOfOne reads the records of one source, its placeholder
// included, in one query.
const thumbnailsOfOne = `SELECT source, size, name, width, height, created_at FROM ` + ThumbnailsTable + ` WHERE source = ?
UNION ALL SELECT source, '` + PlaceholderSize + `', data, width, height, created_at FROM ` + PlaceholdersTable + ` WHERE source = ?`

func (m *databaseMetadata) Thumbnails(ctx context.Context, source string) (map[string]Thumbnail, error) {
	var rows []thumbnailRow
	err := m.session(ctx).Raw(thumbnailsOfOne, source, source).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("backends: read thumbnails of %q: %w", source, err)
	}
	out := make(map[string]Thumbnail, len(rows))
	for _, r := range rows {
		out[r.Size] = r.thumbnail()
	}
	return out, nil
}

func (m *databaseMetadata) ThumbnailsOf(ctx context.Context, sources []string) (map[string][]Thumbnail, error) {
	recs, err := m.ThumbnailsIn(ctx, sources)
	if err != nil {
		return nil, err
	}
	return byIndex(sources, recs), nil
}

// ThumbnailsIn implements AlignedMetadata.
func (m *databaseMetadata) ThumbnailsIn(ctx context.Context, sources []string) ([][]Thumbnail, error) {
	if len(sources) == 0 {
		return [][]Thumbnail{}, nil
	}
	recs, err := summariesOf(m.session(ctx), sources)
	if err != nil {
		return nil, fmt.Errorf("backends: read thumbnails of %d sources: %w", len(sources), err)
	}
	return recs, nil
}

func (r thumbnailRow) thumbnail() Thumbnail {
	return Thumbnail(r)
}

// Put runs in a transaction (a savepoint inside the caller's) that keeps the
// source's row locked, so that concurrent Puts of one source run one after
// the other. Without it, two processes recording the same thumbnail at once
// fail on PostgreSQL: ON CONFLICT (source, size) resolves only that
// constraint, and the second insert violates the unique name instead. A
// size given twice is recorded once, as the last of them says (as Redis's
// HSET does): PostgreSQL fails an INSERT ... ON CONFLICT that names one
// row twice.
func (m *databaseMetadata) Put(ctx context.Context, source string, thumbs ...Thumbnail) error {
	thumbs = lastOfEachSize(thumbs)
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
		rows := make([]thumbnailRow, 0, len(thumbs))
		for _, t := range thumbs {
			if !t.IsFile() {
				if err := putPlaceholder(db, source, t, now); err != nil {
					return err
				}
				continue
			}
			rows = append(rows, thumbnailRow{Source: source, Size: t.Size, Name: t.Name, Width: t.Width, Height: t.Height, CreatedAt: t.createdAt(now)})
		}
		if len(rows) == 0 {
			return nil
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

// lastOfEachSize returns thumbs without those whose size a later one has.
func lastOfEachSize(thumbs []Thumbnail) []Thumbnail {
	last := make(map[string]int, len(thumbs))
	for i, t := range thumbs {
		last[t.Size] = i
	}
	if len(last) == len(thumbs) {
		return thumbs
	}
	out := make([]Thumbnail, 0, len(last))
	for i, t := range thumbs {
		if last[t.Size] == i {
			out = append(out, t)
		}
	}
	return out
}

// Delete and DeleteSize lock the source's row before they delete its
// records, as Put does: PostgreSQL's summary triggers lock it after a
// record's delete, and the delete of the source's row locks its records
// (ON DELETE CASCADE), so two of them locking in the other order (a
// clean-up and a lazy size's forget) deadlocked.
func (m *databaseMetadata) Delete(ctx context.Context, source string) error {
	return m.lockedSource(ctx, source, func(db *gorm.DB) error {
		if err := db.Table(ThumbnailsTable).Where("source = ?", source).Delete(&thumbnailRow{}).Error; err != nil {
			return fmt.Errorf("backends: delete thumbnails of %q: %w", source, err)
		}
		if err := db.Table(PlaceholdersTable).Where("source = ?", source).Delete(&placeholderRow{}).Error; err != nil {
			return fmt.Errorf("backends: delete placeholder of %q: %w", source, err)
		}
		if err := db.Table(SourcesTable).Where("name = ?", source).Delete(&sourceRow{}).Error; err != nil {
			return fmt.Errorf("backends: delete source %q: %w", source, err)
		}
		return nil
	})
}

func (m *databaseMetadata) DeleteSize(ctx context.Context, source, size string) error {
	return m.lockedSource(ctx, source, func(db *gorm.DB) error {
		var err error
		if size == PlaceholderSize {
			err = db.Table(PlaceholdersTable).Where("source = ?", source).Delete(&placeholderRow{}).Error
		} else {
			err = db.Table(ThumbnailsTable).Where("source = ? AND size = ?", source, size).Delete(&thumbnailRow{}).Error
		}
		if err != nil {
			return fmt.Errorf("backends: delete size %q of %q: %w", size, source, err)
		}
		return nil
	})
}

// lockedSource runs fn in a transaction (the bound one, if any) that has
// locked the row of source first, with a no-op update.
func (m *databaseMetadata) lockedSource(ctx context.Context, source string, fn func(db *gorm.DB) error) error {
	run := func(db *gorm.DB) error {
		if err := db.Exec("UPDATE "+SourcesTable+" SET name = name WHERE name = ?", source).Error; err != nil {
			return fmt.Errorf("backends: lock source %q: %w", source, err)
		}
		return fn(db)
	}
	db := m.session(ctx)
	if _, inTx := db.Statement.ConnPool.(gorm.TxCommitter); inTx {
		return run(db)
	}
	return db.Transaction(run)
}

// thumbnailsOfMany reads the records of many sources, placeholders
// included, with their CreatedAt (which the summaries do not keep).
const thumbnailsOfMany = `SELECT source, size, name, width, height, created_at FROM ` + ThumbnailsTable + ` WHERE source IN ?
UNION ALL SELECT source, '` + PlaceholderSize + `', data, width, height, created_at FROM ` + PlaceholdersTable + ` WHERE source IN ?`

// recordsOf reads the whole records of sources (at most eachBatch), by
// source: Each hands them on whole, so that a copy (MigrateMetadata) keeps
// when each was made.
func (m *databaseMetadata) recordsOf(ctx context.Context, sources []string) (map[string][]Thumbnail, error) {
	var rows []thumbnailRow
	if err := m.session(ctx).Raw(thumbnailsOfMany, sources, sources).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("backends: read thumbnails of %d sources: %w", len(sources), err)
	}
	out := make(map[string][]Thumbnail, len(sources))
	for _, r := range rows {
		out[r.Source] = append(out[r.Source], r.thumbnail())
	}
	return out, nil
}

// eachBatch is how many sources Each reads at a time.
const eachBatch = 500

func (m *databaseMetadata) Each(ctx context.Context, fn func(source string, thumbs []Thumbnail) error) error {
	after := ""
	for {
		var names []string
		err := m.session(ctx).Table(SourcesTable).Where("name > ?", after).Order("name").Limit(eachBatch).Pluck("name", &names).Error
		if err != nil {
			return fmt.Errorf("backends: list sources: %w", err)
		}
		if len(names) == 0 {
			return nil
		}
		thumbs, err := m.recordsOf(ctx, names)
		if err != nil {
			return err
		}
		for _, n := range names {
			if err := fn(n, thumbs[n]); err != nil {
				return err
			}
		}
		after = names[len(names)-1]
	}
}
