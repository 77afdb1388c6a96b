// Package jpegdct decodes baseline JPEG images reduced 2, 4 or 8 times
// while decoding, in pure Go: each 8x8 block of coefficients goes through
// a 4x4, 2x2 or 1x1 inverse DCT of its lowest frequencies instead of the
// full one, which is what libjpeg's scaled decoding and libvips'
// shrink-on-load do. The Huffman decoding still reads every coefficient;
// the inverse transform, the dequantisation and the pixel stores shrink with
// the output.
//
// It covers what cameras and most encoders write: 8-bit baseline and
// extended-Huffman frames (SOF0, SOF1) in one interleaved scan, and
// progressive ones (SOF2, spectral selection and successive
// approximation), greyscale or YCbCr with any of the subsamplings
// image.YCbCr knows, whatever the sampling factors that make them (chroma
// 1x2 beside a 2x2 luma is 4:2:2, as for image/jpeg), with or without
// restart markers. Everything else
// (arithmetic coding, 12-bit, CMYK, RGB, baseline in several scans) is
// ErrUnsupported, for image/jpeg to decode; and a damaged stream is an
// error, never a partly grey image, so that image/jpeg decides whether it
// is valid: whatever image/jpeg refuses, this package refuses too, but
// for what image/jpeg gets wrong in the progressive scans of a component
// sampled more than once an MCU: restart markers (libjpeg's cjpeg
// -progressive -restart, some web images), and the blocks of a 2x1 chroma
// beside a 4x1 luma, which this package decodes, at full size too (k = 1).
package jpegdct

import (
	"errors"
	"fmt"
	"image"
)

// ErrUnsupported marks a JPEG this package leaves to image/jpeg.
var ErrUnsupported = errors.New("jpegdct: unsupported JPEG")

// ErrFormat marks a JPEG that is not valid.
var ErrFormat = errors.New("jpegdct: invalid JPEG")

// ErrTooLarge marks a frame over the caller's pixel limit.
var ErrTooLarge = errors.New("jpegdct: image too large")

const (
	markerSOF0 = 0xc0 // baseline
	markerSOF1 = 0xc1 // extended sequential, Huffman
	markerSOF2 = 0xc2 // progressive, Huffman
	markerDHT  = 0xc4
	markerRST0 = 0xd0
	markerSOI  = 0xd8
	markerEOI  = 0xd9
	markerSOS  = 0xda
	markerDQT  = 0xdb
	markerDNL  = 0xdc
	markerDRI  = 0xdd
	markerAPP0 = 0xe0
	markerAPPE = 0xee // Adobe
	markerAPPF = 0xef
	markerCOM  = 0xfe
)

// component is one colour component of the frame.
type component struct {
	id   byte
	h, v int   // sampling factors
	tq   int   // quantisation table
	td   int   // DC Huffman table, from the scan
	ta   int   // AC Huffman table, from the scan
	pred int32 // DC predictor

	pix    []byte // the reduced plane, padded to whole blocks
	stride int
}

// decoder holds the state of one Decode.
type decoder struct {
	data []byte
	pos  int

	width, height int
	comps         []component
	quant         [4]*[64]uint16 // zig-zag order
	dc, ac        [4]*huffTable
	restart       int // MCUs between restart markers, 0 for none
	// beyondImageJPEG is set by a valid progressive scan of one component
	// that image/jpeg refuses: with restart markers, of a component
	// sampled more than once an MCU; or of one whose blocks image/jpeg
	// miscounts (see progressiveScan).
	beyondImageJPEG bool
	adobe           int // Adobe APP14 transform, -1 when absent
	frame, done     bool
	progressive     bool
	coefs           [][]int16  // progressive: the kept coefficients of each component's blocks
	nonzero         [][]uint64 // progressive: by block, bit k set when coefficient k is not zero

	bits  bitReader
	n     int // reduced block side: 8 / k
	limit int64
}

// Decode decodes the baseline JPEG data reduced k times (2, 4 or 8; the
// bounds are those of the image divided by k, rounded up) into an
// *image.YCbCr, or an *image.Gray for a greyscale JPEG. A frame of more
// than maxPixels pixels is ErrTooLarge, before anything is allocated.
// k = 1 decodes it whole, with a plain float transform: for the valid
// progressive files image/jpeg refuses (restart markers in the scan of a
// subsampled component), which the reduced decodes take too.
func Decode(data []byte, k int, maxPixels int64) (img image.Image, err error) {
	n := 0
	switch k {
	case 1, 2, 4, 8:
		n = 8 / k
	default:
		return nil, fmt.Errorf("%w: reduction %d (1, 2, 4 or 8)", ErrUnsupported, k)
	}
	// The stream is indexed with checks throughout (FuzzDecode runs
	// without this); a bug in them must still be an error that sends the
	// JPEG to image/jpeg, not a crash of the caller's save.
	defer func() {
		if r := recover(); r != nil {
			img, err = nil, fmt.Errorf("%w: %v", ErrFormat, r)
		}
	}()
	return decodeReduced(data, n, maxPixels)
}

// decodeReduced is Decode to n x n blocks, without its recover.
func decodeReduced(data []byte, n int, maxPixels int64) (image.Image, error) {
	d := &decoder{data: data, n: n, adobe: -1, limit: maxPixels}
	if err := d.decode(); err != nil {
		return nil, err
	}
	return d.image()
}

// decode walks the markers from SOI to EOI.
func (d *decoder) decode() error {
	if len(d.data) < 2 || d.data[0] != 0xff || d.data[1] != markerSOI {
		return fmt.Errorf("%w: missing SOI marker", ErrFormat)
	}
	d.pos = 2
	for {
		m, err := d.marker()
		if err != nil {
			return err
		}
		if m == markerEOI {
			if !d.done {
				return fmt.Errorf("%w: no image data before EOI", ErrFormat)
			}
			if d.progressive {
				return d.reconstruct()
			}
			return nil
		}
		if m >= markerRST0 && m <= markerRST0+7 {
			continue // parameterless; a stray RST between segments is tolerated, as by image/jpeg
		}
		if m == 0x01 { // TEM: parameterless for libjpeg, unknown to image/jpeg
			return fmt.Errorf("%w: unknown marker 0x01", ErrFormat)
		}
		seg, err := d.segment()
		if err != nil {
			return err
		}
		switch {
		case m == markerSOF0 || m == markerSOF1 || m == markerSOF2:
			d.progressive = m == markerSOF2
			err = d.parseSOF(seg)
		case m == markerDHT:
			err = d.parseDHT(seg)
		case m >= 0xc3 && m <= 0xcf: // lossless, arithmetic
			err = fmt.Errorf("%w: frame type %#x", ErrUnsupported, m)
		case m == markerDQT:
			err = d.parseDQT(seg)
		case m == markerDRI:
			err = d.parseDRI(seg)
		case m == markerSOS:
			err = d.parseSOS(seg)
		case m == markerAPPE:
			d.parseAdobe(seg)
		case m == markerDNL:
			err = fmt.Errorf("%w: DNL marker", ErrUnsupported)
		case m >= markerAPP0 && m <= markerAPPF || m == markerCOM:
			// skipped
		default:
			err = fmt.Errorf("%w: unknown marker %#x", ErrFormat, m)
		}
		if err != nil {
			return err
		}
	}
}

// marker reads the next marker, skipping fill bytes.
func (d *decoder) marker() (byte, error) {
	if d.pos+1 >= len(d.data) || d.data[d.pos] != 0xff {
		return 0, fmt.Errorf("%w: expected a marker at byte %d", ErrFormat, d.pos)
	}
	d.pos++
	for d.pos < len(d.data) && d.data[d.pos] == 0xff {
		d.pos++
	}
	if d.pos >= len(d.data) {
		return 0, fmt.Errorf("%w: truncated at a marker", ErrFormat)
	}
	m := d.data[d.pos]
	d.pos++
	if m == 0 {
		return 0, fmt.Errorf("%w: stuffed byte outside entropy-coded data", ErrFormat)
	}
	return m, nil
}

// segment returns the payload of the segment at pos and moves past it.
func (d *decoder) segment() ([]byte, error) {
	if d.pos+2 > len(d.data) {
		return nil, fmt.Errorf("%w: truncated segment length", ErrFormat)
	}
	n := int(d.data[d.pos])<<8 | int(d.data[d.pos+1])
	if n < 2 || d.pos+n > len(d.data) {
		return nil, fmt.Errorf("%w: segment of %d bytes at byte %d", ErrFormat, n, d.pos)
	}
	seg := d.data[d.pos+2 : d.pos+n]
	d.pos += n
	return seg, nil
}

func (d *decoder) parseSOF(seg []byte) error {
	if d.frame {
		return fmt.Errorf("%w: a second frame", ErrUnsupported)
	}
	if len(seg) < 6 {
		return fmt.Errorf("%w: short SOF", ErrFormat)
	}
	if seg[0] != 8 {
		return fmt.Errorf("%w: %d-bit samples", ErrUnsupported, seg[0])
	}
	d.height = int(seg[1])<<8 | int(seg[2])
	d.width = int(seg[3])<<8 | int(seg[4])
	nc := int(seg[5])
	if d.width == 0 || d.height == 0 {
		return fmt.Errorf("%w: %dx%d frame", ErrUnsupported, d.width, d.height)
	}
	if int64(d.width)*int64(d.height) > d.limit {
		return fmt.Errorf("%w: %dx%d is over %d pixels", ErrTooLarge, d.width, d.height, d.limit)
	}
	if nc != 1 && nc != 3 {
		return fmt.Errorf("%w: %d components", ErrUnsupported, nc)
	}
	if len(seg) != 6+3*nc {
		return fmt.Errorf("%w: SOF of %d bytes for %d components", ErrFormat, len(seg), nc)
	}
	d.comps = make([]component, nc)
	for i := range d.comps {
		c := &d.comps[i]
		b := seg[6+3*i:]
		c.id, c.h, c.v, c.tq = b[0], int(b[1]>>4), int(b[1]&15), int(b[2])
		if c.h < 1 || c.h > 4 || c.v < 1 || c.v > 4 || c.tq > 3 {
			return fmt.Errorf("%w: component %d: sampling %dx%d, table %d", ErrFormat, c.id, c.h, c.v, c.tq)
		}
		for j := range i {
			if d.comps[j].id == c.id {
				return fmt.Errorf("%w: component %d repeated", ErrFormat, c.id)
			}
		}
	}
	if nc == 1 {
		d.comps[0].h, d.comps[0].v = 1, 1 // one component is one block an MCU, whatever its factors
	} else if _, ok := d.ratio(); !ok {
		y, cb, cr := d.comps[0], d.comps[1], d.comps[2]
		return fmt.Errorf("%w: sampling %dx%d, %dx%d, %dx%d", ErrUnsupported, y.h, y.v, cb.h, cb.v, cr.h, cr.v)
	}
	d.frame = true
	return nil
}

func (d *decoder) parseDQT(seg []byte) error {
	for len(seg) > 0 {
		pq, tq := seg[0]>>4, int(seg[0]&15)
		if tq > 3 || pq > 1 {
			return fmt.Errorf("%w: quantisation table %d of precision %d", ErrFormat, tq, pq)
		}
		size := 1 + 64*(1+int(pq))
		if len(seg) < size {
			return fmt.Errorf("%w: short DQT", ErrFormat)
		}
		q := new([64]uint16)
		for i := range q {
			if pq == 0 {
				q[i] = uint16(seg[1+i])
			} else {
				q[i] = uint16(seg[1+2*i])<<8 | uint16(seg[2+2*i])
			}
		}
		d.quant[tq] = q
		seg = seg[size:]
	}
	return nil
}

func (d *decoder) parseDRI(seg []byte) error {
	if len(seg) != 2 {
		return fmt.Errorf("%w: DRI of %d bytes", ErrFormat, len(seg))
	}
	d.restart = int(seg[0])<<8 | int(seg[1])
	return nil
}

// parseAdobe records the colour transform of an Adobe APP14 segment: 0
// means RGB, which this package leaves to image/jpeg.
func (d *decoder) parseAdobe(seg []byte) {
	if len(seg) >= 12 && string(seg[:5]) == "Adobe" {
		d.adobe = int(seg[11])
	}
}

func (d *decoder) parseSOS(seg []byte) error {
	if !d.frame {
		return fmt.Errorf("%w: SOS before SOF", ErrFormat)
	}
	if d.done && !d.progressive {
		return fmt.Errorf("%w: several scans", ErrUnsupported)
	}
	if len(seg) < 1 || len(seg) != 4+2*int(seg[0]) {
		return fmt.Errorf("%w: SOS of %d bytes", ErrFormat, len(seg))
	}
	ns := int(seg[0])
	if ns == 0 || ns > len(d.comps) {
		return fmt.Errorf("%w: a scan of %d components", ErrFormat, ns)
	}
	if !d.progressive && ns != len(d.comps) {
		return fmt.Errorf("%w: a scan of %d of %d components", ErrUnsupported, ns, len(d.comps))
	}
	ss, se, ah, al := int(seg[1+2*ns]), int(seg[2+2*ns]), int(seg[3+2*ns]>>4), int(seg[3+2*ns]&15)
	if !d.progressive && (ss != 0 || se != 63 || ah != 0 || al != 0) {
		return fmt.Errorf("%w: spectral selection %d-%d, approximation %d/%d", ErrFormat, ss, se, ah, al)
	}
	if d.progressive && (ss == 0 && se != 0 || ss > se || se > 63 || ss != 0 && ns != 1 || ah != 0 && ah != al+1 || al > 13) {
		return fmt.Errorf("%w: progressive scan %d-%d, approximation %d/%d, of %d components", ErrFormat, ss, se, ah, al, ns)
	}
	scan := make([]int, ns) // indexes into d.comps, in frame order
	for i := range ns {
		id, tables := seg[1+2*i], seg[2+2*i]
		j := 0
		for j < len(d.comps) && d.comps[j].id != id {
			j++
		}
		if j == len(d.comps) || i > 0 && j <= scan[i-1] {
			return fmt.Errorf("%w: scan component %d not in frame order", ErrUnsupported, id)
		}
		scan[i] = j
		c := &d.comps[j]
		c.td, c.ta = int(tables>>4), int(tables&15)
		needDC, needAC := ss == 0 && ah == 0, ss != 0 || !d.progressive
		if c.td > 3 || c.ta > 3 || needDC && d.dc[c.td] == nil || needAC && d.ac[c.ta] == nil {
			return fmt.Errorf("%w: component %d lacks a Huffman table", ErrFormat, id)
		}
		if !d.progressive && d.quant[c.tq] == nil {
			return fmt.Errorf("%w: component %d lacks a quantisation table", ErrFormat, id)
		}
	}
	if len(d.comps) == 3 && (d.adobe == 0 || d.comps[0].id == 'R' && d.comps[1].id == 'G' && d.comps[2].id == 'B') {
		return fmt.Errorf("%w: RGB", ErrUnsupported)
	}
	var err error
	switch {
	case d.progressive:
		err = d.progressiveScan(scan, ss, se, ah, al)
	case d.n == 1:
		err = d.scanDC()
	default:
		err = d.scan()
	}
	if err != nil {
		return err
	}
	d.done = true
	return nil
}

// ratio returns the subsampling of a YCbCr frame, as image/jpeg takes it:
// luma's sampling factors over those of the chroma, which must divide them
// and be the same for Cb and Cr, as one of the ratios image.YCbCr has; and
// no factor of 3, nor a luma sampled 4 times down (which image/jpeg
// refuses). The entropy-coded data keeps each component's own h x v blocks
// an MCU (and the planes their MCU layout: chroma sampled 1x2 beside a 2x2
// luma is 4:2:2, its plane as tall as luma's and half as wide).
func (d *decoder) ratio() (image.YCbCrSubsampleRatio, bool) {
	y, cb, cr := d.comps[0], d.comps[1], d.comps[2]
	for _, c := range d.comps {
		if c.h == 3 || c.v == 3 {
			return 0, false
		}
	}
	if y.v == 4 || cr.h != cb.h || cr.v != cb.v || y.h%cb.h != 0 || y.v%cb.v != 0 {
		return 0, false
	}
	return ratioOf(y.h/cb.h, y.v/cb.v)
}

// ratioOf returns the subsampling of a luma component sampled h x v times
// as often as the chroma.
func ratioOf(h, v int) (image.YCbCrSubsampleRatio, bool) {
	switch [2]int{h, v} {
	case [2]int{1, 1}:
		return image.YCbCrSubsampleRatio444, true
	case [2]int{2, 1}:
		return image.YCbCrSubsampleRatio422, true
	case [2]int{2, 2}:
		return image.YCbCrSubsampleRatio420, true
	case [2]int{1, 2}:
		return image.YCbCrSubsampleRatio440, true
	case [2]int{4, 1}:
		return image.YCbCrSubsampleRatio411, true
	case [2]int{4, 2}:
		return image.YCbCrSubsampleRatio410, true
	}
	return 0, false
}

// image returns the decoded planes as an image of the reduced bounds.
func (d *decoder) image() (image.Image, error) {
	k := 8 / d.n
	r := image.Rect(0, 0, (d.width+k-1)/k, (d.height+k-1)/k)
	y := &d.comps[0]
	if len(d.comps) == 1 {
		return &image.Gray{Pix: y.pix, Stride: y.stride, Rect: r}, nil
	}
	ratio, _ := d.ratio()
	return &image.YCbCr{
		Y: y.pix, Cb: d.comps[1].pix, Cr: d.comps[2].pix,
		YStride: y.stride, CStride: d.comps[1].stride,
		SubsampleRatio: ratio, Rect: r,
	}, nil
}
