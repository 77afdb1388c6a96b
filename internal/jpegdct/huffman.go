package jpegdct

import (
	"encoding/binary"
	"fmt"
)

// lutBits is how many bits of a code the lookup table resolves at once:
// nearly every code in a photo is this short.
const lutBits = 9

// huffTable is one Huffman table, canonical as JPEG builds them.
type huffTable struct {
	// lut maps the next lutBits bits to length<<8 | symbol, 0 for a code
	// longer than lutBits.
	lut [1 << lutBits]uint16
	// For longer codes, by length: the largest code (-1 for none), and
	// where the codes of that length start in vals.
	maxcode [17]int32
	valptr  [17]int32
	mincode [17]int32
	vals    []byte
	// fast maps the next lutBits bits, as an AC table, to a whole
	// coefficient when its code and magnitude fit in them: value<<16 |
	// end-of-block-or-ZRL<<12 | run<<8 | bits used; 0 otherwise.
	fast [1 << lutBits]int32
	// skip is skipTable's, nil until a scan reduced 8 times needs it.
	skip *[1 << skipBits]uint16
}

// parseDHT reads the tables of a DHT segment.
func (d *decoder) parseDHT(seg []byte) error {
	for len(seg) > 0 {
		if len(seg) < 17 {
			return fmt.Errorf("%w: short DHT", ErrFormat)
		}
		tc, th := seg[0]>>4, int(seg[0]&15)
		if tc > 1 || th > 3 {
			return fmt.Errorf("%w: Huffman table %d of class %d", ErrFormat, th, tc)
		}
		var counts [17]int
		total := 0
		for l := 1; l <= 16; l++ {
			counts[l] = int(seg[l])
			total += counts[l]
		}
		if total == 0 || total > 256 || len(seg) < 17+total {
			return fmt.Errorf("%w: Huffman table of %d symbols", ErrFormat, total)
		}
		t, err := newHuffTable(counts, seg[17:17+total])
		if err != nil {
			return err
		}
		if tc == 0 {
			d.dc[th] = t
		} else {
			d.ac[th] = t
		}
		seg = seg[17+total:]
	}
	return nil
}

// newHuffTable builds the canonical code of counts[l] symbols of each
// length l, refusing counts that do not fit in their lengths.
func newHuffTable(counts [17]int, vals []byte) (*huffTable, error) {
	t := &huffTable{vals: vals}
	code, k := int32(0), int32(0)
	for l := 1; l <= 16; l++ {
		t.valptr[l], t.mincode[l], t.maxcode[l] = k, code, -1
		for range counts[l] {
			if code >= 1<<l {
				return nil, fmt.Errorf("%w: Huffman code lengths overflow", ErrFormat)
			}
			if l <= lutBits {
				shift := lutBits - l
				for i := code << shift; i < (code+1)<<shift; i++ {
					t.lut[i] = uint16(l)<<8 | uint16(vals[k])
				}
			}
			t.maxcode[l] = code
			code++
			k++
		}
		code <<= 1
	}
	for i, e := range t.lut {
		l := int(e >> 8)
		if l == 0 {
			continue
		}
		r, m := int32(e>>4)&15, int(e&15)
		switch {
		case m == 0:
			t.fast[i] = 1<<12 | r<<8 | int32(l)
		case l+m <= lutBits:
			v := extend(int32(i>>(lutBits-l-m))&(1<<m-1), m)
			t.fast[i] = v<<16 | r<<8 | int32(l+m)
		}
	}
	return t, nil
}

// bitReader reads the entropy-coded data of a scan, MSB first, undoing
// the byte stuffing (0xff 0x00 is 0xff). It stops at a marker or at the end
// of the data and from there reads zeros, counting them: a scan that
// consumes any of them was truncated.
type bitReader struct {
	data []byte
	pos  int
	acc  uint64 // the next n bits, from the top
	n    int
	fake int // zero bits appended in acc past a marker or the end
}

// fill tops acc up to at least 57 bits.
func (b *bitReader) fill() {
	for b.n <= 56 {
		var c byte
		switch {
		case b.pos >= len(b.data):
			b.fake += 8
		case b.data[b.pos] != 0xff:
			c = b.data[b.pos]
			b.pos++
		case b.pos+1 < len(b.data) && b.data[b.pos+1] == 0:
			c = 0xff
			b.pos += 2
		default: // a marker: the scan's data ends here
			b.fake += 8
		}
		b.acc |= uint64(c) << (56 - b.n)
		b.n += 8
	}
}

// refill tops acc, which holds nb bits from the top, up to at least 32
// bits, and returns both: four bytes at once when none of them is 0xff,
// else through fill. The hot loops keep acc and nb in locals.
func (b *bitReader) refill(acc uint64, nb int) (uint64, int) {
	if b.pos+4 <= len(b.data) {
		w := binary.BigEndian.Uint32(b.data[b.pos:])
		if x := ^w; (x-0x01010101)&^x&0x80808080 == 0 { // no 0xff byte
			b.pos += 4
			return acc | uint64(w)<<(32-nb), nb + 32
		}
	}
	return b.refillSlow(acc, nb)
}

// refillSlow is refill through fill, which undoes the byte stuffing and
// stops at a marker (kept apart so that refill inlines).
//
//go:noinline
func (b *bitReader) refillSlow(acc uint64, nb int) (uint64, int) {
	b.acc, b.n = acc, nb
	b.fill()
	return b.acc, b.n
}

// overrun reports whether the zeros past the end have been read.
func (b *bitReader) overrun() bool { return b.n < b.fake }

// reset drops the bits left before a restart marker.
func (b *bitReader) reset() { b.acc, b.n, b.fake = 0, 0, 0 }

// decode reads one Huffman-coded symbol of t.
func (b *bitReader) decode(t *huffTable) (byte, error) {
	if b.n < 16 {
		b.fill()
	}
	sym, l, ok := t.lookup(b.acc)
	if !ok {
		return 0, fmt.Errorf("%w: bad Huffman code", ErrFormat)
	}
	b.acc <<= l
	b.n -= l
	return sym, nil
}

// lookup returns the symbol whose code starts the bits of acc (from the
// top, at least 16 of them valid) and the code's length.
func (t *huffTable) lookup(acc uint64) (sym byte, length int, ok bool) {
	if e := t.lut[acc>>(64-lutBits)]; e != 0 {
		return byte(e), int(e >> 8), true
	}
	for l := lutBits + 1; l <= 16; l++ {
		if code := int32(acc >> (64 - l)); code <= t.maxcode[l] {
			return t.vals[t.valptr[l]+code-t.mincode[l]], l, true
		}
	}
	return 0, 0, false
}

// extend returns the signed value of the s-bit magnitude v (1 <= s <= 16).
func extend(v int32, s int) int32 {
	if v < 1<<(s-1) {
		v -= 1<<s - 1
	}
	return v
}

// bits reads n (0 to 16) bits as an unsigned number.
func (b *bitReader) bits(n int) uint32 {
	if b.n < n {
		b.fill()
	}
	v := uint32(b.acc >> (64 - n))
	b.acc <<= n
	b.n -= n
	return v
}

// bit reads one bit.
func (b *bitReader) bit() bool { return b.bits(1) == 1 }

// receive reads an s-bit magnitude (1 <= s <= 16) and extends its sign.
func (b *bitReader) receive(s int) int32 { return extend(int32(b.bits(s)), s) }
