package sizes_test

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/disintegration/gift"
	"github.com/gorm-thumbnails/thumbnails/processors"
	"github.com/gorm-thumbnails/thumbnails/sizes"
)

func TestJPEGQuality(t *testing.T) {
	tests := []struct {
		quality, want int
	}{
		{0, sizes.DefaultQuality},
		{1, 1},
		{80, 80},
		{100, 100},
		{-3, sizes.DefaultQuality},
		{101, sizes.DefaultQuality},
	}
	for _, tt := range tests {
		if got := (sizes.Size{Quality: tt.quality}).JPEGQuality(); got != tt.want {
			t.Errorf("Size{Quality: %d}.JPEGQuality() = %d, want %d", tt.quality, got, tt.want)
		}
	}
}

func TestGet(t *testing.T) {
	s := sizes.Sizes{
		"small": {Name: "small", Format: "png"},
		"Large": {Name: "Large", Format: "gif"}, // built by hand, not validated
	}
	tests := []struct {
		name   string
		ok     bool
		format string
	}{
		{"small", true, "png"},
		{"SMALL", true, "png"},
		{"large", true, "gif"},
		{"Large", true, "gif"},
		{"medium", false, ""},
		{"", false, ""},
	}
	for _, tt := range tests {
		size, ok := s.Get(tt.name)
		if ok != tt.ok || size.Format != tt.format {
			t.Errorf("Get(%q) = %+v, %v; want format %q, %v", tt.name, size, ok, tt.format, tt.ok)
		}
	}
}

func TestNames(t *testing.T) {
	tests := []struct {
		s    sizes.Sizes
		want []string
	}{
		{nil, []string{}},
		{sizes.Sizes{"b": {}, "a": {}, "c": {}}, []string{"a", "b", "c"}},
	}
	for _, tt := range tests {
		if got := tt.s.Names(); !slices.Equal(got, tt.want) {
			t.Errorf("Names() = %v, want %v", got, tt.want)
		}
	}
}

func TestValidate(t *testing.T) {
	resize := processors.Resize(processors.Px(10), processors.Px(10), processors.Fill)
	optimize, err := processors.Optimize(map[string]string{"png": "optipng %(filename)s"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		s    sizes.Sizes
		want sizes.Sizes // after normalisation
	}{
		{"empty", sizes.Sizes{}, sizes.Sizes{}},
		{"name from key", sizes.Sizes{"small": {Quality: 50}}, sizes.Sizes{"small": {Name: "small", Quality: 50}}},
		{"keys and names lower-cased", sizes.Sizes{"Small": {Name: "SMALL"}, "Big": {}},
			sizes.Sizes{"small": {Name: "small"}, "big": {Name: "big"}}},
		{"formats normalised", sizes.Sizes{"a": {Format: "JPG"}, "b": {Format: " Png "}, "c": {Format: "gif"}, "d": {Format: "jpeg"}},
			sizes.Sizes{"a": {Name: "a", Format: "jpeg"}, "b": {Name: "b", Format: "png"}, "c": {Name: "c", Format: "gif"}, "d": {Name: "d", Format: "jpeg"}}},
		{"processors kept", sizes.Sizes{"a_1-b": {Processors: []gift.Filter{resize}, Quality: 100}},
			sizes.Sizes{"a_1-b": {Name: "a_1-b", Processors: []gift.Filter{resize}, Quality: 100}}},
		{"post-processors kept", sizes.Sizes{"a": {PostProcessors: []processors.PostProcessor{optimize}}},
			sizes.Sizes{"a": {Name: "a", PostProcessors: []processors.PostProcessor{optimize}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.s.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if !maps.EqualFunc(tt.s, tt.want, func(a, b sizes.Size) bool {
				return a.Name == b.Name && a.Format == b.Format && a.Quality == b.Quality &&
					slices.Equal(a.Processors, b.Processors) && slices.Equal(a.PostProcessors, b.PostProcessors)
			}) {
				t.Errorf("after Validate: %+v, want %+v", tt.s, tt.want)
			}
		})
	}
}

func TestValidateErrors(t *testing.T) {
	tests := []struct {
		name    string
		s       sizes.Sizes
		message string
	}{
		{"empty name", sizes.Sizes{"": {}}, `sizes: size "": empty name: invalid size`},
		{"name and key differ", sizes.Sizes{"small": {Name: "large"}}, `sizes: size "large": name differs from its key "small"`},
		{"duplicate ignoring case", sizes.Sizes{"Small": {}, "small": {}}, `sizes: size "small": name used twice, also as "Small"`},
		{"bad characters", sizes.Sizes{"a/b": {}}, `sizes: size "a/b": name may hold only letters`},
		{"dots", sizes.Sizes{"..": {}}, "name may hold only letters"},
		{"space", sizes.Sizes{"a b": {}}, "name may hold only letters"},
		{"unknown format", sizes.Sizes{"a": {Format: "bmp"}}, `sizes: size "a": unknown format "bmp"`},
		{"quality too low", sizes.Sizes{"a": {Quality: -1}}, `sizes: size "a": quality -1 is outside 1..100`},
		{"quality too high", sizes.Sizes{"a": {Quality: 101}}, "quality 101 is outside"},
		{"nil processor", sizes.Sizes{"a": {Processors: []gift.Filter{processors.Rotate(90), nil}}}, `sizes: size "a": processor 2 is nil`},
		{"nil post-processor", sizes.Sizes{"a": {PostProcessors: []processors.PostProcessor{nil}}}, `sizes: size "a": post-processor 1 is nil`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(tt.s)
			err := tt.s.Validate()
			if !errors.Is(err, sizes.ErrInvalidSize) {
				t.Fatalf("Validate() = %v, want an error wrapping ErrInvalidSize", err)
			}
			if !strings.Contains(err.Error(), tt.message) {
				t.Errorf("error %q does not contain %q", err, tt.message)
			}
			if len(tt.s) != before {
				t.Errorf("Validate changed the sizes although it failed: %v", tt.s)
			}
		})
	}
}

// TestValidateShared validates one set of sizes, as Load returns it, from
// several goroutines at once (one plugin a database, from the same set):
// nothing needs normalising, so nothing is written, and the race detector
// finds no write. A set that does need it is still normalised.
func TestValidateShared(t *testing.T) {
	set, err := sizes.Load(strings.NewReader("small: {processors: [{path: resize, width: 100}], format: JPG}\nLarge: {processors: [{path: resize, width: 900}]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if err := set.Validate(); err != nil {
				t.Error(err)
			}
			_ = set.Names()
		})
	}
	wg.Wait()
	if got := set.Names(); !slices.Equal(got, []string{"large", "small"}) || set["small"].Format != "jpeg" {
		t.Errorf("after the validations: %v, small's format %q", got, set["small"].Format)
	}
	raw := sizes.Sizes{"Big": {Format: "JPG"}}
	if err := raw.Validate(); err != nil || raw["big"].Name != "big" || raw["big"].Format != "jpeg" || len(raw) != 1 {
		t.Errorf("a set to normalise: %v, %+v", err, raw)
	}
}
