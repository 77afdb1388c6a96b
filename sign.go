package thumbnails

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"path"
	"slices"
	"strings"

	"github.com/gorm-thumbnails/thumbnails/field"
	"github.com/gorm-thumbnails/thumbnails/internal/bridge"
	"github.com/gorm-thumbnails/thumbnails/processors"
	"github.com/gorm-thumbnails/thumbnails/sizes"
)

// MinSigningKeyLen is the shortest Config.SigningKey accepted, in bytes.
const MinSigningKeyLen = 16

// ErrNoSigningKey is returned by field.Image.SignedURL when Config.SigningKey
// is not set, so that on-demand generation is off.
var ErrNoSigningKey = errors.New("thumbnails: no Config.SigningKey: on-demand thumbnail URLs are disabled")

// Query parameters of a signed URL.
const (
	querySource    = "src"   // the source's storage name
	querySignature = "sig"   // HMAC-SHA256 of the source, the size and the focus, base64url
	queryFocus     = "focus" // the row's focal point "x,y", for a size that crops around one
)

// signatureContext starts every signed message, so that a signature made
// with the same key for another purpose is never valid here.
const signatureContext = "gorm-thumbnails/on-demand/v1\x00"

// mac returns the HMAC-SHA256 of source, size and focus (a field.Focus's
// String, "" for none) under the signing key.
func (p *plugin) mac(source, size, focus string) []byte {
	m := hmac.New(sha256.New, p.cfg.SigningKey)
	m.Write([]byte(signatureContext))
	m.Write([]byte(source))
	m.Write([]byte{0}) // CleanName keeps NUL out of names: the message is unambiguous
	m.Write([]byte(size))
	if focus != "" {
		m.Write([]byte{0}) // nor is there one in a size's name
		m.Write([]byte(focus))
	}
	return m.Sum(nil)
}

// validSignature reports, in constant time, whether sig is the signature of
// source, size and focus.
func (p *plugin) validSignature(source, size, focus, sig string) bool {
	got, err := base64.RawURLEncoding.DecodeString(sig)
	return err == nil && len(p.cfg.SigningKey) > 0 && hmac.Equal(got, p.mac(source, size, focus))
}

// signedFocus returns the focal point a signed URL of sz carries: focus,
// when it is valid and sz crops around a focal point; none otherwise, so
// that other sizes' URLs do not change with it.
func signedFocus(sz sizes.Size, focus field.Focus) field.Focus {
	if !focus.Valid || !cropsAroundFocus(sz) {
		return field.Focus{}
	}
	return focus
}

// cropsAroundFocus reports whether a processor of sz crops around a focal
// point.
func cropsAroundFocus(sz sizes.Size) bool {
	for _, p := range sz.Processors {
		if _, ok := p.(processors.Focusable); ok {
			return true
		}
	}
	return false
}

// currentFocus returns the focal point that a row holding source holds now,
// for a size that crops around one, given the point a signed URL carries:
// the URL's is of the time it was made, and the row's may have moved
// since. It reads the rows of the columns of this process's models that
// have sz and a focal point: when one of them holds the URL's point, or
// none holds source (rows of a db.Table table, or of a model the process
// has not used), or a read fails, the URL's point is all there is;
// otherwise the first such row's point is.
func (p *plugin) currentFocus(ctx context.Context, source string, sz sizes.Size, signed field.Focus) field.Focus {
	if !cropsAroundFocus(sz) {
		return signed
	}
	var jobs []Job
	for _, c := range p.parsedColumns() {
		if _, ok := c.size(sz.Name); ok && c.focus != nil {
			jobs = append(jobs, Job{Source: source, Size: sz.Name, Table: c.table, Column: c.name, FocusColumn: c.focus.DBName})
		}
	}
	slices.SortFunc(jobs, func(a, b Job) int { return strings.Compare(a.Table+"."+a.Column, b.Table+"."+b.Column) })
	var first *field.Focus
	for _, job := range jobs {
		held, focus, err := p.referencingRow(ctx, job)
		if err != nil {
			p.db.Logger.Warn(ctx, "thumbnails: read the focal point of %q in %s.%s: %v", source, job.Table, job.Column, err)
			continue
		}
		if !held {
			continue
		}
		if focus == signed {
			return signed
		}
		if first == nil {
			first = &focus
		}
	}
	if first == nil {
		return signed
	}
	return *first
}

// signedURL returns the URL of the thumbnail of source in sz, with the
// source, the row's focal point when sz crops around one, and the
// signature that let Handler make it on its first request.
func (p *plugin) signedURL(source string, sz sizes.Size, focus field.Focus) string {
	u := p.storage.URL(thumbnailName(p.cfg.BaseDir, source, sz.Name, thumbnailExt(source, sz)))
	u, fragment, _ := strings.Cut(u, "#") // a base URL's: it stays at the end
	if fragment != "" {
		fragment = "#" + fragment
	}
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	f := signedFocus(sz, focus).String()
	q := url.Values{querySource: {source}, querySignature: {base64.RawURLEncoding.EncodeToString(p.mac(source, sz.Name, f))}}
	// Handler reads the last value of each parameter: these come after
	// the base URL's query, which may have one of the same name (a focus
	// then needs one of its own, empty if need be).
	if _, query, _ := strings.Cut(u, "?"); f != "" || queryHas(query, queryFocus) {
		q.Set(queryFocus, f)
	}
	return u + sep + q.Encode() + fragment
}

// thumbnailExt returns the extension the thumbnail of source in sz is
// stored with: its size's format's, or else its source's (which the plugin
// stored with the extension of its format).
func thumbnailExt(source string, sz sizes.Size) string {
	if sz.Format != "" {
		return extensions[sz.Format]
	}
	ext := strings.ToLower(strings.TrimPrefix(path.Ext(source), "."))
	if ext == "jpeg" {
		return extensions[formatJPEG]
	}
	return ext
}

// SignedURL implements the signed URL accessor of field.Image: see
// field.Image.SignedURL.
func (b *binder) SignedURL(img *field.Image, size string) (string, error) {
	if len(b.p.cfg.SigningKey) == 0 {
		// a misconfiguration: reported whatever the row and the size
		return "", ErrNoSigningKey
	}
	if bridge.Discarded(img) {
		return "", field.ErrDiscarded
	}
	sz, ok := b.col.size(size)
	if !ok {
		return "", fmt.Errorf("%w: %q is not a size of column %s.%s", ErrUnknownSize, size, b.col.table, b.col.name)
	}
	source := img.Name()
	if source == "" {
		if sz.FallbackImageURL != "" {
			return sz.FallbackImageURL, nil
		}
		return "", fmt.Errorf("%w: %s.%s, size %q", ErrNoSource, b.col.table, b.col.name, sz.Name)
	}
	if err := uncleanName(source); err != nil {
		return "", fmt.Errorf("thumbnails: %s.%s, size %q: %w", b.col.table, b.col.name, sz.Name, err)
	}
	return b.p.signedURL(source, sz, imageFocus(img)), nil
}

// queryHas reports whether the raw query holds the parameter key.
func queryHas(query, key string) bool {
	v, _ := url.ParseQuery(query) // what parses, as the handler's request would
	return v.Has(key)
}

// lastValue returns the last value of the parameter key of q: a signed
// URL's own parameters follow those of its base URL's query.
func lastValue(q url.Values, key string) string {
	if v := q[key]; len(v) > 0 {
		return v[len(v)-1]
	}
	return ""
}
