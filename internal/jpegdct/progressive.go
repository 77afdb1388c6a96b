package jpegdct

import (
	"fmt"
	"math/bits"
)

// A progressive JPEG sends its coefficients over several scans: the DC
// ones first (maybe a few bits at a time), then bands of AC ones, each
// maybe refined a bit at a time. Only the coefficients the reduced
// transform uses are kept, as int16; of every block, a mask says which of
// its 64 are not zero, which the refinement scans need for all of them.

// progressiveScan decodes one scan of a progressive frame into the kept
// coefficients: comps are indexes into d.comps, ss-se the band, ah and al
// the successive approximation.
func (d *decoder) progressiveScan(comps []int, ss, se, ah, al int) error {
	mcusX, mcusY := d.grid()
	if d.coefs == nil {
		d.coefs = make([][]int16, len(d.comps))
		d.nonzero = make([][]uint64, len(d.comps))
		for i, c := range d.comps {
			blocks := mcusX * c.h * mcusY * c.v
			d.coefs[i] = make([]int16, blocks*counts[d.n])
			d.nonzero[i] = make([]uint64, blocks)
		}
	}
	br := &d.bits
	*br = bitReader{data: d.data, pos: d.pos}
	for i := range d.comps {
		d.comps[i].pred = 0
	}
	eobrun, mcu, rst := 0, 0, 0
	next := func() error { // before each MCU: a restart marker when one is due
		if d.restart > 0 && mcu > 0 && mcu%d.restart == 0 {
			if err := d.restartMarker(rst); err != nil {
				return err
			}
			rst, eobrun = (rst+1)&7, 0
		}
		mcu++
		return nil
	}
	block := func(ci, b int) error {
		switch {
		case ss == 0 && ah == 0:
			return d.dcFirst(ci, b, al)
		case ss == 0:
			return d.dcRefine(ci, b, al)
		case ah == 0:
			return d.acFirst(ci, b, ss, se, al, &eobrun)
		}
		return d.acRefine(ci, b, ss, se, al, &eobrun)
	}
	if len(comps) == 1 {
		// One component: its blocks in raster order, as many as cover
		// its own dimensions, one an MCU.
		ci := comps[0]
		c := &d.comps[ci]
		if d.restart > 0 && (c.h > 1 || c.v > 1) {
			// Valid, and counted here one block an MCU as the standard
			// says, but image/jpeg counts c.h x c.v blocks an MCU and
			// refuses it ("missing 0xff00 sequence").
			d.beyondImageJPEG = true
		}
		w, h := d.compSize(c)
		if min(mcusX*c.h, (d.width+7)/8) != (w+7)/8 || min(mcusY*c.v, (d.height+7)/8) != (h+7)/8 {
			// Valid too, but image/jpeg reads in such a scan the blocks
			// of the MCU grid that start within the frame, not within
			// the component: a block more a row of a 2x1 chroma beside
			// a 4x1 luma when the chroma is an odd number of blocks
			// wide, and it refuses the scan.
			d.beyondImageJPEG = true
		}
		perRow := mcusX * c.h
		for by := range (h + 7) / 8 {
			if br.overrun() {
				return fmt.Errorf("%w: truncated scan", ErrFormat)
			}
			for bx := range (w + 7) / 8 {
				if err := next(); err != nil {
					return err
				}
				if err := block(ci, by*perRow+bx); err != nil {
					return err
				}
			}
		}
	} else {
		for my := range mcusY {
			if br.overrun() {
				return fmt.Errorf("%w: truncated scan", ErrFormat)
			}
			for mx := range mcusX {
				if err := next(); err != nil {
					return err
				}
				for _, ci := range comps {
					c := &d.comps[ci]
					for j := range c.v {
						for i := range c.h {
							if err := block(ci, (my*c.v+j)*mcusX*c.h+mx*c.h+i); err != nil {
								return err
							}
						}
					}
				}
			}
		}
	}
	if br.overrun() {
		return fmt.Errorf("%w: truncated scan", ErrFormat)
	}
	if eobrun > 0 {
		return fmt.Errorf("%w: an end-of-band run past the scan", ErrFormat)
	}
	d.pos = br.pos
	return nil
}

func (d *decoder) dcFirst(ci, b, al int) error {
	c := &d.comps[ci]
	s, err := d.bits.decode(d.dc[c.td])
	if err != nil {
		return err
	}
	if s > 11 {
		return fmt.Errorf("%w: DC magnitude of %d bits", ErrFormat, s)
	}
	if s > 0 {
		c.pred += d.bits.receive(int(s))
	}
	d.coefs[ci][b*counts[d.n]] = int16(c.pred << al)
	return nil
}

func (d *decoder) dcRefine(ci, b, al int) error {
	if d.bits.bit() {
		d.coefs[ci][b*counts[d.n]] |= 1 << al
	}
	return nil
}

func (d *decoder) acFirst(ci, b, ss, se, al int, eobrun *int) error {
	if *eobrun > 0 {
		*eobrun--
		return nil
	}
	br, t, slot := &d.bits, d.ac[d.comps[ci].ta], &slots[d.n]
	coefs, nz := d.coefs[ci][b*counts[d.n]:], &d.nonzero[ci][b]
	for k := ss; k <= se; k++ {
		rs, err := br.decode(t)
		if err != nil {
			return err
		}
		r, s := int(rs>>4), int(rs&15)
		if s == 0 {
			if r != 15 {
				*eobrun = 1<<r - 1
				if r > 0 {
					*eobrun += int(br.bits(r))
				}
				return nil
			}
			k += 15
			continue
		}
		if k += r; k > se {
			return fmt.Errorf("%w: AC coefficient past the band", ErrFormat)
		}
		v := br.receive(s) << al
		if p := slot[k]; p >= 0 {
			coefs[p] = int16(v)
		}
		*nz |= 1 << k
	}
	return nil
}

func (d *decoder) acRefine(ci, b, ss, se, al int, eobrun *int) error {
	br, t, slot := &d.bits, d.ac[d.comps[ci].ta], &slots[d.n]
	coefs, nz := d.coefs[ci][b*counts[d.n]:], &d.nonzero[ci][b]
	p1, m1 := int16(1)<<al, int16(-1)<<al
	// refine corrects an already non-zero coefficient by one more bit.
	refine := func(k int) {
		if br.bit() {
			if p := slot[k]; p >= 0 && coefs[p]&p1 == 0 {
				if coefs[p] >= 0 {
					coefs[p] += p1
				} else {
					coefs[p] += m1
				}
			}
		}
	}
	k := ss
	if *eobrun == 0 {
	bands:
		for k <= se {
			rs, err := br.decode(t)
			if err != nil {
				return err
			}
			r, s := int(rs>>4), int(rs&15)
			var v int16
			switch {
			case s == 1:
				v = m1
				if br.bit() {
					v = p1
				}
			case s != 0:
				return fmt.Errorf("%w: refinement of %d bits", ErrFormat, s)
			case r != 15:
				*eobrun = 1 << r
				if r > 0 {
					*eobrun += int(br.bits(r))
				}
				break bands
			}
			// Pass r coefficients still zero (refining the others on
			// the way), then set the next zero one to v.
			placed := false
			for ; k <= se; k++ {
				if *nz&(1<<k) != 0 {
					refine(k)
					continue
				}
				if r == 0 {
					if v != 0 {
						if p := slot[k]; p >= 0 {
							coefs[p] = v
						}
						*nz |= 1 << k
					}
					k++
					placed = true
					break
				}
				r--
			}
			if !placed {
				return fmt.Errorf("%w: refinement past the band", ErrFormat)
			}
		}
	}
	if *eobrun > 0 {
		// In an EOB run only the non-zero coefficients left in the band
		// take a bit each, in order: visit their bits alone.
		if k <= se {
			for rest := *nz &^ (1<<k - 1) & (2<<se - 1); rest != 0; rest &= rest - 1 {
				refine(bits.TrailingZeros64(rest))
			}
		}
		*eobrun--
	}
	return nil
}

// reconstruct turns the kept coefficients of a progressive frame into the
// reduced planes.
func (d *decoder) reconstruct() error {
	mcusX, mcusY := d.grid()
	n, kept := d.n, counts[d.n]
	var keptAC uint64 // bit k set when AC coefficient k is kept
	for k := 1; k < 64; k++ {
		if slots[n][k] >= 0 {
			keptAC |= 1 << k
		}
	}
	var f [64]float32 // transform input, natural order; zeros between blocks
	for ci := range d.comps {
		c := &d.comps[ci]
		if d.quant[c.tq] == nil {
			return fmt.Errorf("%w: component %d lacks a quantisation table", ErrFormat, c.id)
		}
		q := newDequant(d.quant[c.tq])
		c.plane(mcusX, mcusY, n)
		perRow, rows := mcusX*c.h, mcusY*c.v
		coefs, nonzero := d.coefs[ci], d.nonzero[ci]
		for by := range rows {
			for bx := range perRow {
				b := by*perRow + bx
				blk := coefs[b*kept:][:kept]
				off := by*n*c.stride + bx*n
				ac := nonzero[b] & keptAC // the AC coefficients to transform
				if ac == 0 {
					fill(c.pix[off:], c.stride, n, float32(blk[0])*q[0])
					continue
				}
				umax := 0
				for m := ac; m != 0; m &= m - 1 {
					k := bits.TrailingZeros64(m)
					z := unzig[k]
					f[z] = float32(blk[slots[n][k]]) * q[k]
					umax = max(umax, z>>3)
				}
				transform(c.pix[off:], c.stride, n, &f, float32(blk[0])*q[0], umax)
				for m := ac; m != 0; m &= m - 1 { // f back to zeros
					f[unzig[bits.TrailingZeros64(m)]] = 0
				}
			}
		}
	}
	return nil
}
