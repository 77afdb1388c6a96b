package main

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
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
		if err := unescapedUserinfo(dsn, "@/"); err != nil {
			return nil, usagef("--dsn %s: %w", redactedURL(dsn), err)
		}
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
// replaced, as url.URL.Redacted does, and the value of a password parameter
// of its query too, whether or not s parses. Its user info is the one
// userinfoAt finds, before anything else is read: a password may hold an
// unescaped "@", "/", "?" or "#", and then all of it is replaced, the user
// with it.
func redactedURL(s string) string {
	rest, at := userinfoAt(s)
	prefix := s[:len(s)-len(rest)]
	if at >= 0 {
		user, _, hasPassword := strings.Cut(rest[:at], ":")
		switch {
		case strings.ContainsAny(rest[:at], "@/?#"):
			prefix += "xxxxx@"
		case hasPassword:
			prefix += user + ":xxxxx@"
		default: // a user alone
			prefix += rest[:at+1]
		}
		rest = rest[at+1:]
	}
	if base, query, ok := strings.Cut(rest, "?"); ok {
		rest = base + "?" + redactedQuery(query)
	}
	return prefix + rest
}

// errUserinfo refuses a URL whose user or password cannot be read as it was
// meant, for a character it should have percent-encoded.
var errUserinfo = errors.New(`percent-encode its user and password ("%" as %25, "@" as %40, "/" as %2F, "?" as %3F, "#" as %23), and an "@" after its host outside a query value`)

// userinfoAt returns rest, the URL s after its "://" (all of s without
// one), and the index in rest of the "@" that ends the user info of s, or
// -1 when it has none. That is the last "@" before its first "/", "?" or
// "#" when s parses and every "@" after that is in the value of a query
// parameter (application_name=ops@host, an Azure-style user=admin@server),
// which no parser reads as user info; else the last "@" of rest, as a
// password may hold an unescaped "@", "/", "?" or "#".
func userinfoAt(s string) (rest string, at int) {
	_, rest, ok := strings.Cut(s, "://")
	if !ok {
		return s, strings.LastIndex(s, "@")
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	if n, ok := queryValueAts(s); ok && n == strings.Count(rest[end:], "@") {
		return rest, strings.LastIndex(rest[:end], "@")
	}
	return rest, strings.LastIndex(rest, "@")
}

// queryValueAts returns the number of "@" in the values of the query of
// the URL s, and false when s does not parse or the name of a parameter
// holds one ("pw@host" is no key=value pair).
func queryValueAts(s string) (int, bool) {
	u, err := url.Parse(s)
	if err != nil {
		return 0, false
	}
	n := 0
	for p := range strings.SplitSeq(u.RawQuery, "&") {
		name, value, _ := strings.Cut(p, "=")
		if strings.Contains(name, "@") {
			return 0, false
		}
		n += strings.Count(value, "@")
	}
	return n, true
}

// unescapedUserinfo returns an error wrapping errUserinfo when the user
// info of the URL s, as userinfoAt finds it, holds one of ends: a character
// that ends the user info for the parser that reads s ("/", "?" and "#" for
// net/url, "@" and "/" for pgx, as for libpq). That parser would read a
// part of the password as the host, port, path or query, and its messages
// would print it.
func unescapedUserinfo(s, ends string) error {
	rest, at := userinfoAt(s)
	if !strings.Contains(s, "://") || at < 0 || !strings.ContainsAny(rest[:at], ends) {
		return nil
	}
	var quoted []string
	for _, c := range ends {
		quoted = append(quoted, strconv.Quote(string(c)))
	}
	last := len(quoted) - 1
	list := strings.Join(quoted[:last], ", ") + " or " + quoted[last]
	return fmt.Errorf(`a %s before its last "@" would end its user info: %w`, list, errUserinfo)
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

// parseReason returns err, an error of parsing the URL s, without the URL a
// *url.Error quotes, nor the text of url.Parse that quotes the part of the
// user info it refused ("invalid port \":pw\" after host", "invalid URL
// escape \"%pw\""): a user info refused is errUserinfo, the rest of the
// URL refused is url.Parse's reason for that part alone.
func parseReason(s string, err error) error {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err
	}
	scheme, _, _ := strings.Cut(s, "://")
	rest, at := userinfoAt(s)
	if at < 0 {
		return ue.Err
	}
	if _, err := url.Parse(scheme + "://" + rest[at+1:]); errors.As(err, &ue) {
		return ue.Err
	}
	return fmt.Errorf("its user info does not parse: %w", errUserinfo)
}
