package thumbnails

import (
	"errors"
	"fmt"
	"strings"

	"gorm.io/gorm/schema"

	"github.com/gorm-thumbnails/thumbnails/backends"
)

// tag is a parsed `thumbnails:"sizes:a,b;dir:folder"` struct tag.
type tag struct {
	sizes []string // nil: every configured size
	dir   string   // "": the table name
	focus string   // the field holding the row's focal point, or ""
}

// parseTag parses the thumbnails tag of a field.Image column, the way gorm
// parses its own tags (keys case-insensitive, ";" between settings).
func parseTag(s string) (tag, error) {
	var t tag
	for key, value := range schema.ParseTagSetting(s, ";") {
		switch key {
		case "SIZES":
			t.sizes = []string{}
			for _, n := range strings.Split(value, ",") {
				if n = strings.TrimSpace(n); n != "" {
					t.sizes = append(t.sizes, n)
				}
			}
			if len(t.sizes) == 0 {
				return tag{}, errors.New("sizes: empty list (leave sizes out for every configured size)")
			}
		case "DIR":
			dir, err := backends.CleanName(strings.Trim(strings.TrimSpace(value), "/"))
			if err != nil {
				return tag{}, fmt.Errorf("dir: %w", err)
			}
			t.dir = dir
		case "FOCUS":
			if t.focus = strings.TrimSpace(value); t.focus == "" {
				return tag{}, errors.New("focus: no field named")
			}
		default:
			return tag{}, fmt.Errorf("unknown tag key %q (want sizes, dir or focus)", strings.ToLower(key))
		}
	}
	return t, nil
}
