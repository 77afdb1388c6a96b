package thumbnails

import "testing"

// TestSavepointStatement checks which statements the txPool takes for
// savepoints, as gorm's dialects and people write them.
func TestSavepointStatement(t *testing.T) {
	for _, c := range []struct{ query, verb, name string }{
		{"SAVEPOINT sp0xc000123", "SAVEPOINT", "sp0xc000123"},
		{"savepoint a;", "SAVEPOINT", "a"},
		{"  SAVEPOINT a ; ", "SAVEPOINT", "a"},
		{"ROLLBACK TO SAVEPOINT sp1", "ROLLBACK", "sp1"},
		{"rollback to b", "ROLLBACK", "b"},
		{"RELEASE SAVEPOINT c", "RELEASE", "c"},
		{"RELEASE c;", "RELEASE", "c"},
		{"ROLLBACK", "", ""},
		{"SELECT 'SAVEPOINT a'", "", ""},
		{"INSERT INTO savepoint VALUES (1)", "", ""},
		{"", "", ""},
	} {
		verb, name := savepointStatement(c.query)
		if verb != c.verb || name != c.name {
			t.Errorf("%q: %q %q, want %q %q", c.query, verb, name, c.verb, c.name)
		}
	}
}
