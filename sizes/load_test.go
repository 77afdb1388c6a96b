package sizes_test

import (
	"errors"
	"fmt"
	"image"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/disintegration/gift"
	"github.com/gorm-thumbnails/thumbnails/processors"
	"github.com/gorm-thumbnails/thumbnails/sizes"
)

// wantSize is what the tests expect of a loaded size.
type wantSize struct {
	format   string
	quality  int // JPEGQuality
	lazy     bool
	fallback string
	filters  int
	output   [2]int     // size of a 2560×1600 image after the processors
	post     [][]string // the Commands of each post-processor
}

// want is the content of testdata/sizes.yaml and testdata/sizes.json.
var want = map[string]wantSize{
	"small": {format: "png", quality: sizes.DefaultQuality, filters: 2, output: [2]int{80, 80}},
	"large": {quality: 80, lazy: true, fallback: "/static/no-image.png", filters: 2, output: [2]int{1200, 750},
		post: [][]string{{"jpegoptim", "optipng"}}},
}

// checkSizes fails t unless s holds exactly the sizes in want, and applying
// each one's processors with gift gives the expected output size.
func checkSizes(t *testing.T, s sizes.Sizes, want map[string]wantSize) {
	t.Helper()
	names := slices.Sorted(maps.Keys(want))
	if got := s.Names(); !slices.Equal(got, names) {
		t.Fatalf("Names() = %v, want %v", got, names)
	}
	src := image.NewYCbCr(image.Rect(0, 0, 2560, 1600), image.YCbCrSubsampleRatio420)
	for name, w := range want {
		size, ok := s.Get(name)
		if !ok {
			t.Fatalf("Get(%q) found nothing", name)
		}
		if size.Name != name || size.Format != w.format || size.JPEGQuality() != w.quality ||
			size.Lazy != w.lazy || size.FallbackImageURL != w.fallback || len(size.Processors) != w.filters {
			t.Errorf("size %q = %+v, want %+v", name, size, w)
		}
		if len(size.PostProcessors) != len(w.post) {
			t.Errorf("size %q: %d post-processors, want %d", name, len(size.PostProcessors), len(w.post))
		} else {
			for i, p := range size.PostProcessors {
				if got := p.Commands(); !slices.Equal(got, w.post[i]) {
					t.Errorf("size %q: post-processor %d runs %q, want %q", name, i+1, got, w.post[i])
				}
			}
		}
		g := gift.New(size.Processors...)
		dst := image.NewNRGBA(g.Bounds(src.Bounds()))
		g.Draw(dst, src)
		if got := [2]int{dst.Bounds().Dx(), dst.Bounds().Dy()}; got != w.output {
			t.Errorf("size %q: output %v, want %v", name, got, w.output)
		}
	}
}

func TestLoad(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want map[string]wantSize
	}{
		{"yaml", readFile(t, "testdata/sizes.yaml"), want},
		{"json", readFile(t, "testdata/sizes.json"), want},
		{"empty size", "thumb: {}", map[string]wantSize{"thumb": {quality: 85, output: [2]int{2560, 1600}}}},
		{"null values", "thumb: {processors: null, format: null, fallback_image_url: null}",
			map[string]wantSize{"thumb": {quality: 85, output: [2]int{2560, 1600}}}},
		{"jpg format", "thumb: {format: JPG, quality: 100}", map[string]wantSize{"thumb": {format: "jpeg", quality: 100, output: [2]int{2560, 1600}}}},
		{"gif format", "thumb: {format: gif}", map[string]wantSize{"thumb": {format: "gif", quality: 85, output: [2]int{2560, 1600}}}},
		{"zero quality", "thumb: {quality: 0}", map[string]wantSize{"thumb": {quality: 85, output: [2]int{2560, 1600}}}},
		{"percent resize", "thumb: {processors: [{path: resize, width: 50%}]}",
			map[string]wantSize{"thumb": {quality: 85, filters: 1, output: [2]int{1280, 800}}}},
		{"rotate", "Thumb-2: {processors: [{path: rotate, degrees: 90}, {Path: Thumbnails.Processors.Crop, width: 100}]}",
			map[string]wantSize{"thumb-2": {quality: 85, filters: 2, output: [2]int{100, 2560}}}},
		{"post-processors", "thumb: {post_processors: [{path: optimize, png_command: 'optipng %(filename)s'}, {PATH: Thumbnails.Post_Processors.Optimize, GIF_COMMAND: 'gifsicle -b %(filename)s', timeout: 5}]}",
			map[string]wantSize{"thumb": {quality: 85, output: [2]int{2560, 1600}, post: [][]string{{"optipng"}, {"gifsicle"}}}}},
		{"null post-processors", "thumb: {post_processors: null}", map[string]wantSize{"thumb": {quality: 85, output: [2]int{2560, 1600}}}},
		{"no post-processors", "thumb: {post_processors: []}", map[string]wantSize{"thumb": {quality: 85, output: [2]int{2560, 1600}}}},
		{"anchors and merge keys", "base: &b {format: png}\nthumb:\n  <<: *b\n  quality: 70\n",
			map[string]wantSize{"base": {format: "png", quality: 85, output: [2]int{2560, 1600}}, "thumb": {format: "png", quality: 70, output: [2]int{2560, 1600}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := sizes.Load(strings.NewReader(tt.doc))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			checkSizes(t, s, tt.want)
		})
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name    string
		doc     string
		also    error  // a second error it must wrap, besides ErrInvalidSize
		message string // a part of the error message
	}{
		{"empty", "", nil, "sizes: empty document: invalid size"},
		{"only a comment", "# nothing\n", nil, "empty document"},
		{"null", "null", nil, "empty document"},
		{"empty mapping", "{}", nil, "sizes: document holds no sizes"},
		{"syntax", "small: [", nil, "sizes: yaml:"},
		{"tabs", "small:\n\tformat: png", nil, "sizes: yaml:"},
		{"two documents", "a: {}\n---\nb: {}\n", nil, "more than one YAML document"},
		{"list", "- small\n- large\n", nil, "sizes: document: want a mapping, got a list"},
		{"scalar", "small", nil, "want a mapping, got a string"},
		{"json list", `[{"small": {}}]`, nil, "want a mapping, got a list"},
		{"non-string size name", "1: {}", nil, "key 1 is a number, want a string"},
		{"duplicate names", "Small: {}\nsmall: {}\n", nil, `sizes: size "small": name used twice`},
		{"duplicate yaml keys", "small: {}\nsmall: {}\n", nil, "already defined"},
		{"bad name", `"../x": {}`, nil, `sizes: size "../x": name may hold only`},
		{"empty name", `"": {}`, nil, "empty name"},
		{"null size", "small:\n", nil, `sizes: size "small": no settings`},
		{"size is a list", "small: [1]", nil, `sizes: size "small": want a mapping, got a list`},
		{"unknown key", "small: {formt: png}", nil, `sizes: size "small": unknown key "formt"`},
		{"keys differing in case", "small: {format: png, Format: gif}", nil, "differ only in case"},
		{"bad format", "small: {format: bmp}", nil, `sizes: size "small": format: unknown format "bmp"`},
		{"format not a string", "small: {format: 1}", nil, "format: want a string, got a number"},
		{"quality too high", "small: {quality: 101}", nil, "quality: 101 is not a whole number"},
		{"quality negative", "small: {quality: -1}", nil, "quality: -1 is not"},
		{"quality fractional", "small: {quality: 80.5}", nil, "quality: 80.5 is not"},
		{"quality NaN", "small: {quality: .nan}", nil, "quality: NaN is not"},
		{"quality huge", "small: {quality: 99999999999999999999}", nil, "is not a whole number"},
		{"quality string", `small: {quality: "80"}`, nil, "quality: want a whole number"},
		{"lazy not a boolean", "small: {lazy: 1}", nil, "lazy: want true or false, got a number"},
		{"lazy string", `small: {lazy: "yes"}`, nil, "lazy: want true or false, got a string"},
		{"async not a boolean", "small: {async: 1}", nil, "async: want true or false, got a number"},
		{"lazy and async", "small: {lazy: true, async: true}", nil, `sizes: size "small": both lazy and async`},
		{"fallback not a string", "small: {fallback_image_url: [a]}", nil, "fallback_image_url: want a string, got a list"},
		{"processors not a list", "small: {processors: {path: resize}}", nil, `sizes: size "small": processors: want a list, got a mapping`},
		{"processor not a mapping", "small: {processors: [resize]}", nil, `sizes: size "small": processor 1: want a mapping, got a string`},
		{"processor without path", "small: {processors: [{width: 1}]}", nil, "processor 1: missing path"},
		{"path not a string", "small: {processors: [{path: 1}]}", nil, "processor 1: path: want a string, got a number"},
		{"two paths", "small: {processors: [{path: resize, PATH: crop}]}", nil, "differ only in case"},
		{"unknown processor", "small: {processors: [{path: resize, width: 1}, {path: emboss}]}",
			processors.ErrUnknownProcessor, `sizes: size "small": processor 2 (emboss): processors: "emboss": unknown processor`},
		{"unknown parameter", "small: {processors: [{path: resize, widht: 100}]}",
			processors.ErrInvalidParameter, `sizes: size "small": processor 1 (resize): processors: resize: unknown parameter "widht": invalid parameter`},
		{"negative size", "small: {processors: [{path: thumbnails.processors.crop, width: -1}]}",
			processors.ErrInvalidParameter, `processor 1 (thumbnails.processors.crop): processors: crop: parameter "width": negative size`},
		{"bad method", "small: {processors: [{path: resize, width: 1, method: squash}]}", processors.ErrInvalidParameter, "unknown method"},
		{"bad direction", "small: {processors: [{path: flip, direction: up}]}", processors.ErrInvalidParameter, "unknown direction"},
		{"resize without sizes", "small: {processors: [{path: resize}]}", processors.ErrInvalidParameter, "neither width nor height"},
		{"malformed percent", "small: {processors: [{path: resize, width: 5%0}]}", processors.ErrInvalidParameter, "malformed size"},
		{"infinite", "small: {processors: [{path: rotate, degrees: .inf}]}", processors.ErrInvalidParameter, "not a finite number"},
		{"non-string parameter key", "small: {processors: [{path: rotate, 1: 2}]}", nil, "key 1 is a number"},
		{"post_processors not a list", "small: {post_processors: {path: optimize}}", nil, `sizes: size "small": post_processors: want a list, got a mapping`},
		{"post-processor not a mapping", "small: {post_processors: [optimize]}", nil, `sizes: size "small": post-processor 1: want a mapping, got a string`},
		{"post-processor without path", "small: {post_processors: [{png_command: 'optipng %(filename)s'}]}", nil, "post-processor 1: missing path"},
		{"post-processor path not a string", "small: {post_processors: [{path: [optimize]}]}", nil, "post-processor 1: path: want a string, got a list"},
		{"unknown post-processor", "large: {post_processors: [{path: thumbnails.post_processors.resize}]}", processors.ErrUnknownProcessor,
			`sizes: size "large": post-processor 1 (thumbnails.post_processors.resize): processors: post-processor "thumbnails.post_processors.resize": unknown processor`},
		{"processor as a post-processor", "small: {post_processors: [{path: resize, width: 10}]}", processors.ErrUnknownProcessor, "post-processor 1 (resize)"},
		{"post-processor as a processor", "small: {processors: [{path: optimize, png_command: 'optipng %(filename)s'}]}", processors.ErrUnknownProcessor,
			`processor 1 (optimize): processors: "optimize": unknown processor`},
		{"post-processor parameter", "large: {post_processors: [{path: optimize, png_command: 'optipng %(filename)s'}, {path: optimize, png_comand: x}]}",
			processors.ErrInvalidParameter, `sizes: size "large": post-processor 2 (optimize): processors: optimize: unknown parameter "png_comand": invalid parameter`},
		{"post-processor without a command", "small: {post_processors: [{path: optimize, timeout: 30}]}", processors.ErrInvalidParameter, "no command"},
		{"command without the file", "small: {post_processors: [{path: optimize, png_command: 'optipng -o7'}]}", processors.ErrInvalidParameter,
			`post-processor 1 (optimize): processors: optimize: parameter "png_command": it has no %(filename)s`},
		{"command with an open quote", `small: {post_processors: [{path: optimize, jpg_command: 'jpegoptim "%(filename)s'}]}`, processors.ErrInvalidParameter,
			"the double quote at byte 10 is never closed"},
		{"command not a string", "small: {post_processors: [{path: optimize, gif_command: 1}]}", processors.ErrInvalidParameter, `parameter "gif_command": want a string, got a number`},
		{"bad timeout", "small: {post_processors: [{path: optimize, png_command: 'optipng %(filename)s', timeout: soon}]}", processors.ErrInvalidParameter,
			`parameter "timeout": malformed duration "soon"`},
		{"infinite timeout", "small: {post_processors: [{path: optimize, png_command: 'optipng %(filename)s', timeout: .inf}]}", processors.ErrInvalidParameter,
			"not a finite number"},
		{"two post_processors keys", "small: {post_processors: [], Post_Processors: []}", nil, "differ only in case"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := sizes.Load(strings.NewReader(tt.doc))
			if !errors.Is(err, sizes.ErrInvalidSize) {
				t.Fatalf("Load() = %v, %v; want an error wrapping ErrInvalidSize", s, err)
			}
			if tt.also != nil && !errors.Is(err, tt.also) {
				t.Errorf("error %v does not wrap %v", err, tt.also)
			}
			if s != nil {
				t.Errorf("Load() returned sizes with the error %v", err)
			}
			if !strings.Contains(err.Error(), tt.message) {
				t.Errorf("error %q does not contain %q", err, tt.message)
			}
		})
	}
}

func TestLoadTooLarge(t *testing.T) {
	doc := "small: {}\n" + strings.Repeat("# padding\n", 1<<17)
	if _, err := sizes.Load(strings.NewReader(doc)); !errors.Is(err, sizes.ErrInvalidSize) || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("Load(%d bytes) = %v, want a too-large ErrInvalidSize", len(doc), err)
	}
}

// failingReader fails every read.
type failingReader struct{}

var errRead = errors.New("disk on fire")

func (failingReader) Read([]byte) (int, error) { return 0, errRead }

func TestLoadReadError(t *testing.T) {
	_, err := sizes.Load(failingReader{})
	if !errors.Is(err, errRead) || errors.Is(err, sizes.ErrInvalidSize) {
		t.Errorf("Load() error %v, want the read error and not ErrInvalidSize", err)
	}
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "sizes.yaml")
	if err := os.WriteFile(good, []byte(readFile(t, "testdata/sizes.yaml")), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("small: {formt: png}"), 0o600); err != nil {
		t.Fatal(err)
	}

	s, err := sizes.LoadFile(good)
	if err != nil {
		t.Fatalf("LoadFile: %v", err)
	}
	checkSizes(t, s, want)

	tests := []struct {
		name string
		path string
		want error
	}{
		{"missing", filepath.Join(dir, "missing.yaml"), fs.ErrNotExist},
		{"directory", dir, nil},
		{"invalid", bad, sizes.ErrInvalidSize},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := sizes.LoadFile(tt.path)
			if err == nil || s != nil {
				t.Fatalf("LoadFile(%q) = %v, %v; want an error", tt.path, s, err)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("error %v does not wrap %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.path) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestLoadAsync(t *testing.T) {
	set, err := sizes.Load(strings.NewReader("medium: {processors: [{path: resize, width: 400, height: 400}], ASYNC: true}\nsmall: {async: false}"))
	if err != nil {
		t.Fatal(err)
	}
	if !set["medium"].Async || set["medium"].Lazy {
		t.Errorf("medium: Async %v Lazy %v, want async only", set["medium"].Async, set["medium"].Lazy)
	}
	if set["small"].Async {
		t.Error("small: async: false loaded as async")
	}
}

// TestLoadManyKeys loads a document of more sizes than a mapping may hold
// (and, inside a size, more parameters): each is refused with
// ErrInvalidSize naming the count, before the decoder compares the keys
// pair by pair; a thousand sizes load.
func TestLoadManyKeys(t *testing.T) {
	doc := func(n int, line string) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, line, i)
		}
		return b.String()
	}
	for name, text := range map[string]string{
		"sizes":      doc(20_000, "s%d: {}\n"),
		"parameters": "small:\n  processors:\n    - path: resize\n" + doc(2_000, "      p%d: 1\n"),
		// merged from mappings of at most 1000 keys each
		"merged": "<<:\n  - " + strings.ReplaceAll(doc(1000, "a%d: {}\n"), "\n", "\n    ") + "\n  - " + strings.ReplaceAll(doc(1000, "b%d: {}\n"), "\n", "\n    "),
	} {
		if _, err := sizes.Load(strings.NewReader(text)); !errors.Is(err, sizes.ErrInvalidSize) || !strings.Contains(err.Error(), "more than 1000") {
			t.Errorf("%s: %v, want ErrInvalidSize for a mapping of more than 1000 keys", name, err)
		}
	}
	set, err := sizes.Load(strings.NewReader(doc(1000, "s%d: {processors: [{path: resize, width: 10}]}\n")))
	if err != nil || len(set) != 1000 {
		t.Errorf("a thousand sizes: %d, %v", len(set), err)
	}
}

// TestLoadNameAsWritten refuses a size name that is not ASCII as written,
// though it lower-cases to ASCII (the Kelvin sign to "k").
func TestLoadNameAsWritten(t *testing.T) {
	if set, err := sizes.Load(strings.NewReader("\"\u212A\": {}\n")); !errors.Is(err, sizes.ErrInvalidSize) {
		t.Errorf("a size named with the Kelvin sign: %v, %v; want ErrInvalidSize", set.Names(), err)
	}
}
