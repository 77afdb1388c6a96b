package jpegdct

import (
	"bytes"
	"errors"
	"image"
	"image/jpeg"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// photos returns the JPEG files the tests decode: the project's, its
// EXIF samples, the shared 2560x1600 photos when present, and the
// fixtures of this package (restart markers, every subsampling).
func photos(t testing.TB) []string {
	t.Helper()
	var files []string
	for _, g := range []string{"../../testdata/*.jpg", "../../testdata/exif/*.jpg", "../../../shared/testdata/photos/*.jpg", "testdata/*.jpg"} {
		m, _ := filepath.Glob(g)
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Fatal("no test photos")
	}
	return files
}

// reference returns the JPEG whose image/jpeg decode data's is compared
// with: data itself, but for the photo image/jpeg refuses (restart markers
// in the progressive scans of a subsampled component), whose lossless
// baseline transcode (the same coefficients) is beside it.
func reference(t testing.TB, name string, data []byte) []byte {
	t.Helper()
	if filepath.Base(name) != "progressive-restart-pizza.jpg" {
		return data
	}
	ref, err := os.ReadFile(filepath.Join(filepath.Dir(name), "baseline-of-progressive-restart-pizza.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

// plane is one 8-bit plane of an image.
type plane struct {
	pix    []byte
	stride int
	w, h   int
}

// planes returns the planes of a YCbCr or Gray image, chroma at its own
// resolution.
func planes(img image.Image) []plane {
	switch m := img.(type) {
	case *image.Gray:
		return []plane{{m.Pix, m.Stride, m.Rect.Dx(), m.Rect.Dy()}}
	case *image.YCbCr:
		w, h := m.Rect.Dx(), m.Rect.Dy()
		c := m.COffset(m.Rect.Max.X-1, m.Rect.Max.Y-1)
		cw, ch := c%m.CStride+1, c/m.CStride+1
		return []plane{{m.Y, m.YStride, w, h}, {m.Cb, m.CStride, cw, ch}, {m.Cr, m.CStride, cw, ch}}
	}
	return nil
}

// compare returns how far got is from want averaged down k times (each
// sample of got against the mean of the k x k samples of want it covers,
// leaving out the partial ones at the edges): the mean absolute difference, the mean difference
// (a bias), and the share of samples more than a level and a half away.
func compare(got, want plane, k int) (mean, bias, far float64) {
	n := 0
	for y := range got.h {
		for x := range got.w {
			if y*k+k > want.h || x*k+k > want.w {
				continue // a partial block at the edge also averages the encoder's padding
			}
			s, c := 0, 0
			for yy := y * k; yy < y*k+k; yy++ {
				for xx := x * k; xx < x*k+k; xx++ {
					s += int(want.pix[yy*want.stride+xx])
					c++
				}
			}
			d := float64(got.pix[y*got.stride+x]) - float64(s)/float64(c)
			mean, bias, n = mean+math.Abs(d), bias+d, n+1
			if math.Abs(d) > 1.5 {
				far++
			}
		}
	}
	return mean / float64(n), bias / float64(n), far / float64(n)
}

// TestDecodeMatchesImageJPEG checks every photo at each reduction against
// image/jpeg's full decode averaged down as much, plane by plane: the same
// bounds, the same kind of image and subsampling, and samples within
// rounding of the average (a reduced transform is a box filter of the
// full one), but where the full decode clips: under 1 % of them.
func TestDecodeMatchesImageJPEG(t *testing.T) {
	for _, f := range photos(t) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		want, err := jpeg.Decode(bytes.NewReader(reference(t, f, data)))
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []int{2, 4, 8} {
			got, err := Decode(data, k, 1<<30)
			if err != nil {
				t.Fatalf("%s at 1/%d: %v", f, k, err)
			}
			wb := want.Bounds()
			if gb := got.Bounds(); gb != image.Rect(0, 0, (wb.Dx()+k-1)/k, (wb.Dy()+k-1)/k) {
				t.Fatalf("%s at 1/%d: %v from %v", f, k, gb, wb)
			}
			switch w := want.(type) {
			case *image.YCbCr:
				if g, ok := got.(*image.YCbCr); !ok || g.SubsampleRatio != w.SubsampleRatio {
					t.Fatalf("%s at 1/%d: %T, want %T of %v", f, k, got, want, w.SubsampleRatio)
				}
			case *image.Gray:
				if _, ok := got.(*image.Gray); !ok {
					t.Fatalf("%s at 1/%d: %T, want %T", f, k, got, want)
				}
			default:
				t.Fatalf("%s: image/jpeg decoded a %T", f, want)
			}
			gp, wp := planes(got), planes(want)
			for i := range gp {
				if gp[i].w != (wp[i].w+k-1)/k || gp[i].h != (wp[i].h+k-1)/k {
					t.Fatalf("%s at 1/%d: plane %d is %dx%d from %dx%d", f, k, i, gp[i].w, gp[i].h, wp[i].w, wp[i].h)
				}
				mean, bias, far := compare(gp[i], wp[i], k)
				if mean > 0.5 || math.Abs(bias) > 0.25 || far > 0.01 {
					t.Errorf("%s at 1/%d, plane %d: %.2f levels from image/jpeg averaged down on average, bias %.2f, %.2f %% over 1.5 levels",
						filepath.Base(f), k, i, mean, bias, 100*far)
				}
			}
		}
	}
}

// TestDecodeRefusesDamage checks that a damaged or truncated JPEG is an
// error (so that image/jpeg decides), never a partly decoded image.
func TestDecodeRefusesDamage(t *testing.T) {
	data, err := os.ReadFile("../../testdata/pizza-600x400.jpg")
	if err != nil {
		t.Fatal(err)
	}
	bad := func(at int, b byte) []byte {
		c := bytes.Clone(data)
		c[at] = b
		return c
	}
	sos := bytes.Index(data, []byte{0xff, markerSOS})
	for name, c := range map[string]struct {
		data []byte
		want error
	}{
		"empty":          {nil, ErrFormat},
		"not a JPEG":     {[]byte("GIF89a...."), ErrFormat},
		"header only":    {data[:sos], ErrFormat},
		"truncated scan": {data[:len(data)/2], ErrFormat},
		"no EOI":         {data[:len(data)-2], ErrFormat},
		"marker in scan": {append(bytes.Clone(data[:len(data)/2]), 0xff, 0xd9), ErrFormat},
		"bad marker":     {bad(sos+1, 0x02), ErrFormat},
		"SOF cut short":  {bad(bytes.Index(data, []byte{0xff, markerSOF0})+3, 0), ErrFormat},
	} {
		t.Run(name, func(t *testing.T) {
			img, err := Decode(c.data, 2, 1<<30)
			if img != nil || !errors.Is(err, c.want) {
				t.Fatalf("got %T, %v; want %v", img, err, c.want)
			}
		})
	}
}

// TestDecodeRefusesWhatImageJPEGRefuses damages a photo one byte at a
// time, all through the file: whatever image/jpeg refuses, Decode refuses
// too (the reverse is allowed: image/jpeg then decides), and whatever
// Decode accepts has the photo's reduced bounds.
func TestDecodeRefusesWhatImageJPEGRefuses(t *testing.T) {
	for _, name := range []string{"../../testdata/pizza-600x400.jpg", "testdata/progressive-pizza-600x400.jpg"} {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		refused, both := 0, 0
		// Every byte of the first 16, then ever sparser; under the race
		// detector, which makes image/jpeg's reference decode ten times
		// slower, half as many (CI's time).
		sparse := 16
		if raceEnabled {
			sparse = 8
		}
		for at := 0; at < len(data); at += 1 + at/sparse {
			for _, b := range []byte{0x00, 0xff, data[at] ^ 0x5a} {
				c := bytes.Clone(data)
				c[at] = b
				_, jerr := jpeg.Decode(bytes.NewReader(c))
				if jerr != nil {
					refused++
				}
				for _, k := range []int{1, 2, 8} { // 8: a baseline scan's own loop (scanDC)
					img, err := Decode(c, k, 1<<30)
					if jerr != nil {
						if err == nil {
							t.Errorf("%s, byte %d set to %#x: image/jpeg refuses it (%v), Decode at 1/%d does not", name, at, b, jerr, k)
						} else if k == 2 {
							both++
						}
						continue
					}
					if err == nil && img.Bounds() != image.Rect(0, 0, 600/k, 400/k) {
						t.Errorf("%s, byte %d set to %#x, 1/%d: %v", name, at, b, k, img.Bounds())
					}
				}
			}
		}
		t.Logf("%s: %d damaged copies refused by image/jpeg, %d of them by Decode", name, refused, both)
		if refused == 0 {
			t.Fatal("no damage was refused: the test damages nothing")
		}
	}
}

// TestDecodeRefusesTEM: a TEM marker (0xff01), which image/jpeg refuses
// as unknown, is refused too, before a scan or between segments.
func TestDecodeRefusesTEM(t *testing.T) {
	data, err := os.ReadFile("../../testdata/pizza-600x400.jpg")
	if err != nil {
		t.Fatal(err)
	}
	for _, before := range [][]byte{{0xff, 0xda}, {0xff, 0xdb}} {
		at := bytes.Index(data, before)
		c := slices.Concat(data[:at], []byte{0xff, 0x01}, data[at:])
		if _, jerr := jpeg.Decode(bytes.NewReader(c)); jerr == nil {
			t.Fatalf("image/jpeg decodes a TEM before %x", before)
		}
		for _, k := range []int{1, 2, 8} {
			if _, err := Decode(c, k, 1<<30); !errors.Is(err, ErrFormat) {
				t.Errorf("a TEM before %x, at 1/%d: %v, want ErrFormat", before, k, err)
			}
		}
	}
}

// TestDecodeLeaves checks what Decode leaves to image/jpeg or refuses
// before allocating: arithmetic coding, other reductions, and frames over
// the pixel limit.
func TestDecodeLeaves(t *testing.T) {
	read := func(name string) []byte {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	photo := read("testdata/s440.jpg") // 333x217
	for _, c := range []struct {
		name  string
		data  []byte
		k     int
		limit int64
		want  error
	}{
		{"arithmetic", read("testdata/arithmetic.jpeg"), 2, 1 << 30, ErrUnsupported},
		{"a third", photo, 3, 1 << 30, ErrUnsupported},
		{"over the limit", photo, 2, 333*217 - 1, ErrTooLarge},
	} {
		t.Run(c.name, func(t *testing.T) {
			img, err := Decode(c.data, c.k, c.limit)
			if img != nil || !errors.Is(err, c.want) {
				t.Fatalf("got %T, %v; want %v", img, err, c.want)
			}
		})
	}
	if _, err := Decode(photo, 2, 333*217); err != nil {
		t.Fatalf("at the limit: %v", err)
	}
}

// chromaFactors are the fixtures whose chroma is sampled more than once
// an MCU (testdata/README.md): of each sampling (cjpeg -sample, Y,Cb,Cr)
// a progressive file with a restart marker every MCU row, which
// image/jpeg refuses, and its baseline transcode, which it decodes with
// the subsampling of the ratios of luma's factors to chroma's.
var chromaFactors = []struct {
	sample string
	ratio  image.YCbCrSubsampleRatio
}{
	{"22-12-12", image.YCbCrSubsampleRatio422},
	{"41-21-21", image.YCbCrSubsampleRatio422},
	{"22-21-21", image.YCbCrSubsampleRatio440},
	{"21-21-21", image.YCbCrSubsampleRatio444},
	{"12-12-12", image.YCbCrSubsampleRatio444},
}

// transcodes returns the pairs of a baseline JPEG and its lossless
// progressive transcode (or the reverse: the same coefficients).
func transcodes() [][2]string {
	pairs := [][2]string{
		{"../../testdata/pizza-600x400.jpg", "testdata/progressive-pizza-600x400.jpg"},
		{"testdata/baseline-422-from-progressive.jpg", "testdata/progressive-422-restart.jpeg"},
	}
	for _, c := range chromaFactors {
		pairs = append(pairs, [2]string{"testdata/baseline-" + c.sample + ".jpg", "testdata/progressive-restart-" + c.sample + ".jpeg"})
	}
	// Without restart markers, which image/jpeg refuses too: it reads a
	// block too many a row in the scans of the 2x1 chroma.
	return append(pairs, [2]string{"testdata/baseline-41-21-21.jpg", "testdata/progressive-41-21-21.jpeg"})
}

// TestChromaSamplingFactors decodes the fixtures of chromaFactors at
// every reduction and whole, progressive and baseline: an *image.YCbCr
// of the subsampling image/jpeg gives the baseline file. How close its
// samples are is TestDecodeMatchesImageJPEG's and TestFullSize's (the
// baseline files), and TestProgressiveEqualsBaseline's (the progressive
// ones).
func TestChromaSamplingFactors(t *testing.T) {
	for _, c := range chromaFactors {
		for _, name := range []string{"testdata/baseline-" + c.sample + ".jpg", "testdata/progressive-restart-" + c.sample + ".jpeg"} {
			data, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			if w, err := jpeg.Decode(bytes.NewReader(data)); err == nil {
				if w, ok := w.(*image.YCbCr); !ok || w.SubsampleRatio != c.ratio {
					t.Fatalf("%s: image/jpeg decodes a %T, want YCbCr %v", name, w, c.ratio)
				}
			}
			for _, k := range []int{1, 2, 4, 8} {
				img, err := Decode(data, k, 1<<30)
				if err != nil {
					t.Errorf("%s at 1/%d: %v", name, k, err)
					continue
				}
				if m, ok := img.(*image.YCbCr); !ok || m.SubsampleRatio != c.ratio {
					t.Errorf("%s at 1/%d: a %T, want YCbCr %v", name, k, img, c.ratio)
				}
			}
		}
	}
}

// TestProgressiveEqualsBaseline decodes progressive photos and their
// lossless baseline counterparts (jpegtran: the same coefficients), at
// every reduction and whole: the images must be the same byte for byte
// (within their bounds: the padding blocks past the edge are not sent by a
// progressive file's one-component scans). The pizza is in ten scans with
// successive approximation; the others have restart markers in the
// scans of a component sampled more than once an MCU (the 2x1 luma of
// one, and those of chromaFactors), which image/jpeg refuses.
func TestProgressiveEqualsBaseline(t *testing.T) {
	for _, pair := range transcodes() {
		baseline, err := os.ReadFile(pair[0])
		if err != nil {
			t.Fatal(err)
		}
		progressive, err := os.ReadFile(pair[1])
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []int{1, 2, 4, 8} {
			a, err1 := Decode(baseline, k, 1<<30)
			b, err2 := Decode(progressive, k, 1<<30)
			if err1 != nil || err2 != nil {
				t.Fatalf("%s at 1/%d: %v, %v", pair[1], k, err1, err2)
			}
			if a.Bounds() != b.Bounds() {
				t.Fatalf("%s at 1/%d: %v and %v", pair[1], k, a.Bounds(), b.Bounds())
			}
			pa, pb := planes(a), planes(b)
			for i := range pa {
				for y := range pa[i].h {
					ra := pa[i].pix[y*pa[i].stride:][:pa[i].w]
					rb := pb[i].pix[y*pb[i].stride:][:pb[i].w]
					if !bytes.Equal(ra, rb) {
						t.Fatalf("%s at 1/%d: plane %d, row %d decodes differently", pair[1], k, i, y)
					}
				}
			}
		}
	}
}

// TestFullSize decodes every fixture whole (k = 1) and compares it with
// image/jpeg's decode, plane by plane: within a level and a half but for a
// few samples (the two transforms round differently). Those image/jpeg
// refuses are compared with its decode of their baseline transcode (see
// transcodes).
func TestFullSize(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.jp*g")
	baselines := map[string]string{} // by progressive file
	for _, pair := range transcodes() {
		baselines[pair[1]] = pair[0]
	}
	decoded := 0
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Decode(data, 1, 1<<30)
		want, werr := jpeg.Decode(bytes.NewReader(data))
		if base, ok := baselines[name]; ok && werr != nil {
			ref, rerr := os.ReadFile(base)
			if rerr != nil {
				t.Fatal(rerr)
			}
			want, werr = jpeg.Decode(bytes.NewReader(ref))
		}
		switch {
		case errors.Is(err, ErrUnsupported):
			continue // left to image/jpeg
		case err != nil:
			t.Errorf("%s: %v", name, err)
			continue
		case werr != nil:
			t.Errorf("%s: image/jpeg refuses it (%v), Decode does not", name, werr)
			continue
		}
		decoded++
		if got.Bounds() != want.Bounds() {
			t.Errorf("%s: %v, want %v", name, got.Bounds(), want.Bounds())
			continue
		}
		pg, pw := planes(got), planes(want)
		for i := range pg {
			if mean, _, far := compare(pg[i], pw[i], 1); mean > 0.5 || far > 0.01 {
				t.Errorf("%s: plane %d: mean difference %.3f, %.2f%% over 1.5 levels", name, i, mean, 100*far)
			}
		}
	}
	if decoded < 8 {
		t.Errorf("only %d fixtures decoded whole by both", decoded)
	}
}
