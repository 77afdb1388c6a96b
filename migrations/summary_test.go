package migrations_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/gorm-thumbnails/thumbnails/migrations"
)

// TestSummaryBackfill upgrades a database that holds records written before
// migration 0003: the migration must summarise them, and the triggers must
// keep the summaries from then on.
func TestSummaryBackfill(t *testing.T) {
	for _, d := range databases {
		t.Run(d.name, func(t *testing.T) {
			db := d.open(t)
			list, err := migrations.List(db)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range list {
				if m.Version >= 3 {
					break
				}
				if err := db.Exec(m.SQL).Error; err != nil { // an older release's schema
					t.Fatalf("%04d_%s: %v", m.Version, m.Name, err)
				}
			}
			for _, q := range []string{
				"INSERT INTO thumbnails_sources (name) VALUES ('a.jpg'), ('b.jpg'), ('none.jpg')",
				"INSERT INTO thumbnails_thumbnails (source, size, name, width, height) VALUES ('a.jpg', 'small', 'small/a.png', 10, 8), ('b.jpg', 'small', 'small/b.png', 12, 9)",
				"INSERT INTO thumbnails_placeholders (source, data, width, height) VALUES ('a.jpg', 'data:image/png;base64,AA==', 12, 10)",
			} {
				if err := db.Exec(q).Error; err != nil {
					t.Fatal(err)
				}
			}
			if err := migrations.Apply(context.Background(), db); err != nil {
				t.Fatal(err)
			}
			if err := db.Exec("INSERT INTO thumbnails_thumbnails (source, size, name, width, height) VALUES ('b.jpg', 'large', 'large/b.jpg', 1200, 900)").Error; err != nil {
				t.Fatal(err)
			}
			want := map[string]string{
				"a.jpg":    "small|10|8|small/a.png / @placeholder|12|10|data:image/png;base64,AA==",
				"b.jpg":    "large|1200|900|large/b.jpg / small|12|9|small/b.png",
				"none.jpg": "",
			}
			var rows []struct {
				Name    string
				Summary *string
			}
			if err := db.Table("thumbnails_sources").Order("name").Find(&rows).Error; err != nil {
				t.Fatal(err)
			}
			if len(rows) != len(want) {
				t.Fatalf("%d sources, want %d", len(rows), len(want))
			}
			for _, r := range rows {
				got := ""
				if r.Summary != nil {
					recs := strings.Split(strings.ReplaceAll(*r.Summary, "\x1f", "|"), "\x1e")
					slices.Sort(recs)
					got = strings.Join(recs, " / ")
				}
				if w := want[r.Name]; got != sorted(w) {
					t.Errorf("summary of %s = %q, want %q", r.Name, got, sorted(w))
				}
			}
		})
	}
}

// sorted returns the " / "-joined records of s in order.
func sorted(s string) string {
	if s == "" {
		return ""
	}
	recs := strings.Split(s, " / ")
	slices.Sort(recs)
	return strings.Join(recs, " / ")
}
