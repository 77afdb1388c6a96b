package main

import (
	"errors"
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
	lower := strings.ToLower(dsn)
	if strings.HasPrefix(lower, "postgres://") || strings.HasPrefix(lower, "postgresql://") {
		scheme, rest, _ := strings.Cut(dsn, "://")
		return postgres.Open(strings.ToLower(scheme) + "://" + rest), nil // pgx takes the scheme in lower case only
	}
	if strings.Contains(dsn, "://") {
		// not a SQLite file (and printed without its password)
		return nil, usagef("--dsn %s: want a postgres:// URL or a SQLite file", redactedURL(strings.TrimSpace(dsn)))
	}
	file, query, _ := strings.Cut(dsn, "?")
	file = strings.TrimPrefix(file, "file:")
	if keywordDSN(file) {
		// not printed: it may hold a password
		return nil, usagef("--dsn: a PostgreSQL DSN is a postgres:// URL (postgres://user:password@host/db), not host=... keywords")
	}
	params, err := url.ParseQuery(query)
	if err != nil {
		// the query only: it may hold a password (_auth_pass)
		return nil, fmt.Errorf("--dsn %q: its query: %w", file, err)
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

// keywordDSN reports whether file, a --dsn without its query, is a
// PostgreSQL DSN of keyword=value pairs ("host=localhost user=app ...").
func keywordDSN(file string) bool {
	for _, k := range []string{"host=", "user=", "password=", "dbname=", "sslmode="} {
		if strings.HasPrefix(file, k) || strings.Contains(file, " "+k) {
			return true
		}
	}
	return false
}

// redactedURL returns the URL s with the password of its user info
// replaced, as url.URL.Redacted does, also when s does not parse, and the
// value of a password parameter of its query too.
func redactedURL(s string) string {
	if u, err := url.Parse(s); err == nil {
		u.RawQuery = redactedQuery(u.RawQuery)
		return u.Redacted()
	}
	s, query, hasQuery := strings.Cut(s, "?")
	if scheme, rest, ok := strings.Cut(s, "://"); ok {
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			user, _, _ := strings.Cut(rest[:at], ":")
			s = scheme + "://" + user + ":xxxxx" + rest[at:]
		}
	}
	if hasQuery {
		s += "?" + redactedQuery(query)
	}
	return s
}

// redactedQuery returns the raw query q with the value of every parameter
// whose name holds "pass" (password, _auth_pass) replaced.
func redactedQuery(q string) string {
	params := strings.Split(q, "&")
	for i, p := range params {
		if name, _, ok := strings.Cut(p, "="); ok && strings.Contains(strings.ToLower(name), "pass") {
			params[i] = name + "=xxxxx"
		}
	}
	return strings.Join(params, "&")
}

// redactedRedis returns a --redis value without its password: a URL as
// redactedURL does, and a host:port with everything before its last "@"
// replaced (a user and password there are refused, but the message that
// refuses them prints the value).
func redactedRedis(s string) string {
	if strings.Contains(s, "://") {
		return redactedURL(s)
	}
	if at := strings.LastIndex(s, "@"); at >= 0 {
		return "xxxxx" + s[at:]
	}
	return s
}

// withoutURL returns err without the URL a *url.Error quotes (a password
// with it).
func withoutURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
