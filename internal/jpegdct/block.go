package jpegdct

import "fmt"

// block decodes the coefficients of one block of c: the DC difference,
// then the AC run lengths, keeping (in f, dequantised, natural order) only
// the frequencies of the reduced transform (keep: slots[n]) and noting
// where in touched.
// It returns how many it kept and the last row they are in. The bit
// reader's state lives in locals for the length of the block (after an
// error it is left stale: the scan is abandoned).
func (b *bitReader) block(c *component, q *dequant, dc, ac *huffTable, keep *[64]int8, f *[64]float32, touched *[64]uint8) (nt, umax int, err error) {
	acc, nb := b.acc, b.n
	refill := func() { acc, nb = b.refill(acc, nb) }
	// symbol reads one Huffman-coded symbol of t.
	symbol := func(t *huffTable) (byte, bool) {
		if nb < 16 {
			refill()
		}
		sym, l, ok := t.lookup(acc)
		acc <<= l
		nb -= l
		return sym, ok
	}
	// receive reads an s-bit magnitude (1 <= s <= 15) and extends its sign.
	receive := func(s int) int32 {
		if nb < s {
			refill()
		}
		v := int32(acc >> (64 - s))
		acc <<= s
		nb -= s
		return extend(v, s)
	}

	s, ok := symbol(dc)
	if !ok {
		return 0, 0, fmt.Errorf("%w: bad Huffman code", ErrFormat)
	}
	if s > 11 {
		return 0, 0, fmt.Errorf("%w: DC magnitude of %d bits", ErrFormat, s)
	}
	if s > 0 {
		c.pred += receive(int(s))
	}
	for k := 1; k < 64; k++ {
		// The run of zeros r before the coefficient, and its value v;
		// v = 0 for an end of block (r < 15) or sixteen zeros (r = 15).
		var r int
		var v int32
		if nb < 16 {
			refill()
		}
		if e := ac.fast[acc>>(64-lutBits)]; e != 0 { // most coefficients: one lookup
			l := int(e & 0xff)
			acc <<= l
			nb -= l
			r, v = int(e>>8)&15, e>>16
		} else {
			rs, ok := symbol(ac)
			if !ok {
				return 0, 0, fmt.Errorf("%w: bad Huffman code", ErrFormat)
			}
			r = int(rs >> 4)
			if s := int(rs & 15); s != 0 {
				v = receive(s)
			}
		}
		if v == 0 {
			if r != 15 {
				break // end of block
			}
			k += 15
			continue
		}
		if k += r; k > 63 {
			return 0, 0, fmt.Errorf("%w: AC coefficient past the block", ErrFormat) // the reader's state is dropped with the scan
		}
		if keep[k] >= 0 {
			z := unzig[k]
			f[z] = float32(v) * q[k]
			touched[nt] = uint8(z)
			nt++
			umax = max(umax, z>>3)
		}
	}
	b.acc, b.n = acc, nb
	return nt, umax, nil
}
