package main

import (
	"fmt"
	"net/url"
	"os"
	"strings"

	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
)

// sqliteDefaults are added to a SQLite DSN that does not set them: regenerate
// writes from several workers at once, so a writer waits for the lock rather
// than failing with "database is locked", and takes it when its
// transaction begins (a deferred transaction that reads first cannot wait).
var sqliteDefaults = [][2]string{{"_busy_timeout", "5000"}, {"_txlock", "immediate"}}

// dialector returns the gorm dialector for dsn: PostgreSQL for a
// postgres:// or postgresql:// URL, SQLite for anything else. A SQLite file
// must exist: a typo must not create an empty database.
func dialector(dsn string) (gorm.Dialector, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return postgres.Open(dsn), nil
	}
	file, query, _ := strings.Cut(dsn, "?")
	file = strings.TrimPrefix(file, "file:")
	params, err := url.ParseQuery(query)
	if err != nil {
		return nil, fmt.Errorf("--dsn %q: %w", dsn, err)
	}
	if file != ":memory:" && params.Get("mode") != "memory" {
		info, err := os.Stat(file)
		if err != nil {
			return nil, fmt.Errorf("open database: %w", err)
		}
		if !info.Mode().IsRegular() {
			return nil, fmt.Errorf("open database: %s is not a file", file)
		}
	}
	sep := "?"
	if query != "" {
		sep = "&"
	}
	for _, kv := range sqliteDefaults {
		if !params.Has(kv[0]) {
			dsn += sep + kv[0] + "=" + kv[1]
			sep = "&"
		}
	}
	return sqlite.Open(dsn), nil
}
