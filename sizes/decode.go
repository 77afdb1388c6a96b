package sizes

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/gorm-thumbnails/thumbnails/processors"
)

// decodeSize makes the size called name from its decoded settings.
func decodeSize(name string, v any) (Size, error) {
	where := fmt.Sprintf("sizes: size %q", name)
	if v == nil {
		return Size{}, invalid(where, fmt.Errorf("no settings; write {} for a size without any: %w", ErrInvalidSize))
	}
	settings, err := mapping(v)
	if err != nil {
		return Size{}, invalid(where, err)
	}
	fields, err := foldKeys(settings)
	if err != nil {
		return Size{}, invalid(where, err)
	}
	size := Size{Name: name}
	for _, key := range slices.Sorted(maps.Keys(fields)) {
		val := fields[key].value
		switch key {
		// The errors of the lists say which entry, so they come with their own where.
		case "processors":
			if size.Processors, err = decodeList(where, key, "processor", val, processors.New); err != nil {
				return Size{}, err
			}
		case "post_processors":
			if size.PostProcessors, err = decodeList(where, key, "post-processor", val, processors.NewPost); err != nil {
				return Size{}, err
			}
		case "format":
			size.Format, err = decodeFormat(val)
		case "quality":
			size.Quality, err = decodeQuality(val)
		case "lazy":
			size.Lazy, err = decodeBool(val)
		case "async":
			size.Async, err = decodeBool(val)
		case "fallback_image_url":
			size.FallbackImageURL, err = decodeString(val)
		default:
			return Size{}, invalid(where, fmt.Errorf("unknown key %q, want processors, post_processors, format, quality, lazy, async or fallback_image_url: %w", fields[key].key, ErrInvalidSize))
		}
		if err != nil {
			return Size{}, invalid(where+": "+key, err)
		}
	}
	return size, nil
}

// decodeList builds the list v, the value of key in the size that where
// names, whose entries are each a what ("processor") that build makes from
// its name and parameters.
func decodeList[T any](where, key, what string, v any, build func(string, map[string]any) (T, error)) ([]T, error) {
	if v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, invalid(where+": "+key, fmt.Errorf("want a list, got %s: %w", describe(v), ErrInvalidSize))
	}
	out := make([]T, 0, len(list))
	for i, entry := range list {
		name, params, err := decodeEntry(entry)
		var p T
		if err == nil {
			p, err = build(name, params)
		}
		if err != nil {
			return nil, invalid(fmt.Sprintf("%s: %s %d%s", where, what, i+1, procLabel(entry)), err)
		}
		out = append(out, p)
	}
	return out, nil
}

// decodeEntry splits one processor or post-processor entry, a mapping with a
// path and parameters, into the name in its path and the other keys.
func decodeEntry(v any) (string, map[string]any, error) {
	m, err := mapping(v)
	if err != nil {
		return "", nil, err
	}
	fields, err := foldKeys(m)
	if err != nil {
		return "", nil, err
	}
	path, ok := fields["path"]
	if !ok {
		return "", nil, fmt.Errorf("missing path, the processor's name: %w", ErrInvalidSize)
	}
	name, ok := path.value.(string)
	if !ok {
		return "", nil, fmt.Errorf("path: want a string, got %s: %w", describe(path.value), ErrInvalidSize)
	}
	params := make(map[string]any, len(m)-1)
	for k, val := range m {
		if k != path.key {
			params[k] = val
		}
	}
	return name, params, nil
}

// procLabel returns " (name)" for a processor or post-processor entry with a string path, to
// say which processor an error is about; "" otherwise.
func procLabel(entry any) string {
	m, err := mapping(entry)
	if err != nil {
		return ""
	}
	for k, v := range m {
		if s, ok := v.(string); ok && strings.EqualFold(k, "path") {
			return fmt.Sprintf(" (%s)", s)
		}
	}
	return ""
}

func decodeFormat(v any) (string, error) {
	s, err := decodeString(v)
	if err != nil {
		return "", err
	}
	f, ok := normalizeFormat(s)
	if !ok {
		return "", fmt.Errorf("unknown format %q, want jpeg, png, gif, webp or none: %w", s, ErrInvalidSize)
	}
	return f, nil
}

func decodeQuality(v any) (int, error) {
	var q float64
	switch n := v.(type) {
	case int:
		q = float64(n)
	case int64:
		q = float64(n)
	case uint64:
		q = float64(n)
	case float64:
		q = n
	default:
		return 0, fmt.Errorf("want a whole number from 1 to 100, or 0 for %d, got %s: %w", DefaultQuality, describe(v), ErrInvalidSize)
	}
	if q != math.Trunc(q) || q < 0 || q > 100 { // also catches NaN
		return 0, fmt.Errorf("%v is not a whole number from 1 to 100, or 0 for %d: %w", q, DefaultQuality, ErrInvalidSize)
	}
	return int(q), nil
}

func decodeBool(v any) (bool, error) {
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("want true or false, got %s: %w", describe(v), ErrInvalidSize)
	}
	return b, nil
}

// decodeString returns a string value; null is the empty string.
func decodeString(v any) (string, error) {
	if v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("want a string, got %s: %w", describe(v), ErrInvalidSize)
	}
	return s, nil
}

// field is a value with its key as written in the document.
type field struct {
	key   string
	value any
}

// foldKeys returns m keyed by lower-case key, rejecting keys that differ only in case.
func foldKeys(m map[string]any) (map[string]field, error) {
	out := make(map[string]field, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		lower := strings.ToLower(k)
		if prev, dup := out[lower]; dup {
			return nil, fmt.Errorf("keys %q and %q differ only in case: %w", prev.key, k, ErrInvalidSize)
		}
		out[lower] = field{key: k, value: m[k]}
	}
	return out, nil
}

// mapping returns v as a mapping with string keys, as the YAML decoder
// produces it: map[string]any, or map[any]any when some key is not a string.
func mapping(v any) (map[string]any, error) {
	switch m := v.(type) {
	case map[string]any:
		return m, nil
	case map[any]any:
		out := make(map[string]any, len(m))
		for k, val := range m {
			s, ok := k.(string)
			if !ok {
				return nil, fmt.Errorf("key %v is %s, want a string: %w", k, describe(k), ErrInvalidSize)
			}
			out[s] = val
		}
		return out, nil
	}
	return nil, fmt.Errorf("want a mapping, got %s: %w", describe(v), ErrInvalidSize)
}

// describe names the kind of a decoded value for an error message.
func describe(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case string:
		return "a string"
	case int, int64, uint64, float64:
		return "a number"
	case map[string]any, map[any]any:
		return "a mapping"
	case []any:
		return "a list"
	}
	return fmt.Sprintf("%T", v)
}
