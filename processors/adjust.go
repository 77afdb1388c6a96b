package processors

import "github.com/disintegration/gift"

// Blur returns a filter that blurs the image with a Gaussian of standard
// deviation sigma, in pixels; a sigma of 0 or less leaves the image unchanged.
func Blur(sigma float64) gift.Filter {
	return gift.GaussianBlur(float32(sigma))
}

// Sharpen returns a filter that sharpens the image with an unsharp mask: the
// difference from a Gaussian blur of sigma pixels, times amount (1 is the
// usual strength), is added to every pixel.
func Sharpen(sigma, amount float64) gift.Filter {
	return gift.UnsharpMask(float32(sigma), float32(amount), 0)
}

// Grayscale returns a filter that turns the image into shades of grey.
func Grayscale() gift.Filter {
	return gift.Grayscale()
}

// Brightness returns a filter that lightens (positive) or darkens (negative)
// the image by percent, from -100 (black) to 100 (white).
func Brightness(percent float64) gift.Filter {
	return gift.Brightness(float32(percent))
}

// Contrast returns a filter that raises (positive) or lowers (negative) the
// contrast of the image by percent, from -100 (flat grey) to 100.
func Contrast(percent float64) gift.Filter {
	return gift.Contrast(float32(percent))
}
