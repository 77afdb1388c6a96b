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
// statements copied images into (db.Table("foods_archive").Create(&food)
// of a loaded Food): the clean-up checks them too before it deletes a
// source. A table that only got uploads of its own holds no other row's
// source, and costs the clean-up nothing.
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
	if len(expr.Vars) > 0 || len(parts) > 2 {
		return "", fmt.Errorf("%w: %q", ErrUnknownTable, expr.SQL)
	}
	for i, part := range parts {
		name, ok := tableNamePart(part, db.Dialector.Name() == "postgres")
		if !ok {
			return "", fmt.Errorf("%w: %q", ErrUnknownTable, expr.SQL)
		}
		parts[i] = name
	}
	return strings.Join(parts, "."), nil
}

// tableNamePart returns the name that part of a table expression (a table
// or schema name, quoted or not) stands for. An unquoted name is folded to
// lower case when fold is set, as PostgreSQL folds it. A part that holds
// what no name does (a parenthesis, a placeholder) is not one.
func tableNamePart(part string, fold bool) (string, bool) {
	if n := len(part); n >= 2 && (part[0] == '"' && part[n-1] == '"' || part[0] == '`' && part[n-1] == '`') {
		inner := part[1 : n-1]
		return inner, inner != "" && !strings.ContainsAny(inner, "\"`")
	}
	if part == "" || strings.ContainsAny(part, "\"`'()[],;?=") {
		return "", false
	}
	if fold {
		part = strings.ToLower(part)
	}
	return part, true
}
