package thumbnails

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// ErrUnknownTable is the error of a statement that writes image columns
// into a table given by db.Table as an expression whose table cannot be
// told (a subquery, or placeholders): the plugin must know which table
// holds a row to check, before deleting a source, that no row still holds
// it.
var ErrUnknownTable = errors.New("thumbnails: cannot tell which table db.Table names")

// writtenTables records the tables, other than their models' own, that
// statements wrote image columns into (db.Table("foods_archive") with a
// Food): the clean-up checks them too before it deletes a source.
type writtenTables struct {
	m sync.Map // tableColumn -> struct{}
}

// note records that column name of table holds images.
func (w *writtenTables) note(table, name string) {
	w.m.LoadOrStore(tableColumn{table, name}, struct{}{})
}

// each calls fn with every recorded column.
func (w *writtenTables) each(fn func(tableColumn)) {
	w.m.Range(func(k, _ any) bool {
		fn(k.(tableColumn))
		return true
	})
}

// statementTable returns the table that the statement on db reads or
// writes for model m: the model's own, or the one db.Table names
// ("foods_2024", "archive.foods", "foods_2024 AS f"). It fails with
// ErrUnknownTable for an expression it cannot read a table name from.
func statementTable(db *gorm.DB, m *model) (string, error) {
	expr := db.Statement.TableExpr
	if expr == nil {
		if db.Statement.Table != "" {
			return db.Statement.Table, nil
		}
		return m.schema.Table, nil
	}
	if len(expr.Vars) == 1 && strings.TrimSpace(expr.SQL) == "?" {
		if t, ok := expr.Vars[0].(clause.Table); ok && t.Name != "" && !t.Raw {
			return t.Name, nil // db.Table("?", clause.Table{Name: "foods_2024"})
		}
	}
	sql := strings.TrimSpace(expr.SQL)
	if i := strings.IndexAny(sql, " \t\r\n"); i >= 0 {
		sql = sql[:i] // "foods_2024 AS f", "foods_2024 f"
	}
	parts := strings.Split(sql, ".")
	for i, part := range parts {
		if n := len(part); n >= 2 && (part[0] == '"' && part[n-1] == '"' || part[0] == '`' && part[n-1] == '`') {
			part = part[1 : n-1]
		}
		if !identifier(part) {
			return "", fmt.Errorf("%w: %q", ErrUnknownTable, expr.SQL)
		}
		parts[i] = part
	}
	if len(expr.Vars) > 0 || len(parts) > 2 {
		return "", fmt.Errorf("%w: %q", ErrUnknownTable, expr.SQL)
	}
	return strings.Join(parts, "."), nil
}

// identifier reports whether s is a plain SQL identifier: letters, digits,
// "_" and "$", not starting with a digit.
func identifier(s string) bool {
	if s == "" || '0' <= s[0] && s[0] <= '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '$') {
			return false
		}
	}
	return true
}

// noteTable records the table the statement on db writes m's columns
// into, when db.Table names another than m's own, and returns it.
func (p *plugin) noteTable(db *gorm.DB, m *model) (string, error) {
	table, err := statementTable(db, m)
	if err != nil {
		return "", err
	}
	if table != m.schema.Table {
		for _, c := range m.columns {
			p.tables.note(table, c.name)
		}
	}
	return table, nil
}
