package jpegdct

import "math"

// A reduced block is the average of r x r pixels (r = 8/n) of the full
// inverse DCT, computed from the coefficients directly, as libjpeg's
// reduced-size transforms do: each output of the n-point transform is
// Σ_u c(u) F(u) avg_j cos((2(r·x+j)+1)uπ/16), a box filter of the
// full decode, exact up to rounding. Frequencies whose averaged cosines
// vanish (4 for n = 4; 2, 4 and 6 for n = 2; all but DC for n = 1) are
// dropped while decoding. The coefficients are dequantised straight into
// float32 with c(u)·c(v) folded into the table, so the transforms are the
// averaged cosines only.

// unzig maps a zig-zag index to the natural (row-major) one.
var unzig = func() (z [64]int) {
	i := 0
	for s := range 15 { // anti-diagonals, alternating in direction
		lo, hi := max(0, s-7), min(s, 7)
		for j := range hi - lo + 1 {
			r := hi - j
			if s%2 == 1 {
				r = lo + j
			}
			z[i] = r*8 + s - r
			i++
		}
	}
	return z
}()

// basis[n][x][u] is avg over j < 8/n of cos((2((8/n)·x+j)+1)uπ/16): the
// weight of frequency u in output x of the n-point reduced transform (n =
// 8: the full transform).
var basis = func() (t [9][8][8]float32) {
	for _, n := range []int{1, 2, 4, 8} {
		r := 8 / n
		for x := range n {
			for u := range 8 {
				s := 0.0
				for j := range r {
					s += math.Cos(float64(2*(r*x+j)+1) * float64(u) * math.Pi / 16)
				}
				if s = s / float64(r); math.Abs(s) < 1e-9 {
					s = 0
				}
				t[n][x][u] = float32(s)
			}
		}
	}
	return t
}()

// used reports whether frequency u weighs in any output of the n-point
// reduced transform.
func used(n, u int) bool {
	for x := range n {
		if basis[n][x][u] != 0 {
			return true
		}
	}
	return false
}

// slots[n][k] is where the coefficient of zig-zag index k is kept among a
// block's for a reduced n x n transform, or -1 when it is dropped;
// counts[n] is how many are kept.
var slots, counts = func() (s [9][64]int8, c [9]int) {
	for _, n := range []int{1, 2, 4, 8} {
		for k, z := range unzig {
			s[n][k] = -1
			if used(n, z/8) && used(n, z%8) {
				s[n][k] = int8(c[n])
				c[n]++
			}
		}
	}
	return s, c
}()

// dequant holds, by zig-zag index, a quantisation step times c(u)·c(v).
type dequant [64]float32

// newDequant returns q's steps for a reduced transform.
func newDequant(q *[64]uint16) *dequant {
	norm := func(u int) float64 {
		if u == 0 {
			return 1 / (2 * math.Sqrt2)
		}
		return 0.5
	}
	t := new(dequant)
	for k, z := range unzig {
		t[k] = float32(float64(q[k]) * norm(z/8) * norm(z%8))
	}
	return t
}

// clamp rounds a level-shifted sample to a byte.
func clamp(v float32) byte {
	i := int32(v + 128.5)
	if uint32(i) <= 255 {
		return byte(i)
	}
	if i < 0 {
		return 0
	}
	return 255
}

// fill writes a block that has only its DC coefficient.
func fill(dst []byte, stride, n int, dc float32) {
	b := clamp(dc)
	for y := range n {
		row := dst[y*stride : y*stride+n]
		for x := range row {
			row[x] = b
		}
	}
}

// transform writes the reduced transform of a block with AC coefficients
// at dst: dc its dequantised DC coefficient, f its AC ones (natural order;
// rows past umax zero). f[0] is overwritten. A block of DC alone is fill's.
func transform(dst []byte, stride, n int, f *[64]float32, dc float32, umax int) {
	f[0] = dc
	switch n {
	case 8:
		idct8(dst, stride, f, umax)
	case 4:
		idct4(dst, stride, f, umax)
	default:
		idct2(dst, stride, f, umax)
	}
}

// idct8 writes the full 8x8 inverse transform of f, whose rows past umax
// are zero: the decode of a frame image/jpeg refuses (see Decode), so
// plain rather than fast.
func idct8(dst []byte, stride int, f *[64]float32, umax int) {
	b := &basis[8]
	var t [8][8]float32 // rows transformed: t[u][x]
	for u := 0; u <= umax; u++ {
		r := (*[8]float32)(f[u*8 : u*8+8])
		for x := range 8 {
			bx := &b[x]
			t[u][x] = r[0]*bx[0] + r[1]*bx[1] + r[2]*bx[2] + r[3]*bx[3] + r[4]*bx[4] + r[5]*bx[5] + r[6]*bx[6] + r[7]*bx[7]
		}
	}
	_ = dst[7*stride+7]
	for y := range 8 {
		by := &b[y]
		row := dst[y*stride : y*stride+8]
		for x := range 8 {
			var s float32
			for u := 0; u <= umax; u++ {
				s += t[u][x] * by[u]
			}
			row[x] = clamp(s)
		}
	}
}

// The transforms split each 1-D pass into even and odd frequencies:
// output n-1-x weighs frequency u as output x does, times (-1)^u.

// idct4 writes the 4x4 reduced transform of the natural-order
// coefficients f, whose rows past umax are zero.
func idct4(dst []byte, stride int, f *[64]float32, umax int) {
	b := &basis[4]
	b02, b06, b12, b16 := b[0][2], b[0][6], b[1][2], b[1][6]
	b01, b03, b05, b07 := b[0][1], b[0][3], b[0][5], b[0][7]
	b11, b13, b15, b17 := b[1][1], b[1][3], b[1][5], b[1][7]
	var t [8][4]float32 // rows transformed: t[u][x]
	for u := 0; u <= umax; u++ {
		r := (*[8]float32)(f[u*8 : u*8+8])
		e0 := r[0] + r[2]*b02 + r[6]*b06
		e1 := r[0] + r[2]*b12 + r[6]*b16
		o0 := r[1]*b01 + r[3]*b03 + r[5]*b05 + r[7]*b07
		o1 := r[1]*b11 + r[3]*b13 + r[5]*b15 + r[7]*b17
		t[u] = [4]float32{e0 + o0, e1 + o1, e1 - o1, e0 - o0}
	}
	_ = dst[3*stride+3]
	for x := range 4 {
		e0 := t[0][x] + t[2][x]*b02 + t[6][x]*b06
		e1 := t[0][x] + t[2][x]*b12 + t[6][x]*b16
		o0 := t[1][x]*b01 + t[3][x]*b03 + t[5][x]*b05 + t[7][x]*b07
		o1 := t[1][x]*b11 + t[3][x]*b13 + t[5][x]*b15 + t[7][x]*b17
		dst[x] = clamp(e0 + o0)
		dst[stride+x] = clamp(e1 + o1)
		dst[2*stride+x] = clamp(e1 - o1)
		dst[3*stride+x] = clamp(e0 - o0)
	}
}

// idct2 writes the 2x2 reduced transform of f (of its frequencies, only
// 0 and the odd ones weigh).
func idct2(dst []byte, stride int, f *[64]float32, umax int) {
	b := &basis[2][0]
	b1, b3, b5, b7 := b[1], b[3], b[5], b[7]
	var t [8][2]float32
	for u := 0; u <= umax; u++ {
		r := (*[8]float32)(f[u*8 : u*8+8])
		o := r[1]*b1 + r[3]*b3 + r[5]*b5 + r[7]*b7
		t[u] = [2]float32{r[0] + o, r[0] - o}
	}
	_ = dst[stride+1]
	for x := range 2 {
		o := t[1][x]*b1 + t[3][x]*b3 + t[5][x]*b5 + t[7][x]*b7
		dst[x] = clamp(t[0][x] + o)
		dst[stride+x] = clamp(t[0][x] - o)
	}
}
