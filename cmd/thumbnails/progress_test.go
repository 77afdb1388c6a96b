package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/gorm-thumbnails/thumbnails"
)

// TestProgressPastTheTotal: rows inserted while regenerate runs are gone
// through too, taking the count past the total counted as the run began;
// the progress line's total grows with it rather than read "3/2 rows".
func TestProgressPastTheTotal(t *testing.T) {
	var out bytes.Buffer
	r := newReporter(context.Background(), "regenerate", "rows", &out)
	for done := 1; done <= 3; done++ {
		r.lastLine = r.lastLine.AddDate(-1, 0, 0) // a line for each row
		r.update(thumbnails.Progress{Counts: thumbnails.Counts{Done: done}, Total: 2})
	}
	if !strings.Contains(out.String(), "regenerate: 3/3 rows (3 done") || strings.Contains(out.String(), "3/2") {
		t.Errorf("progress lines:\n%s", out.String())
	}
}
