package thumbnails

import (
	"slices"
	"testing"
)

func TestParseTag(t *testing.T) {
	for _, tc := range []struct {
		tag   string
		sizes []string
		dir   string
		bad   bool
	}{
		{tag: ""},
		{tag: "sizes:small,large;dir:foods", sizes: []string{"small", "large"}, dir: "foods"},
		{tag: "SIZES: small , large ;DIR:/foods/2024/", sizes: []string{"small", "large"}, dir: "foods/2024"},
		{tag: "dir:foods", dir: "foods"},
		{tag: "sizes: small ; dir: foods ", sizes: []string{"small"}, dir: "foods"},
		{tag: "sizes:", bad: true},
		{tag: "sizes: , ", bad: true},
		{tag: "dir:../etc", bad: true},
		{tag: "dir:a/../../b", bad: true},
		{tag: "dir:a\\b", bad: true},
		{tag: "folder:x", bad: true},
	} {
		got, err := parseTag(tc.tag)
		if tc.bad {
			if err == nil {
				t.Errorf("%q: no error", tc.tag)
			}
			continue
		}
		if err != nil || !slices.Equal(got.sizes, tc.sizes) || got.dir != tc.dir {
			t.Errorf("%q = %+v, %v; want sizes %v dir %q", tc.tag, got, err, tc.sizes, tc.dir)
		}
	}
}
