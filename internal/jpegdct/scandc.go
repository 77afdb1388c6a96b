package jpegdct

import "fmt"

// scanDC decodes the one interleaved scan of a baseline frame reduced 8
// times: each block is its DC alone, and its AC coefficients are read past,
// checked as block checks them, and dropped. The bit reader's state stays
// in locals for the whole scan, but for restart markers.
func (d *decoder) scanDC() error {
	mcusX, mcusY := d.grid()
	type plane struct {
		c      *component
		q0     float32
		dc, ac *huffTable
		skip   *[1 << skipBits]uint16
	}
	planes := make([]plane, len(d.comps))
	for i := range d.comps {
		c := &d.comps[i]
		c.plane(mcusX, mcusY, 1)
		c.pred = 0
		planes[i] = plane{c, newDequant(d.quant[c.tq])[0], d.dc[c.td], d.ac[c.ta], d.ac[c.ta].skipTable()}
	}
	b := &d.bits
	*b = bitReader{data: d.data, pos: d.pos}
	var acc uint64
	nb := 0
	refill := func() { acc, nb = b.refill(acc, nb) }
	mcu, rst := 0, 0
	for my := range mcusY {
		b.acc, b.n = acc, nb
		if b.overrun() { // the data ended rows ago: stop decoding zeros
			return fmt.Errorf("%w: truncated scan", ErrFormat)
		}
		for mx := range mcusX {
			if d.restart > 0 && mcu > 0 && mcu%d.restart == 0 {
				b.acc, b.n = acc, nb
				if err := d.restartMarker(rst); err != nil {
					return err
				}
				acc, nb = b.acc, b.n
				rst = (rst + 1) & 7
			}
			mcu++
			for pi := range planes {
				p := &planes[pi]
				c := p.c
				for j := range c.v {
					for i := range c.h {
						if nb < 16 {
							refill()
						}
						s, l, ok := p.dc.lookup(acc)
						if !ok {
							return fmt.Errorf("%w: bad Huffman code", ErrFormat)
						}
						acc <<= l
						nb -= l
						if s > 11 {
							return fmt.Errorf("%w: DC magnitude of %d bits", ErrFormat, s)
						}
						if s > 0 {
							if nb < int(s) {
								refill()
							}
							c.pred += extend(int32(acc>>(64-s)), int(s))
							acc <<= s
							nb -= int(s)
						}
						for k := 1; k < 64; k++ {
							if nb < 16 {
								refill()
							}
							if e := p.skip[acc>>(64-skipBits)]; e != 0 {
								l := int(e & 31)
								acc <<= l
								nb -= l
								if e&skipEnd != 0 {
									break
								}
								if e&skipZRL != 0 {
									k += 15
									continue
								}
								if k += int(e>>5) & 15; k > 63 {
									return fmt.Errorf("%w: AC coefficient past the block", ErrFormat)
								}
								continue
							}
							rs, l, ok := p.ac.lookup(acc)
							if !ok {
								return fmt.Errorf("%w: bad Huffman code", ErrFormat)
							}
							acc <<= l
							nb -= l
							r, s := int(rs>>4), int(rs&15)
							if s == 0 {
								if r != 15 {
									break
								}
								k += 15
								continue
							}
							if nb < s {
								refill()
							}
							acc <<= s
							nb -= s
							if k += r; k > 63 {
								return fmt.Errorf("%w: AC coefficient past the block", ErrFormat)
							}
						}
						c.pix[(my*c.v+j)*c.stride+mx*c.h+i] = clamp(float32(c.pred) * p.q0)
					}
				}
			}
		}
	}
	b.acc, b.n = acc, nb
	if b.overrun() {
		return fmt.Errorf("%w: truncated scan", ErrFormat)
	}
	d.pos = b.pos
	return nil
}

// skipBits is how many bits of an AC code and its magnitude a skip table
// resolves at once.
const skipBits = 12

// skipEnd and skipZRL mark the skip table's entries of an end of block and
// of sixteen zeros.
const (
	skipEnd = 1 << 9
	skipZRL = 1 << 10
)

// skipTable returns the table that maps the next skipBits bits, as an AC
// table, to what reading past one coefficient takes when its code and
// magnitude fit in them: the bits used, then four bits of its zero run, or
// skipEnd for an end of block, or skipZRL for sixteen zeros; 0 otherwise.
// It is built once a table, the first time a scan needs it.
func (t *huffTable) skipTable() *[1 << skipBits]uint16 {
	if t.skip != nil {
		return t.skip
	}
	t.skip = new([1 << skipBits]uint16)
	for i := range t.skip {
		rs, l, ok := t.lookup(uint64(i) << (64 - skipBits))
		if !ok || l > skipBits {
			continue
		}
		r, m := uint16(rs>>4), int(rs&15)
		switch {
		case m == 0 && r != 15:
			t.skip[i] = skipEnd | uint16(l)
		case m == 0:
			t.skip[i] = skipZRL | uint16(l)
		case l+m <= skipBits:
			t.skip[i] = r<<5 | uint16(l+m)
		}
	}
	return t.skip
}
