package backends

import (
	"testing"
	"time"
)

// TestRedisRecord checks the round trip of a record through its hash value
// and that a malformed value is an error, not a record of zeros.
func TestRedisRecord(t *testing.T) {
	for _, c := range []struct {
		t       Thumbnail
		created time.Time
	}{
		{Thumbnail{Name: "thumbnails/a_small.jpg", Width: 100, Height: 67}, time.Unix(1764633600, 0)},
		{Thumbnail{Name: "a name with spaces and ünïcode", Width: 1, Height: 65535}, time.Unix(0, 0)},
		{Thumbnail{Name: "old.jpg", Width: 3, Height: 4}, time.Unix(-86400, 0)},
	} {
		v := formatRedisRecord(c.t, c.created)
		got, err := parseRedisRecord("src.jpg", "small", v)
		want := c.t
		want.Source, want.Size, want.CreatedAt = "src.jpg", "small", c.created.UTC()
		if err != nil || got != want {
			t.Errorf("%q: %+v, %v; want %+v", v, got, err, want)
		}
	}
	for _, v := range []string{
		"", "100", "100 67", "100 67 1764633600", "100 67 1764633600 ", "x 67 1 a", "100 y 1 a", "100 67 z a",
		"+100 67 1 a", "100  67 1 a", "100 67 --1 a", "99999999999 67 1 a", "1 2 1234567890123456789 a",
	} {
		if got, err := parseRedisRecord("src.jpg", "small", v); err == nil {
			t.Errorf("%q: parsed as %+v", v, got)
		}
	}
}
