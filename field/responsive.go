package field

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"html"
	"html/template"
	"strconv"
	"strings"
)

// The plugin's Binder also answers these; they are not part of Binder so
// that a Binder written before them still works (its images have no
// placeholder and no signed URL).
type (
	placeholderBinder interface {
		Placeholder(ctx context.Context, img *Image) (string, error)
	}
	signingBinder interface {
		SignedURL(img *Image, size string) (string, error)
	}
)

// SrcSet returns the value of an img element's srcset attribute for the
// image in the given sizes: each thumbnail's URL and width in pixels,
// "/media/thumbnails/a_small.jpg 100w, /media/thumbnails/a_medium.jpg 400w".
// A lazy size is generated first, as Thumbnail does; a size whose width is
// already listed is left out, since a browser takes one candidate per
// width, and so is a size that answers with its fallback URL (its width is
// unknown) or, under thumbnails.PendingError, an async size whose job has
// not run: the srcset lists the sizes that exist, and fails with
// thumbnails.ErrPending only when every size is pending without a
// fallback. Whitespace in a URL (from a base URL such as "/my media/") is
// percent-encoded, since it would split the candidate. An empty column
// gives "", its sizes checked all the same: as for an image, one the
// column does not have fails with thumbnails.ErrUnknownSize. An Image whose
// upload was discarded fails with ErrDiscarded, as Thumbnail does.
// html/template accepts the result in a srcset attribute as it is.
func (i *Image) SrcSet(ctx context.Context, sizes ...string) (string, error) {
	r, err := i.Responsive(ctx, sizes...)
	return r.SrcSet, err
}

// Placeholder returns the tiny preview recorded for the image's source when
// it was saved with thumbnails.Config.Placeholders on: a PNG data: URI of a
// few hundred bytes, to show (scaled up, so blurred) while a thumbnail
// loads. It is "" when there is none. Preload loads it with the thumbnails.
// An Image whose upload was discarded fails with ErrDiscarded, as Thumbnail
// does.
func (i *Image) Placeholder(ctx context.Context) (string, error) {
	if i.discarded {
		return "", ErrDiscarded
	}
	if i.binder == nil {
		return "", ErrNotBound
	}
	pb, ok := i.binder.(placeholderBinder)
	if !ok || i.name == "" {
		return "", nil
	}
	return pb.Placeholder(ctx, i)
}

// SignedURL returns a URL of the thumbnail of the image in size, signed with
// thumbnails.Config.SigningKey, that thumbnails.Handler serves whether the
// thumbnail exists or not: a missing one is generated on the first request
// (once, however many arrive together). Use it for a lazy size, so that a
// page links to it without generating it while the page is rendered. It
// makes no I/O. It fails with thumbnails.ErrNoSigningKey when no key is
// configured, whatever the row and the size; otherwise as Thumbnail does for
// an unknown size, an empty column or an Image whose upload was discarded
// (ErrDiscarded).
func (i *Image) SignedURL(size string) (string, error) {
	if i.binder == nil {
		if i.discarded {
			return "", ErrDiscarded
		}
		return "", ErrNotBound
	}
	sb, ok := i.binder.(signingBinder)
	if !ok {
		return "", fmt.Errorf("%w: its binder cannot sign URLs", ErrNotBound)
	}
	return sb.SignedURL(i, size)
}

// Responsive is what an img element needs to show an Image in several sizes
// without layout shift: Image.Responsive makes it, and Attr writes it.
type Responsive struct {
	Src    string // URL of the first size's thumbnail, for the src attribute
	SrcSet string // every size's URL and width, for the srcset attribute
	// Sizes is the sizes attribute: how wide the image is shown. Image.Responsive
	// sets it to the first size's width ("100px"), which the width attribute
	// makes true; set it to your layout's value ("(max-width: 600px) 50vw,
	// 300px") if CSS shows the image at another width.
	Sizes       string
	Width       int    // width of the first size's thumbnail (that exists), in pixels
	Height      int    // height of the first size's thumbnail (that exists), in pixels
	Placeholder string // the source's placeholder (a data: URI), or ""
}

// Responsive returns the attributes of an img element showing the image in
// the given sizes, the first being the default: src and the width and
// height (reserving the image's box before it loads) are the first size's,
// srcset lists them all (see SrcSet), and Placeholder is the source's
// placeholder. List sizes of one aspect ratio. A size pending under
// thumbnails.PendingError is left out, as SrcSet says, and the first size
// left (one that exists, or answers with its fallback URL) is then the
// default. When the default answers with its fallback URL, that URL is
// Src, and the width, height and sizes are those of the first size that
// exists, which a browser shows from the srcset. An empty column gives the
// first size's fallback URL as Src, if it has one, and nothing else (the
// zero Responsive and no error when it has none); a size the column does
// not have fails with thumbnails.ErrUnknownSize there too. An Image whose
// upload was discarded fails with ErrDiscarded, as Thumbnail does.
func (i *Image) Responsive(ctx context.Context, sizes ...string) (Responsive, error) {
	if i.discarded {
		return Responsive{}, ErrDiscarded
	}
	if i.binder == nil {
		return Responsive{}, ErrNotBound
	}
	if len(sizes) == 0 {
		return Responsive{}, fmt.Errorf("field: Responsive needs at least one size")
	}
	if i.name == "" {
		// Every size is asked all the same (the plugin answers without
		// I/O), so that one that is not the column's fails as it does for
		// a row with an image; one without a fallback URL is no error.
		var r Responsive
		for k, size := range sizes {
			t, err := i.binder.Thumbnail(ctx, i, size)
			var n interface{ NoSource() bool }
			if errors.As(err, &n) && n.NoSource() {
				continue
			}
			if err != nil {
				return Responsive{}, err
			}
			if k == 0 {
				r.Src = t.URL
			}
		}
		return r, nil
	}
	var r Responsive
	var set strings.Builder
	seen := make(map[int]bool, len(sizes))
	var pending error // the first pending size's
	found := false
	for _, size := range sizes {
		t, err := i.binder.Thumbnail(ctx, i, size)
		var p interface{ Pending() bool }
		if errors.As(err, &p) && p.Pending() {
			if pending == nil {
				pending = err
			}
			continue
		}
		if err != nil {
			return Responsive{}, err
		}
		if !found {
			found = true
			r.Src = t.URL
		}
		if r.Width <= 0 && t.Width > 0 {
			// The first size that exists: the default's, or, when that
			// answers with its fallback (whose width is unknown), the
			// one a browser shows of the srcset, at its own width rather
			// than the whole window's (sizes would default to 100vw).
			r.Width, r.Height = t.Width, t.Height
			r.Sizes = strconv.Itoa(t.Width) + "px"
		}
		if t.Width <= 0 || seen[t.Width] {
			continue
		}
		seen[t.Width] = true
		if set.Len() > 0 {
			set.WriteString(", ")
		}
		_, _ = candidateURL.WriteString(&set, t.URL) // a strings.Builder does not fail
		set.WriteByte(' ')
		set.WriteString(strconv.Itoa(t.Width))
		set.WriteByte('w')
	}
	if !found {
		return Responsive{}, pending
	}
	r.SrcSet = set.String()
	var err error
	r.Placeholder, err = i.Placeholder(ctx)
	return r, err
}

// Attr returns r as the attributes of an img element, escaped, for
// html/template: <img {{.Attr}} alt="...">. They are src, srcset, sizes,
// width and height, and with a placeholder a style that shows it, scaled to
// cover the box, until the image covers it. Empty values are left out. The
// placeholder of an image with transparency is left out too, unless every
// URL is a JPEG's (flattened, opaque): it would show through the image's
// transparent pixels once loaded (r.Placeholder still holds it, to show
// some other way).
func (r Responsive) Attr() template.HTMLAttr {
	var b strings.Builder
	attr := func(name, value string) {
		if value == "" {
			return
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(name)
		b.WriteString(`="`)
		b.WriteString(html.EscapeString(value))
		b.WriteByte('"')
	}
	attr("src", r.Src)
	attr("srcset", r.SrcSet)
	if r.SrcSet != "" {
		attr("sizes", r.Sizes)
	}
	if r.Width > 0 && r.Height > 0 {
		attr("width", strconv.Itoa(r.Width))
		attr("height", strconv.Itoa(r.Height))
	}
	if strings.HasPrefix(r.Placeholder, "data:image/") && !strings.ContainsAny(r.Placeholder, `'"()\ `) && (allJPEG(r) || !transparentPNG(r.Placeholder)) {
		attr("style", "background:url('"+r.Placeholder+"') center/cover no-repeat")
	}
	// every value is escaped above; the style holds a data: URI checked to need no quoting in CSS
	return template.HTMLAttr(b.String())
}

// candidateURL percent-encodes whitespace in the URL of a srcset
// candidate: a browser splits the attribute at whitespace (which can come
// from a base URL of the application's, "/my media/"), and a server decodes
// it back. A comma inside a URL is left as it is: only one that starts or
// ends it would end a candidate, and none does.
var candidateURL = strings.NewReplacer(" ", "%20", "\t", "%09", "\n", "%0A", "\f", "%0C", "\r", "%0D")

// allJPEG reports whether every URL of r (src and srcset) names a JPEG,
// which has no transparency: a placeholder never shows through it.
func allJPEG(r Responsive) bool {
	urls := []string{r.Src}
	for _, c := range strings.Split(r.SrcSet, ",") {
		if f := strings.Fields(c); len(f) > 0 {
			urls = append(urls, f[0])
		}
	}
	for _, u := range urls {
		u, _, _ = strings.Cut(u, "?")
		u = strings.ToLower(u)
		if !strings.HasSuffix(u, ".jpg") && !strings.HasSuffix(u, ".jpeg") {
			return false
		}
	}
	return true
}

// transparentPNG reports whether uri is the base64 data: URI of a PNG that
// can hold transparency: an alpha channel (colour type 4 or 6) or a tRNS
// chunk. Anything else, a PNG that cannot be read included, is not.
func transparentPNG(uri string) bool {
	data, ok := strings.CutPrefix(uri, "data:image/png;base64,")
	if !ok {
		return false
	}
	b, err := base64.StdEncoding.DecodeString(data)
	if err != nil || len(b) < 8+8+13 || string(b[:8]) != "\x89PNG\r\n\x1a\n" {
		return false
	}
	for b = b[8:]; len(b) >= 8; {
		n, typ := binary.BigEndian.Uint32(b), string(b[4:8])
		if uint64(len(b)) < 12+uint64(n) {
			return false
		}
		switch typ {
		case "IHDR":
			if n >= 13 && (b[8+9] == 4 || b[8+9] == 6) {
				return true
			}
		case "tRNS":
			return true
		case "IDAT": // tRNS comes before the pixels
			return false
		}
		b = b[12+n:]
	}
	return false
}
