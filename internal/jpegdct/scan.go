package jpegdct

import "fmt"

// scan decodes the one interleaved scan of a baseline frame into the
// reduced planes.
func (d *decoder) scan() error {
	n := d.n
	mcusX, mcusY := d.grid()
	tables := make([]*dequant, len(d.comps))
	for i := range d.comps {
		c := &d.comps[i]
		c.plane(mcusX, mcusY, n)
		c.pred = 0
		tables[i] = newDequant(d.quant[c.tq])
	}
	br := &d.bits
	*br = bitReader{data: d.data, pos: d.pos}
	keep := &slots[n]
	var (
		f       [64]float32 // the kept AC coefficients of a block, natural order; zero between blocks (f[0] is transform's)
		touched [64]uint8   // where f is not zero
	)
	mcu, rst := 0, 0
	for my := range mcusY {
		if br.overrun() { // the data ended rows ago: stop decoding zeros
			return fmt.Errorf("%w: truncated scan", ErrFormat)
		}
		for mx := range mcusX {
			if d.restart > 0 && mcu > 0 && mcu%d.restart == 0 {
				if err := d.restartMarker(rst); err != nil {
					return err
				}
				rst = (rst + 1) & 7
			}
			mcu++
			for ci := range d.comps {
				c := &d.comps[ci]
				q, dc, ac := tables[ci], d.dc[c.td], d.ac[c.ta]
				for j := range c.v {
					for i := range c.h {
						nt, umax, err := br.block(c, q, dc, ac, keep, &f, &touched)
						if err != nil {
							return err
						}
						off := (my*c.v+j)*n*c.stride + (mx*c.h+i)*n
						if nt == 0 {
							fill(c.pix[off:], c.stride, n, float32(c.pred)*q[0])
							continue
						}
						transform(c.pix[off:], c.stride, n, &f, float32(c.pred)*q[0], umax)
						for _, z := range touched[:nt] {
							f[z] = 0
						}
					}
				}
			}
		}
	}
	if br.overrun() {
		return fmt.Errorf("%w: truncated scan", ErrFormat)
	}
	d.pos = br.pos
	return nil
}

// maxSampling returns the largest sampling factors of the frame.
func (d *decoder) maxSampling() (hmax, vmax int) {
	hmax, vmax = 1, 1
	for _, c := range d.comps {
		hmax, vmax = max(hmax, c.h), max(vmax, c.v)
	}
	return hmax, vmax
}

// grid returns the number of MCUs across and down the frame.
func (d *decoder) grid() (mcusX, mcusY int) {
	hmax, vmax := d.maxSampling()
	return (d.width + 8*hmax - 1) / (8 * hmax), (d.height + 8*vmax - 1) / (8 * vmax)
}

// compSize returns the dimensions of component c's samples.
func (d *decoder) compSize(c *component) (w, h int) {
	hmax, vmax := d.maxSampling()
	return (d.width*c.h + hmax - 1) / hmax, (d.height*c.v + vmax - 1) / vmax
}

// plane allocates c's reduced plane: its blocks of n x n samples over the
// whole MCU grid.
func (c *component) plane(mcusX, mcusY, n int) {
	c.stride = mcusX * c.h * n
	c.pix = make([]byte, c.stride*mcusY*c.v*n)
}

// restartMarker checks that the data of a restart interval ends at RSTm
// and moves past it, resetting the bit reader and the DC predictors.
func (d *decoder) restartMarker(m int) error {
	br := &d.bits
	if br.overrun() {
		return fmt.Errorf("%w: truncated restart interval", ErrFormat)
	}
	p := br.pos
	if p >= len(d.data) || d.data[p] != 0xff {
		return fmt.Errorf("%w: missing RST%d marker", ErrFormat, m)
	}
	for p < len(d.data) && d.data[p] == 0xff {
		p++
	}
	if p >= len(d.data) || d.data[p] != markerRST0+byte(m) {
		return fmt.Errorf("%w: missing RST%d marker", ErrFormat, m)
	}
	br.pos = p + 1
	br.reset()
	for i := range d.comps {
		d.comps[i].pred = 0
	}
	return nil
}
