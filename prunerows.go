package thumbnails

import (
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/gorm-thumbnails/thumbnails/internal/dialect"
)

// Prune and the clean-up keep what rows hold: these read the names that
// the image columns hold.

// heldInColumns returns which of names a row holds in one of columns, a
// chunk of names a query. A column or table not there holds nothing:
// asking first keeps a transaction from failing on it.
func heldInColumns(db *gorm.DB, columns []tableColumn, names []string) (map[string]bool, error) {
	held := map[string]bool{}
	for _, c := range columns {
		ok, err := hasColumn(db, c)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		for chunk := range slices.Chunk(names, 500) {
			refs, err := referencesIn(db, c.table, c.name, chunk)
			if err != nil {
				return nil, err
			}
			maps.Copy(held, refs)
		}
	}
	return held, nil
}

// referencedByRows returns the names held by the image columns of models,
// soft-deleted rows included, and those of the columns recorded in
// thumbnails_columns; missing lists the recorded columns ("table.column")
// that are gone, whose rows were not read.
func (p *plugin) referencedByRows(db *gorm.DB, models []any) (out map[string]bool, missing []string, err error) {
	out = map[string]bool{}
	for _, model := range models {
		var cols []*target
		if _, ok := model.(Table); ok {
			tg, err := p.target(db, model, "")
			if err != nil {
				return nil, nil, err
			}
			cols = append(cols, tg)
		} else {
			m, err := p.modelFor(db, model)
			if err != nil {
				return nil, nil, err
			}
			for _, c := range m.columns {
				cols = append(cols, &target{table: m.schema.Table, col: c})
			}
		}
		for _, tg := range cols {
			if err := namesIn(db, tableColumn{tg.table, tg.col.name}, out); err != nil {
				if _, ok := model.(Table); ok {
					err = tg.missing(db.Statement.Context, db, err, false)
				}
				return nil, nil, err
			}
		}
	}
	// The tables that rows were copied into (db.Table) hold sources too.
	copied, err := copiedInto(db)
	if err != nil {
		return nil, nil, err
	}
	// A table dropped (or renamed) since holds nothing that can be read:
	// it is reported (see ErrMissingColumns). On PostgreSQL a failed query
	// would end the caller's transaction: ask first, where the query would
	// look (the search_path). SQLite's migrator compares names with their
	// case: query first.
	postgres := dialect.Of(db) == dialect.Postgres
	for _, c := range copied {
		if postgres {
			exists, err := hasColumn(db, c)
			if err != nil {
				return nil, nil, err
			}
			if !exists {
				missing = append(missing, c.table+"."+c.name)
				continue
			}
		}
		if err := namesIn(db, c, out); err != nil {
			if exists, herr := hasColumn(db, c); herr != nil || exists {
				return nil, nil, err
			}
			missing = append(missing, c.table+"."+c.name)
		}
	}
	return out, missing, nil
}

// namesIn adds to out the names that rows of c hold, soft-deleted rows
// included.
//
// On SQLite it reads the rows in chunks, in the order of their rowid: a
// query holds a read lock that keeps a writer (outside WAL mode) from
// committing until it ends, and one query over a large table would make
// the application's writes wait for the whole scan, or fail past their
// busy timeout. A table that has no rowid (WITHOUT ROWID, or a column
// named like it) is read in one query.
func namesIn(db *gorm.DB, c tableColumn, out map[string]bool) error {
	if dialect.Of(db) == dialect.SQLite {
		if done, err := namesInChunks(db, c, out); done || err != nil {
			return err
		}
	}
	// the raw table: soft-deleted rows still reference their images
	q := table(db, c.table).Clauses(clause.Select{Distinct: true, Columns: []clause.Column{{Name: c.name}}})
	err := scanRows(q, func(rows *sql.Rows) error {
		var n sql.NullString
		if err := rows.Scan(&n); err != nil {
			return err
		}
		addName(out, n)
		return nil
	})
	if err != nil {
		return fmt.Errorf("thumbnails: read %s.%s: %w", c.table, c.name, err)
	}
	return nil
}

// scanRows runs q, a query of table, and calls scan for each row. It reads
// through Rows, not Find into a slice: gorm takes the type of Find's
// destination for a model, and under a NamingStrategy whose TablePrefix
// names a schema ("app.") it queries the table it names after that type
// (app.null_strings) instead of q's.
func scanRows(q *gorm.DB, scan func(*sql.Rows) error) error {
	rows, err := q.Rows()
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// addName adds to out the clean form (see canonical) of n, a name a row
// holds, unless it is NULL or empty.
func addName(out map[string]bool, n sql.NullString) {
	if n.Valid && n.String != "" {
		out[canonical(n.String)] = true
	}
}

// namesInChunks is namesIn on SQLite, chunk by chunk; done is false when
// the table cannot be read so (it has no rowid of its own) and nothing
// was read.
func namesInChunks(db *gorm.DB, c tableColumn, out map[string]bool) (done bool, err error) {
	// The columns, from a query: Migrator().ColumnTypes leaves a table
	// name with a space unquoted.
	rows, err := table(db, c.table).Limit(0).Rows()
	if err != nil {
		return false, nil // the query in one goes on to say why
	}
	cols, err := rows.Columns()
	rows.Close()
	if err != nil || slices.ContainsFunc(cols, func(n string) bool { return strings.EqualFold(n, "_rowid_") }) {
		return false, nil
	}
	var last int64
	for first := true; ; first = false {
		q := table(db, c.table).Select("_rowid_, ?", clause.Column{Name: c.name})
		if !first { // the first chunk from the start: a rowid may be math.MinInt64
			q = q.Where("_rowid_ > ?", last)
		}
		n := 0
		err := scanRows(q.Order("_rowid_").Limit(namesInChunk), func(rows *sql.Rows) error {
			var name sql.NullString
			if err := rows.Scan(&last, &name); err != nil {
				return err
			}
			n++
			addName(out, name)
			return nil
		})
		if err != nil {
			if first && strings.Contains(err.Error(), "no such column: _rowid_") {
				return false, nil // WITHOUT ROWID
			}
			return true, fmt.Errorf("thumbnails: read %s.%s: %w", c.table, c.name, err)
		}
		if n < namesInChunk {
			return true, nil
		}
	}
}
