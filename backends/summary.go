package backends

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails/internal/dialect"
)

// The batch read (ThumbnailsOf, so Preload and Each) of the database backend
// reads each source's summary: its records joined in one text, kept in
// thumbnails_sources.summary by triggers (migration 0003) in the statement
// that changes them. A record is "size US width US height US name" (a
// placeholder's size is PlaceholderSize and its name the data: URI), and
// records are joined with RS. CleanName keeps control characters out of
// names, and a data: URI has none either.
const (
	unitSep   = "\x1f" // between the fields of a record
	recordSep = "\x1e" // between the records of a source
	groupSep  = "\x1d" // between the sources of a batch's one row
)

// A batch is one query returning one row of one value, whatever its size:
// the sources are bound as one JSON array (one parameter, so no chunking
// and no statement of thousands of parameters to encode and parse), each
// is found by one seek in the sources' unique index, and its summary comes
// as "index US summary", index being the source's position in the array
// (from 0), the sources joined with GS.
//
// On SQLite, which runs in the process, the "round trip" is CPU: the
// engine's work and, in mattn/go-sqlite3, three cgo calls per value
// returned. On 10,000 sources of two records each this query takes a
// quarter of the time of one row per record, and half of one row of
// records concatenated by the query. On PostgreSQL it also saves the
// encoding, parsing and planning of a parameter a source.
const (
	sqliteSummariesQuery = "SELECT group_concat(j.key || char(31) || s.summary, char(29))" +
		" FROM json_each(?) j JOIN " + SourcesTable + " s ON s.name = j.value WHERE s.summary IS NOT NULL"
	postgresSummariesQuery = "SELECT string_agg((j.i - 1) || chr(31) || s.summary, chr(29))" +
		" FROM json_array_elements_text(CAST(? AS json)) WITH ORDINALITY AS j(name, i)" +
		" JOIN " + SourcesTable + " s ON s.name = j.name WHERE s.summary IS NOT NULL"
)

// summariesOf reads the records of sources in one query: those of
// sources[i] at [i], nil for none.
func summariesOf(db *gorm.DB, sources []string) ([][]Thumbnail, error) {
	query := postgresSummariesQuery
	if isSQLite(db) {
		query = sqliteSummariesQuery
	}
	list := appendJSONStrings(make([]byte, 0, 48*len(sources)), sources)
	var joined *string
	if err := db.Raw(query, string(list)).Row().Scan(&joined); err != nil {
		return nil, err
	}
	out := make([][]Thumbnail, len(sources))
	if joined == nil {
		return out, nil
	}
	s := *joined
	// One backing array for every record: each source's slice is capped,
	// so that a caller appending to it copies.
	all := make([]Thumbnail, 0, strings.Count(s, recordSep)+strings.Count(s, groupSep)+1)
	for s != "" {
		var group string
		group, s, _ = strings.Cut(s, groupSep)
		idx, summary, _ := strings.Cut(group, unitSep)
		i, err := strconv.Atoi(idx)
		if err != nil || i < 0 || i >= len(sources) || out[i] != nil {
			return nil, fmt.Errorf("malformed summary %q: no source %q", group, idx)
		}
		start := len(all)
		for summary != "" {
			var rec string
			rec, summary, _ = strings.Cut(summary, recordSep)
			t, err := parseRecord(sources[i], rec)
			if err != nil {
				return nil, err
			}
			all = append(all, t)
		}
		if len(all) > start {
			out[i] = all[start:len(all):len(all)]
		}
	}
	return out, nil
}

// byIndex returns the records of sources, aligned as ThumbnailsIn returns
// them, keyed by source.
func byIndex(sources []string, recs [][]Thumbnail) map[string][]Thumbnail {
	out := make(map[string][]Thumbnail, len(sources))
	for i, r := range recs {
		if len(r) > 0 {
			out[sources[i]] = r
		}
	}
	return out
}

// parseRecord parses "size US width US height US name".
func parseRecord(source, rec string) (Thumbnail, error) {
	size, rest, ok1 := strings.Cut(rec, unitSep)
	w, rest, ok2 := strings.Cut(rest, unitSep)
	h, name, ok3 := strings.Cut(rest, unitSep)
	width, err1 := strconv.Atoi(w)
	height, err2 := strconv.Atoi(h)
	if !ok1 || !ok2 || !ok3 || err1 != nil || err2 != nil {
		return Thumbnail{}, fmt.Errorf("malformed record of %q: %q", source, rec)
	}
	return Thumbnail{Source: source, Size: size, Name: name, Width: width, Height: height}, nil
}

// appendJSONStrings appends ss to b as a JSON array of strings. Names made
// by the plugin need no escaping and are copied as they are; any other is
// encoded by encoding/json.
func appendJSONStrings(b []byte, ss []string) []byte {
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		if !jsonPlain(s) {
			q, _ := json.Marshal(s) // a string always encodes
			b = append(b, q...)
			continue
		}
		b = append(b, '"')
		b = append(b, s...)
		b = append(b, '"')
	}
	return append(b, ']')
}

// jsonPlain reports whether s is printable ASCII without '"' and '\', so
// that it stands in JSON as it is.
func jsonPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// isSQLite reports whether db is a SQLite database.
func isSQLite(db *gorm.DB) bool { return dialect.Of(db) == dialect.SQLite }
