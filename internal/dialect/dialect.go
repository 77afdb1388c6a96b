// Package dialect names the database of a *gorm.DB the way the plugin's
// code compares it: the names gorm dialectors give SQLite and PostgreSQL
// ("sqlite3" and "pgx" too) are "sqlite" and "postgres", so that no check
// of one is skipped for a dialector that spells it otherwise.
package dialect

import "gorm.io/gorm"

// The names Of returns for the supported databases.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// Of returns the name of db's database: SQLite, Postgres, or the
// dialector's own name for any other.
func Of(db *gorm.DB) string {
	switch name := db.Dialector.Name(); name {
	case "sqlite", "sqlite3":
		return SQLite
	case "postgres", "pgx":
		return Postgres
	default:
		return name
	}
}
