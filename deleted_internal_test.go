package thumbnails

import (
	"fmt"
	"slices"
	"testing"
)

// TestDeletedLog: a statement checks the copied sources that a drain
// deleted after it began, only those, and all of them once the log has
// forgotten a drain after it.
func TestDeletedLog(t *testing.T) {
	var l deletedLog
	before := l.now()
	if got := l.since(before, []string{"a", "b"}); got != nil {
		t.Errorf("no drain ran: since = %v, want none", got)
	}
	l.add([]string{"a"})
	during := l.now()
	l.add([]string{"b"})
	for _, c := range []struct {
		since uint64
		want  []string
	}{
		{before, []string{"a", "b"}},
		{during, []string{"b"}},
		{l.now(), nil},
	} {
		if got := l.since(c.since, []string{"a", "b", "never-deleted"}); !slices.Equal(got, c.want) {
			t.Errorf("since(%d) = %v, want %v", c.since, got, c.want)
		}
	}
	// Full: it forgets every name, and a statement that began before
	// then checks every name it copies.
	many := make([]string, deletedLogCap)
	for i := range many {
		many[i] = fmt.Sprintf("s%d", i)
	}
	after := l.now()
	l.add(many)
	if got := l.since(during, []string{"x", "y"}); !slices.Equal(got, []string{"x", "y"}) {
		t.Errorf("after the log forgot: since = %v, want every name", got)
	}
	if got := l.since(after, []string{"x", "s1"}); !slices.Equal(got, []string{"s1"}) {
		t.Errorf("since the drain that filled it: %v, want [s1]", got)
	}
	if n := len(l.names); n > deletedLogCap {
		t.Errorf("%d names kept, want at most %d", n, deletedLogCap)
	}
}
