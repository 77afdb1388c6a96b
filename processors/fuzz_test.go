package processors_test

import (
	"errors"
	"image"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/disintegration/gift"
	"github.com/gorm-thumbnails/thumbnails/processors"
)

// fuzzValue turns the fuzzer's inputs into a value of one of the shapes a
// YAML or JSON decoder produces.
func fuzzValue(kind uint8, s string, f float64, i int64) any {
	switch kind % 9 {
	case 0:
		return s
	case 1:
		return f
	case 2:
		return i
	case 3:
		return kind&16 != 0
	case 4:
		return nil
	case 5:
		return []any{s, f}
	case 6:
		return []any{i, s}
	case 7:
		return []any{s}
	default:
		return map[string]any{s: f}
	}
}

func FuzzNew(f *testing.F) {
	f.Add("resize", "width", uint8(2), "", 0.0, int64(100), "height", "50%")
	f.Add("resize", "width", uint8(0), "50%", 0.0, int64(0), "method", "fill")
	f.Add("thumbnails.processors.resize", "height", uint8(1), "", 1e9, int64(0), "method", "fit")
	f.Add("crop", "center", uint8(5), "100%", 3.5, int64(0), "width", "10")
	f.Add("crop", "center", uint8(6), "7", 0.0, int64(-4), "height", "1e3")
	f.Add("rotate", "degrees", uint8(1), "", 45.0, int64(0), "", "")
	f.Add("rotate", "degrees", uint8(0), "-1e-300", 0.0, int64(0), "", "")
	f.Add("flip", "direction", uint8(0), "Vertical", 0.0, int64(0), "", "")
	f.Add("resize", "WIDTH", uint8(1), "", math.NaN(), int64(0), "width", "0x1p4")
	f.Add("sharpen", "x", uint8(4), "", 0.0, int64(0), "", "")
	f.Add("resize", "upscale", uint8(3), "", 0.0, int64(0), "width", "500")
	f.Add("resize", "upscale", uint8(19), "", 0.0, int64(0), "height", "1")
	f.Add("crop", "anchor", uint8(0), "bottom-right", 0.0, int64(0), "width", "10")
	f.Add("crop", "center", uint8(5), "1", 1.0, int64(0), "anchor", "top")
	f.Add("pad", "width", uint8(2), "", 0.0, int64(300), "height", "30%")
	f.Add("pad", "color", uint8(0), "#ff00ff80", 0.0, int64(0), "width", "9")
	f.Add("focal", "x", uint8(0), "90%", 0.0, int64(0), "width", "8")
	f.Add("focal", "y", uint8(2), "", 0.0, int64(70000), "height", "8")
	f.Add("smart", "width", uint8(1), "", 3.0, int64(0), "height", "200%")
	f.Add("blur", "sigma", uint8(1), "", 1.5, int64(0), "", "")
	f.Add("unsharp", "sigma", uint8(0), "1", 0.0, int64(0), "amount", "2")
	f.Add("grayscale", "", uint8(4), "", 0.0, int64(0), "", "")
	f.Add("brightness", "percent", uint8(2), "", 0.0, int64(-100), "", "")
	f.Add("contrast", "Percent", uint8(0), "100.5", 0.0, int64(0), "", "")
	f.Fuzz(func(t *testing.T, name, key string, kind uint8, s string, fl float64, i int64, key2, s2 string) {
		params := map[string]any{key: fuzzValue(kind, s, fl, i)}
		if key2 != "" {
			params[key2] = s2
		}
		filter, err := processors.New(name, params)
		if err != nil {
			if !errors.Is(err, processors.ErrUnknownProcessor) && !errors.Is(err, processors.ErrInvalidParameter) {
				t.Fatalf("error %v wraps neither sentinel", err)
			}
			if filter != nil {
				t.Fatalf("filter %v returned with error %v", filter, err)
			}
			return
		}
		for _, src := range []image.Rectangle{image.Rect(0, 0, 0, 0), image.Rect(0, 0, 1, 1), image.Rect(3, -2, 10, 3), image.Rect(0, 0, 2560, 1600)} {
			b := filter.Bounds(src)
			if !src.Empty() && (b.Empty() || b.Min != image.Point{} || b.Dx() > 2*processors.MaxDimension || b.Dy() > 2*processors.MaxDimension) {
				t.Fatalf("Bounds(%v) = %v", src, b)
			}
		}
		// Drawing allocates the output and, for fill, a larger temporary
		// image: draw only where both stay small.
		src := quadrants(3, -2, 7, 5)
		g := gift.New(filter)
		if b := g.Bounds(src.Bounds()); b.Dx() <= 256 && b.Dy() <= 256 {
			g.Draw(image.NewNRGBA(b), src)
		}
	})
}

func FuzzSplitCommand(f *testing.F) {
	for _, tt := range splitTests {
		f.Add(tt.command)
	}
	for _, seed := range []string{"", `'`, `"`, `\`, `"\`, `a\ b`, "a\\\nb", `"a\"b"`, `''""`, "$(rm -rf /)", "\xff'\xfe"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, command string) {
		words, err := processors.SplitCommand(command)
		if err != nil {
			if !errors.Is(err, processors.ErrInvalidParameter) || words != nil {
				t.Fatalf("SplitCommand(%q) = %q, %v", command, words, err)
			}
			return
		}
		if len(words) == 0 {
			t.Fatalf("SplitCommand(%q) returned no words and no error", command)
		}
		// The words hold no more bytes than the command: splitting only removes.
		total := 0
		for _, w := range words {
			total += len(w)
		}
		if total > len(command) {
			t.Fatalf("SplitCommand(%q) = %q, longer than the command", command, words)
		}
		// Quoting each word and joining them gives a command that splits back
		// into the same words.
		quoted := make([]string, len(words))
		for i, w := range words {
			quoted[i] = quote(w)
		}
		again, err := processors.SplitCommand(strings.Join(quoted, " "))
		if err != nil || !slices.Equal(again, words) {
			t.Fatalf("SplitCommand(%q) = %q, but its quoted join splits into %q, %v", command, words, again, err)
		}
		// A command of words with no special characters splits on blanks alone.
		if !strings.ContainsAny(command, "'\"\\") && !slices.Equal(words, strings.FieldsFunc(command, func(r rune) bool { return r == ' ' || r == '\t' || r == '\n' })) {
			t.Fatalf("SplitCommand(%q) = %q, not its fields", command, words)
		}
	})
}
