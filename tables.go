package thumbnails

import (
	"errors"
	"fmt"
	"hash/maphash"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// ErrUnknownTable is the error of a statement that writes image columns
// into a table given by db.Table as an expression whose table cannot be
// told (a subquery, or placeholders): the plugin must know which table
// holds a row to check, before deleting a source, that no row still holds
// it.
var ErrUnknownTable = errors.New("thumbnails: cannot tell which table db.Table names")

// columnsTable records the image columns of tables other than their
// models' own that rows were copied into (migration 0004): the clean-up
// of every process checks them, after a restart too.
const columnsTable = "thumbnails_columns"

// columnRow is a row of columnsTable.
type columnRow struct {
	TableName  string `gorm:"column:table_name"`
	ColumnName string `gorm:"column:column_name"`
}

// copyTarget is the table other than the model's own that a statement
// copies images into, and the model's image columns.
type copyTarget struct {
	table   string
	columns []string
}

// recordTable records, in the statement's transaction, that the columns of
// target hold images copied from other rows.
func recordTable(db *gorm.DB, target copyTarget) error {
	rows := make([]columnRow, len(target.columns))
	for i, c := range target.columns {
		rows[i] = columnRow{TableName: target.table, ColumnName: c}
	}
	q := db.Session(&gorm.Session{NewDB: true}).Table(columnsTable).Clauses(clause.OnConflict{DoNothing: true})
	if err := q.Create(&rows).Error; err != nil {
		return fmt.Errorf("thumbnails: record %s as holding copied images: %w", target.table, err)
	}
	return nil
}

// copiedInto returns the columns recorded in columnsTable.
func copiedInto(db *gorm.DB) ([]tableColumn, error) {
	var rows []columnRow
	if err := db.Table(columnsTable).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("thumbnails: read %s: %w", columnsTable, err)
	}
	out := make([]tableColumn, len(rows))
	for i, r := range rows {
		out[i] = tableColumn{r.TableName, r.ColumnName}
	}
	return out, nil
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

// tableKey returns what tells, in the owner of an image (bridge.Owner),
// the table that the statement on db reads or writes m's rows in, when
// db.Table names another than m's own: a row of foods_archive is not the
// row of foods with the same key, and an image read from one and saved
// into the other is a copy. 0 for m's own table (its name in another case
// on SQLite, or under the default schema: "main.foods", "public.foods"),
// and for the rows of another model than the statement's (a joined
// association's, and a subquery's). A view is another table: a row read
// through it and saved through the model is not known for that row.
func tableKey(db *gorm.DB, m *model) uint64 {
	if db.Statement.TableExpr == nil || db.Statement.Schema != m.schema {
		return 0
	}
	table, err := statementTable(db, m)
	if err != nil || sameTable(db, table, m.schema.Table) {
		return 0 // a subquery, most likely of the model's table
	}
	return maphash.String(keySeed, table) | 1
}

// sameTable reports whether the table names a and b name the same table
// for the database of db: equal, or equal but for their case on SQLite and
// MySQL, or but for the default schema ("main" on SQLite, "public" on
// PostgreSQL).
func sameTable(db *gorm.DB, a, b string) bool {
	dialect := db.Dialector.Name()
	if dialect != "postgres" {
		a, b = strings.ToLower(a), strings.ToLower(b)
	}
	def := map[string]string{"postgres": "public.", "sqlite": "main."}[dialect]
	if def != "" {
		a, b = strings.TrimPrefix(a, def), strings.TrimPrefix(b, def)
	}
	return a == b
}
