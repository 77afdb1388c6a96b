package main

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/gorm-thumbnails/thumbnails"
)

// shellWord returns s as one word of a shell command line: as it is when it
// has only characters that need no quoting, else in single quotes.
func shellWord(s string) string {
	safe := s != "" && !strings.ContainsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.:/+@%,=", r))
	})
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// keyParser returns the function that converts a primary key given on the
// command line to a value of table's column pk: an integer for an integer
// column, so that it compares as a number on every database (SQLite would
// compare the string "2" with no integer), and the string as it is for any
// other type (a text key "00002" stays "00002"). It refuses a column that
// does not name one row (see uniqueKey).
func keyParser(db *gorm.DB, table, pk string) (func(string) (any, error), error) {
	cols, err := columnTypes(db, table)
	if err != nil {
		return nil, err
	}
	fold := foldsNames(db)
	parse, err := keyParserOf(cols, table, pk, fold)
	if err != nil {
		return nil, err
	}
	if _, err := uniqueKey(db, table, pk, column(cols, pk, fold).Name(), fold); err != nil {
		return nil, err
	}
	return parse, nil
}

// uniqueKey refuses a --pk column that does not name one row: it must be
// the table's primary key, of that column alone, or have a unique
// constraint or unique index of its own (neither partial nor on an
// expression). Rows that share a value would be skipped by the --after an
// interrupted run prints, and would all be one --ids or --id. It returns
// whether the column is the primary key; pk is --pk, name the column's
// name as the database has it, fold as for column. A view has no keys to
// tell: its --pk is taken at the operator's word.
func uniqueKey(db *gorm.DB, table, pk, name string, fold bool) (primary bool, err error) {
	var unique bool
	if db.Dialector.Name() == "postgres" {
		unique, primary, err = uniquePostgres(db, table, name)
	} else {
		unique, primary, err = uniqueSQLite(db, table, name, fold)
	}
	if err == nil && !unique {
		unique, err = isView(db, table)
	}
	if err != nil {
		return false, fmt.Errorf("--pk %q: read the keys of %s: %w", pk, table, err)
	}
	if !unique {
		return false, fmt.Errorf("--pk %q: %s.%s is neither the primary key of %s nor unique, so that a value of it may name several rows: give the primary key, or a column with a unique constraint or index", pk, table, name, table)
	}
	return primary, nil
}

// uniquePostgres is uniqueKey's check on PostgreSQL: the primary key and
// the unique constraints are unique indexes too. The table is resolved as
// the commands' queries resolve it (search_path, or the schema given).
func uniquePostgres(db *gorm.DB, table, name string) (unique, primary bool, err error) {
	var primaries []bool
	err = db.Raw(`SELECT i.indisprimary FROM pg_catalog.pg_index i
		JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
		WHERE i.indrelid = to_regclass(?) AND i.indisunique AND i.indisvalid AND i.indnkeyatts = 1
		AND i.indpred IS NULL AND i.indexprs IS NULL AND a.attname = ?`,
		db.Statement.Quote(clause.Table{Name: table}), name).Scan(&primaries).Error
	return len(primaries) > 0, slices.Contains(primaries, true), err
}

// uniqueSQLite is uniqueKey's check on SQLite, from its pragmas: the
// primary key (an INTEGER PRIMARY KEY has no index), then the unique
// indexes, which its UNIQUE and PRIMARY KEY constraints make too. A table
// "schema.name" is name in that attached schema.
func uniqueSQLite(db *gorm.DB, table, name string, fold bool) (unique, primary bool, err error) {
	same := func(s string) bool { return s == name || fold && strings.EqualFold(s, name) }
	schema, tbl, qualified := strings.Cut(table, ".")
	if !qualified {
		schema, tbl = "main", table
		// a temporary table of that name would come first, but the
		// command's connection has none
	}
	var keys []string
	err = db.Raw("SELECT name FROM pragma_table_info(?, ?) WHERE pk > 0", tbl, schema).Scan(&keys).Error
	if err != nil {
		return false, false, err
	}
	if len(keys) == 1 && same(keys[0]) {
		return true, true, nil
	}
	var indexes []string
	err = db.Raw(`SELECT name FROM pragma_index_list(?, ?) WHERE "unique" AND NOT partial`, tbl, schema).Scan(&indexes).Error
	if err != nil {
		return false, false, err
	}
	for _, index := range indexes {
		var cols []sql.NullString // NULL: an expression
		if err := db.Raw("SELECT name FROM pragma_index_info(?, ?)", index, schema).Scan(&cols).Error; err != nil {
			return false, false, err
		}
		if len(cols) == 1 && cols[0].Valid && same(cols[0].String) {
			return true, false, nil
		}
	}
	return false, false, nil
}

// isView reports whether table is a view, which has no keys of its own.
func isView(db *gorm.DB, table string) (bool, error) {
	var kinds []string
	if db.Dialector.Name() == "postgres" {
		err := db.Raw("SELECT relkind::text FROM pg_catalog.pg_class WHERE oid = to_regclass(?)", db.Statement.Quote(clause.Table{Name: table})).Scan(&kinds).Error
		return len(kinds) == 1 && (kinds[0] == "v" || kinds[0] == "m"), err
	}
	schema, tbl, qualified := strings.Cut(table, ".")
	if !qualified {
		schema, tbl = "main", table
	}
	err := db.Raw("SELECT type FROM pragma_table_list WHERE schema = ? AND name = ?", schema, tbl).Scan(&kinds).Error
	return len(kinds) == 1 && kinds[0] == "view", err
}

// keysPresent refuses a unique --pk column (not the primary key) that is
// NULL in a row of table with an image in column: no --after or --ids can
// name that row, and a run in key order would not get past it.
func keysPresent(db *gorm.DB, table, pk, column string) error {
	var n int64
	err := db.Table("?", clause.Table{Name: table}).
		Where(clause.Expr{SQL: "? IS NULL", Vars: []any{clause.Column{Name: pk}}}).
		Where(clause.Neq{Column: clause.Column{Name: column}, Value: ""}).Count(&n).Error
	if err != nil {
		return fmt.Errorf("read %s.%s: %w", table, pk, err)
	}
	if n > 0 {
		rows := plural(int(n), "row")
		verb := "has"
		if n > 1 {
			verb = "have"
		}
		return fmt.Errorf("--pk %q: %s of %s with an image %s no value in %s (NULL), which no --after or --ids can name: give the primary key", pk, rows, table, verb, pk)
	}
	return nil
}

// columnTypes returns the columns of table, or an error when the database
// lacks it.
func columnTypes(db *gorm.DB, table string) ([]*sql.ColumnType, error) {
	// The columns of a query, not Migrator().ColumnTypes: that takes a
	// name with a space for a table and its alias.
	rows, err := db.Table("?", clause.Table{Name: table}).Limit(1).Rows()
	if err != nil {
		return nil, fmt.Errorf("read the columns of %s: %w", table, err)
	}
	cols, err := rows.ColumnTypes()
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("read the columns of %s: %w", table, err)
	}
	return cols, nil
}

// column returns the column of cols named name, or nil; in any case when
// fold is set (see foldsNames).
func column(cols []*sql.ColumnType, name string, fold bool) *sql.ColumnType {
	for _, c := range cols {
		if c.Name() == name || fold && strings.EqualFold(c.Name(), name) {
			return c
		}
	}
	return nil
}

// foldsNames reports whether db takes a column's name in any case: SQLite
// does, even quoted; PostgreSQL takes a quoted name (gorm quotes them all)
// as it is written.
func foldsNames(db *gorm.DB) bool { return db.Dialector.Name() == "sqlite" }

// keyParserOf is keyParser for the columns cols of table; fold is as for
// column.
func keyParserOf(cols []*sql.ColumnType, table, pk string, fold bool) (func(string) (any, error), error) {
	c := column(cols, pk, fold)
	if c == nil {
		// not a usage error: the table lacks it, as for --column
		return nil, fmt.Errorf("--pk %q: %s has no such column (or no such table)", pk, table)
	}
	if !integerType(c.DatabaseTypeName()) {
		return textKey, nil
	}
	return func(s string) (any, error) {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, usagef("primary key %q: %s.%s is an integer column", s, table, pk)
		}
		return n, nil
	}, nil
}

// parseKeys checks the table as checkTables does, and parses --ids (when
// withIDs) and --after (when not empty) as values of the --pk column.
func (g *globalFlags) parseKeys(ctx context.Context, ids string, withIDs bool, after string) ([]any, any, error) {
	parse, err := g.checkTables(ctx, true)
	if err != nil {
		return nil, nil, err
	}
	var keys []any
	if withIDs {
		if keys, err = primaryKeys(ids, parse); err != nil {
			return nil, nil, err
		}
	}
	var afterKey any
	if after != "" {
		if afterKey, err = parse(after); err != nil {
			return nil, nil, err
		}
	}
	return keys, afterKey, nil
}

// checkTables checks that --table exists and has the --column and --focus
// columns (and, when withPK, the --pk column, which must name one row (see
// uniqueKey and keysPresent), and whose key parser it then returns), and that each table of also exists and has its column. It
// reads the tables on a connection of its own that registers no plugin: a
// table or column refused creates nothing (the plugin would create its
// tables before it found them missing).
func (g *globalFlags) checkTables(ctx context.Context, withPK bool, also ...thumbnails.Table) (func(string) (any, error), error) {
	e, err := g.open(ctx, false, true) // creates nothing
	if err != nil {
		return nil, err
	}
	defer e.Close()
	fold := foldsNames(e.db)
	cols, err := columnTypes(e.db, g.table)
	if err != nil {
		return nil, err
	}
	for _, c := range []struct{ flag, name string }{{"column", g.column}, {"focus", g.focus}} {
		if c.name != "" && column(cols, c.name, fold) == nil {
			return nil, fmt.Errorf("--%s %q: %s has no such column", c.flag, c.name, g.table)
		}
	}
	var parse func(string) (any, error)
	if withPK {
		if parse, err = keyParserOf(cols, g.table, g.pk, fold); err != nil {
			return nil, err
		}
		name := column(cols, g.pk, fold).Name()
		primary, err := uniqueKey(e.db, g.table, g.pk, name, fold)
		if err != nil {
			return nil, err
		}
		if !primary {
			if err := keysPresent(e.db, g.table, name, column(cols, g.column, fold).Name()); err != nil {
				return nil, err
			}
		}
	}
	for _, t := range also {
		other, err := columnTypes(e.db, t.Name)
		if err != nil {
			return nil, fmt.Errorf("--also %q: %w", t.Name+"."+t.Column, err)
		}
		if column(other, t.Column, fold) == nil {
			return nil, fmt.Errorf("--also %q: %s has no such column", t.Name+"."+t.Column, t.Name)
		}
	}
	return parse, nil
}

// textKey is the key parser of a column that is not an integer one.
func textKey(s string) (any, error) { return s, nil }

// integerType reports whether a column's database type name is one of
// SQLite's or PostgreSQL's integer types.
func integerType(name string) bool {
	name = strings.ToUpper(strings.TrimSpace(name))
	if i := strings.IndexAny(name, " ("); i >= 0 {
		name = name[:i]
	}
	switch name {
	case "INT", "INTEGER", "BIGINT", "SMALLINT", "TINYINT", "MEDIUMINT", "INT2", "INT4", "INT8",
		"SERIAL", "BIGSERIAL", "SMALLSERIAL", "SERIAL4", "SERIAL8":
		return true
	}
	return false
}

// primaryKeys parses a comma-separated list of primary keys with parse; an
// empty element is an error.
func primaryKeys(list string, parse func(string) (any, error)) ([]any, error) {
	var out []any
	for _, s := range strings.Split(list, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			return nil, usagef("--ids %q: empty primary key", list)
		}
		k, err := parse(s)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, nil
}
