package thumbnails

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"sort"
	"sync"

	"github.com/disintegration/gift"

	"github.com/gorm-thumbnails/thumbnails/processors"
	"github.com/gorm-thumbnails/thumbnails/sizes"
)

// renderAll renders the sizes from src as a cascade: each size starts from
// the smallest image already rendered that it can start from without
// changing its result, rather than from the full source. A rendered size
// can serve as the start of another when it is one aspect-keeping Resize (the
// whole picture, smaller); the other must begin with a Resize that only
// shrinks it, and that makes the same dimensions from it as from the
// source, so that the rest of its chain works on the same picture. So
// large (fit 1200) is made from the source, medium (fit 400) from large, and
// small (fill 100) from medium, while a chain that crops or flips first still
// starts from the source. Each size is encoded (and post-processed) while
// the next is drawn. The results are returned in the order of list.
//
// A processor or post-processor that panics (one of the application's)
// fails the rendering with an error naming the size, in whichever
// goroutine it ran: a save, a regeneration or a job fails, not the process.
func renderAll(ctx context.Context, src *source, list []sizes.Size, background color.Color) (_ []*rendered, err error) {
	current := ""
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("thumbnails: size %q: panic: %v", current, r)
		}
	}()
	srcB := src.img.Bounds()
	bounds := make([]image.Rectangle, len(list))
	order := make([]int, len(list))
	for i, sz := range list {
		current = sz.Name
		bounds[i] = gift.New(sz.Processors...).Bounds(srcB)
		order[i] = i
	}
	// largest first, so that every possible start is rendered before it is needed
	sort.SliceStable(order, func(a, b int) bool { return area(bounds[order[a]]) > area(bounds[order[b]]) })

	out := make([]*rendered, len(list))
	errs := make([]error, len(list))
	var encoding sync.WaitGroup // encoders run while the next size is drawn
	defer encoding.Wait()
	starts := map[int]image.Image{} // rendered sizes that others may start from
	for pos, i := range order {
		sz := list[i]
		current = sz.Name
		from, drawn := src.img, src.drawn(sz)
		if best := bestStart(sz, starts, srcB); best != -1 {
			from, drawn = starts[best], sz
		}
		img, err := draw1(ctx, from, drawn, outputFormat(sz, src.format), src.maxPixels)
		if err != nil {
			return nil, err
		}
		if len(sz.Processors) == 1 && processors.ScalesOnly(sz.Processors[0]) {
			starts[i] = img
		}
		// A start that no size still to draw would choose is let go: with
		// many sizes, holding them all held every size's image at once.
		needed := map[int]bool{}
		for _, k := range order[pos+1:] {
			needed[bestStart(list[k], starts, srcB)] = true
		}
		for j := range starts {
			if !needed[j] {
				delete(starts, j)
			}
		}
		encoding.Add(1)
		go func() {
			defer encoding.Done()
			defer func() {
				if r := recover(); r != nil {
					out[i], errs[i] = nil, fmt.Errorf("thumbnails: size %q: panic: %v", sz.Name, r)
				}
			}()
			out[i], errs[i] = encode(ctx, img, src.format, sz, background)
		}()
	}
	encoding.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

func area(r image.Rectangle) int { return r.Dx() * r.Dy() }

// bestStart returns the key of the smallest of starts, rendered sizes, that
// sz can start from without changing its result (see renderAll), or -1 for
// the source, whose bounds are srcB.
func bestStart(sz sizes.Size, starts map[int]image.Image, srcB image.Rectangle) int {
	if len(sz.Processors) == 0 || !processors.IsResize(sz.Processors[0]) || !resamples(sz.Processors[0], srcB) {
		return -1
	}
	best := -1
	for j, img := range starts {
		b := img.Bounds()
		first := sz.Processors[0].Bounds(b)
		if first.Dx() > b.Dx() || first.Dy() > b.Dy() {
			continue // it would enlarge the start
		}
		if first != sz.Processors[0].Bounds(srcB) {
			// a different result (percentages, a fit that does not
			// enlarge, rounding): the rest of the chain, a crop,
			// would keep another part of the picture
			continue
		}
		if best == -1 || area(b) < area(starts[best].Bounds()) || area(b) == area(starts[best].Bounds()) && j < best {
			best = j
		}
	}
	return best
}

// resamples reports whether the resize f shrinks an image of bounds src in
// both dimensions. One that keeps a dimension (a fill that does not
// enlarge crops an image smaller than its box one way; a fit that does not
// enlarge may keep it whole) keeps the source's own pixels, which no
// smaller start holds, though it may give the same bounds.
func resamples(f gift.Filter, src image.Rectangle) bool {
	b := f.Bounds(src)
	return b.Dx() < src.Dx() && b.Dy() < src.Dy()
}
