package thumbnails_test

import (
	"context"
	"testing"

	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails"
)

// TestRegenerateSizeNamedTwice names one size twice, in two spellings (size
// names are case-insensitive): it is made once, and the row is done. It was
// made and saved twice, and on PostgreSQL every row failed, its two records
// of one size put in one statement.
func TestRegenerateSizeNamedTwice(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setup(t, db, &Food{})
		ctx := context.Background()
		foods := createFoods(t, db, 2)
		saves := e.storage.saves.Load()
		c, err := thumbnails.Regenerate(ctx, db, &Food{}, thumbnails.RegenerateOptions{Sizes: []string{"small", "Small"}})
		if err != nil || c.Done != 2 || c.Failed != 0 {
			t.Fatalf("Regenerate(small, Small) = %+v, %v; want 2 done", c, err)
		}
		if n := e.storage.saves.Load() - saves; n != 2 {
			t.Errorf("%d saves; want one small for each of the 2 rows", n)
		}
		for _, f := range foods {
			if recs := sizesOf(t, db, f); len(recs) != 2 || recs["small"].Name == "" {
				t.Errorf("records after Regenerate: %v", recs)
			}
		}
	})
}
