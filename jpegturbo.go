//go:build turbojpeg && cgo

package thumbnails

/*
#cgo LDFLAGS: -lturbojpeg
#include <stdlib.h>
#include <turbojpeg.h>
*/
import "C"

import (
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"runtime"
	"unsafe"

	"github.com/gorm-thumbnails/thumbnails/internal/jpegdct"
)

// Built with -tags turbojpeg, JPEG sources are decoded by libjpeg-turbo
// (Debian: libturbojpeg0-dev), reduced 2, 4 or 8 times while decoding when
// every size starts with a Resize that would box-shrink that much anyway,
// as libvips' shrink-on-load does. The default build is pure Go.
//
// What image/jpeg refuses is decoded whole by internal/jpegdct, as in the
// default build (see wholeJPEG): the valid progressive JPEGs with restart
// markers that libjpeg-turbo leaves alone (chroma sampled more than once an
// MCU) included.
func init() {
	scaledJPEG = turboDecode
	wholeJPEG = func(data []byte, maxPixels int64) (image.Image, error) { return jpegdct.Decode(data, 1, maxPixels) }
}

// errTurboUnsupported marks a JPEG the turbo path leaves to image/jpeg.
var errTurboUnsupported = errors.New("thumbnails: turbojpeg: unsupported JPEG")

// turboDecode decodes data reduced k times (1, 2, 4 or 8) into an
// *image.YCbCr, or an *image.Gray for a greyscale JPEG. Any warning of
// libjpeg-turbo is an error, so that a damaged JPEG fails as it does with
// image/jpeg; CMYK and unusual subsamplings are errTurboUnsupported, and
// so is a JPEG whose chroma is sampled more than once an MCU (cjpeg
// -sample 2x2,2x1,2x1), whose planes libjpeg-turbo gets wrong (9 levels
// off at 1/8; whole, its first rows when its height is odd).
func turboDecode(data []byte, k int, _ int64) (image.Image, error) {
	if len(data) == 0 || !chromaOncePerMCU(data) {
		return nil, errTurboUnsupported
	}
	h := C.tjInitDecompress()
	if h == nil {
		return nil, fmt.Errorf("%w: cannot initialise a decompressor", errTurboUnsupported)
	}
	defer C.tjDestroy(h)
	buf := (*C.uchar)(unsafe.Pointer(&data[0]))
	size := C.ulong(len(data))
	var w, ht, subsamp, colorspace C.int
	if C.tjDecompressHeader3(h, buf, size, &w, &ht, &subsamp, &colorspace) != 0 {
		return nil, turboError(h)
	}
	sw, sh := (int(w)+k-1)/k, (int(ht)+k-1)/k
	r := image.Rect(0, 0, sw, sh)

	var (
		img     image.Image
		planes  [3]*C.uchar
		strides [3]C.int
		pin     runtime.Pinner
	)
	defer pin.Unpin()
	if colorspace == C.TJCS_GRAY || subsamp == C.TJSAMP_GRAY {
		g := image.NewGray(r)
		pin.Pin(&g.Pix[0])
		planes[0], strides[0] = (*C.uchar)(unsafe.Pointer(&g.Pix[0])), C.int(g.Stride)
		img = g
	} else {
		if colorspace != C.TJCS_YCbCr {
			return nil, errTurboUnsupported
		}
		ratio, ok := map[C.int]image.YCbCrSubsampleRatio{
			C.TJSAMP_444: image.YCbCrSubsampleRatio444,
			C.TJSAMP_422: image.YCbCrSubsampleRatio422,
			C.TJSAMP_420: image.YCbCrSubsampleRatio420,
			C.TJSAMP_440: image.YCbCrSubsampleRatio440,
			C.TJSAMP_411: image.YCbCrSubsampleRatio411,
		}[subsamp]
		if !ok {
			return nil, errTurboUnsupported
		}
		y := image.NewYCbCr(r, ratio)
		// The chroma planes libjpeg-turbo writes must be the ones Go expects.
		if int(C.tjPlaneWidth(1, C.int(sw), subsamp)) > y.CStride || int(C.tjPlaneHeight(1, C.int(sh), subsamp)) > len(y.Cb)/max(y.CStride, 1) {
			return nil, errTurboUnsupported
		}
		for i, p := range [][]byte{y.Y, y.Cb, y.Cr} {
			pin.Pin(&p[0])
			planes[i] = (*C.uchar)(unsafe.Pointer(&p[0]))
		}
		strides = [3]C.int{C.int(y.YStride), C.int(y.CStride), C.int(y.CStride)}
		img = y
	}
	if C.tjDecompressToYUVPlanes(h, buf, size, &planes[0], C.int(sw), &strides[0], C.int(sh), 0) != 0 {
		return nil, turboError(h)
	}
	return img, nil
}

// turboError returns the decompressor's last error.
func turboError(h C.tjhandle) error {
	return fmt.Errorf("turbojpeg: %s", C.GoString(C.tjGetErrorStr2(h)))
}

// chromaOncePerMCU reports whether every component of the JPEG's frame but
// the first has sampling factors 1x1, as most encoders write; false also
// when no frame header is found among the segments before the first scan.
func chromaOncePerMCU(data []byte) bool {
	for pos := 2; pos+4 <= len(data) && data[pos] == 0xff; {
		marker := data[pos+1]
		if marker == 0xff { // a fill byte
			pos++
			continue
		}
		length := int(binary.BigEndian.Uint16(data[pos+2:]))
		switch {
		case marker == 0xda || length < 2 || pos+2+length > len(data):
			return false
		case isSOF(marker):
			seg := data[pos+4 : pos+2+length]
			if len(seg) < 6 || len(seg) < 6+3*int(seg[5]) {
				return false
			}
			for c := 1; c < int(seg[5]); c++ {
				if seg[6+3*c+1] != 0x11 {
					return false
				}
			}
			return true
		}
		pos += 2 + length
	}
	return false
}
