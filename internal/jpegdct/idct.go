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
// weight of frequency u in output x of the n-point reduced transform.
var basis = func() (t [5][4][8]float32) {
	for _, n := range []int{1, 2, 4} {
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

// keeps[n][k] reports whether the coefficient of zig-zag index k is kept
// for a reduced n x n block.
var keeps = func() (t [5][64]bool) {
	for _, n := range []int{1, 2, 4} {
		for k, z := range unzig {
			t[n][k] = used(n, z/8) && used(n, z%8)
		}
	}
	return t
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
	v += 128.5
	switch {
	case v <= 0:
		return 0
	case v >= 255:
		return 255
	}
	return byte(v)
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

// idct writes the n x n (4 or 2) reduced transform of the natural-order
// coefficients f, of which rows and columns past umax and vmax are zero.
func idct(dst []byte, stride, n int, f *[64]float32, umax, vmax int) {
	b := &basis[n]
	var t [8][4]float32 // rows transformed: t[u][x]
	for u := 0; u <= umax; u++ {
		row := f[u*8 : u*8+8]
		for x := range n {
			s := float32(0)
			bx := &b[x]
			for v := 0; v <= vmax; v++ {
				s += row[v] * bx[v]
			}
			t[u][x] = s
		}
	}
	for y := range n {
		by := &b[y]
		out := dst[y*stride : y*stride+n]
		for x := range out {
			s := float32(0)
			for u := 0; u <= umax; u++ {
				s += by[u] * t[u][x]
			}
			out[x] = clamp(s)
		}
	}
}
