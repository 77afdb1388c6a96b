package thumbnails

import (
	"net/url"
	"testing"

	"gorm.io/driver/postgres"

	"github.com/gorm-thumbnails/thumbnails/internal/testdb"
)

// TestHeldInColumnsDownTheSearchPath: on PostgreSQL, the recheck under
// locks of a clean-up and of Prune (heldInColumns) reads an image column
// whose table is in the second schema of the search_path, where every
// query finds it; gorm's HasColumn, which looks in the first schema only,
// had it skipped, so that a name a row there holds looked free to delete.
func TestHeldInColumnsDownTheSearchPath(t *testing.T) {
	first, second := testdb.PostgresDSN(t), testdb.PostgresDSN(t)
	if err := testdb.Open(t, postgres.Open(second)).Exec("CREATE TABLE foods (id int PRIMARY KEY, image text); INSERT INTO foods VALUES (1, 'foods/a.jpg')").Error; err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(second)
	if err != nil {
		t.Fatal(err)
	}
	db := testdb.Open(t, postgres.Open(first+","+u.Query().Get("search_path")))
	held, err := heldInColumns(db, []tableColumn{{"foods", "image"}, {"gone", "image"}}, []string{"foods/a.jpg", "foods/b.jpg"})
	if err != nil || !held["foods/a.jpg"] || held["foods/b.jpg"] {
		t.Errorf("held = %v, %v; want foods/a.jpg alone", held, err)
	}
}
