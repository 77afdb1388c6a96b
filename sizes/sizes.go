package sizes

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Sizes is a set of named sizes keyed by lower-case name.
type Sizes map[string]Size

// Get returns the size called name, ignoring case.
func (s Sizes) Get(name string) (Size, bool) {
	if size, ok := s[strings.ToLower(name)]; ok {
		return size, true
	}
	for key, size := range s { // a map built by hand may have keys that are not lower-case
		if strings.EqualFold(key, name) {
			return size, true
		}
	}
	return Size{}, false
}

// Names returns the names of the sizes, sorted.
func (s Sizes) Names() []string {
	return slices.Sorted(maps.Keys(s))
}

// Validate checks every size, in the order of Names, and returns an
// ErrInvalidSize naming the first that is wrong: its name is empty, differs
// from its key, is not made of letters, digits, '_' and '-', or is used twice
// ignoring case; its format is unknown; its quality is not from 0 to 100; it
// is both lazy and async; or it has a nil processor or post-processor.
//
// When every size is right, Validate normalises them in place: it sets empty
// names from the keys, lower-cases names and keys, and spells formats as
// Size.Format documents. It writes only the sizes it changes, so a set that
// needs none (as Load returns it, or validated once) may be shared, and
// validated at once by several plugins (one *gorm.DB a database).
func (s Sizes) Validate() error {
	seen := make(map[string]string, len(s))
	names := s.Names()
	for _, key := range names {
		size := s[key]
		name := size.Name
		if name == "" {
			name = key
		}
		where := fmt.Sprintf("sizes: size %q", name)
		if size.Name != "" && !strings.EqualFold(size.Name, key) {
			return invalid(where, fmt.Errorf("name differs from its key %q: %w", key, ErrInvalidSize))
		}
		if err := checkName(name); err != nil {
			return invalid(where, err)
		}
		lower := strings.ToLower(name)
		if other, dup := seen[lower]; dup {
			return invalid(where, fmt.Errorf("name used twice, also as %q: %w", other, ErrInvalidSize))
		}
		seen[lower] = name
		if _, ok := normalizeFormat(size.Format); !ok {
			return invalid(where, fmt.Errorf("unknown format %q, want jpeg, png, gif, webp or none: %w", size.Format, ErrInvalidSize))
		}
		if size.Quality < 0 || size.Quality > 100 {
			return invalid(where, fmt.Errorf("quality %d is outside 1..100 (0 for %d): %w", size.Quality, DefaultQuality, ErrInvalidSize))
		}
		if size.Lazy && size.Async {
			return invalid(where, fmt.Errorf("both lazy and async; a size is generated on first access or in the background, not both: %w", ErrInvalidSize))
		}
		for i, p := range size.Processors {
			if p == nil {
				return invalid(where, fmt.Errorf("processor %d is nil: %w", i+1, ErrInvalidSize))
			}
		}
		for i, p := range size.PostProcessors {
			if p == nil {
				return invalid(where, fmt.Errorf("post-processor %d is nil: %w", i+1, ErrInvalidSize))
			}
		}
	}
	// Only now that no key can clash with another is it safe to rename them.
	for _, key := range names {
		size := s[key]
		name := size.Name
		if name == "" {
			name = key
		}
		name = strings.ToLower(name)
		format, _ := normalizeFormat(size.Format)
		if name == key && size.Name == name && size.Format == format {
			continue // as it was: not written (see above)
		}
		size.Name, size.Format = name, format
		delete(s, key)
		s[name] = size
	}
	return nil
}

// checkName reports whether name can name a size: it appears in file names
// and URLs, so it is limited to ASCII letters, digits, '_' and '-'.
func checkName(name string) error {
	if name == "" {
		return fmt.Errorf("empty name: %w", ErrInvalidSize)
	}
	for _, r := range name {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '_' || r == '-') {
			return fmt.Errorf("name may hold only letters, digits, '_' and '-', not %q: %w", r, ErrInvalidSize)
		}
	}
	return nil
}
