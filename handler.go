package thumbnails

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails/backends"
	"github.com/gorm-thumbnails/thumbnails/field"
	"github.com/gorm-thumbnails/thumbnails/sizes"
)

// CacheImmutable is the Cache-Control of every image Handler serves: a
// thumbnail's name is derived from its source's, which is random and never
// reused, so a URL serves the same image for as long as the thumbnail
// lives. The exception is a thumbnail made again under its own name: by
// Regenerate after its size changed, or after DeleteSize, or with a moved
// focal point. Browsers and caches that hold the old copy may keep it for
// up to a year; its ETag changes, so a revalidation gets the new one.
const CacheImmutable = "public, max-age=31536000, immutable"

// HandlerOptions configure Handler.
type HandlerOptions struct {
	// Prefix is the URL path under which the storage is served, ending in
	// "/". Empty means the path of the storage's base URL: "/media/" with
	// the default storage.
	Prefix string
	// Sources serves the source images as well as the thumbnails. Sources
	// are stored as uploaded, EXIF metadata (a phone's GPS position)
	// included, while thumbnails carry none: so by default a source is not
	// served (404).
	Sources bool
}

// contentTypes maps the extensions Handler serves to their media types;
// any other name is not found, so the handler never serves a file a
// browser would run (HTML, SVG) from the storage.
var contentTypes = map[string]string{
	".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".gif": "image/gif", ".webp": "image/webp",
}

// contentType returns the media type of the file name, by its extension,
// and whether Handler serves such a file.
func contentType(name string) (string, bool) {
	ct, ok := contentTypes[strings.ToLower(path.Ext(name))]
	return ct, ok
}

// handler is the http.Handler returned by Handler.
type handler struct {
	p       *plugin
	prefix  string
	sources bool
}

// Handler returns an http.Handler that serves, under opts.Prefix, the images
// of the storage of the plugin registered on db, for GET and HEAD:
//
//	h, err := thumbnails.Handler(db, thumbnails.HandlerOptions{})
//	mux.Handle("/media/", h)
//
// Each response has the image's Content-Type, an ETag and, when the
// storage gives a modification time, Last-Modified (conditional requests
// get 304), Cache-Control CacheImmutable, and honours
// Range requests (http.ServeContent). A name that is not a clean storage
// name ("..", "//", a backslash, a control character), a folder, a hidden
// file (a write in progress), anything but a JPEG, PNG, GIF or WebP, and a
// source unless opts.Sources is set, is 404: never a listing.
//
// With Config.SigningKey set, a thumbnail that does not exist yet is made
// on its first request, if the URL is one field.Image.SignedURL made:
// concurrent requests for it wait for one generation, which the plugin
// shares with Image.Thumbnail's. A missing thumbnail whose URL is unsigned
// or tampered with is 403. Without a key, it is 404. A signed URL's
// response is the size's recorded thumbnail, with that file's
// Content-Type, when it is recorded under another name than the URL's: a
// size whose format changed, before Regenerate runs, or the size of a
// source stored without its format's extension.
//
// A file of a storage whose Open gives no io.Seeker and no modification
// time is read into memory to be hashed into its ETag, up to
// Limits.MaxBytes; a larger one is streamed whole, without an ETag, and
// with no Range support. A file whose modification time is in whole
// seconds (S3's) is hashed too, up to Limits.MaxBytes, so that a thumbnail
// rewritten within the second gets another ETag.
//
// It fails with ErrNotRegistered when db does not use the plugin.
func Handler(db *gorm.DB, opts HandlerOptions) (http.Handler, error) {
	p, err := pluginOf(db)
	if err != nil {
		return nil, err
	}
	prefix := opts.Prefix
	if prefix == "" {
		u, err := url.Parse(p.storage.URL(""))
		if err != nil {
			return nil, err
		}
		prefix = u.Path
	}
	if !strings.HasPrefix(prefix, "/") {
		prefix = "/" + prefix
	}
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return &handler{p: p, prefix: prefix, sources: opts.Sources}, nil
}

// errForbidden is a request for a missing thumbnail without a valid signature.
var errForbidden = errors.New("thumbnails: forbidden")

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name, ok := h.name(r.URL.Path)
	if !ok {
		http.NotFound(w, r)
		return
	}
	thumb := strings.HasPrefix(name, h.p.cfg.BaseDir+"/")
	// A signed URL names its thumbnail with the extension of the size's
	// format, or else of its source's name, which a source not stored by
	// the plugin may lack or get wrong: its name is left to generate.
	signed := thumb && len(h.p.cfg.SigningKey) > 0 && r.URL.Query().Has(querySignature)
	_, known := contentType(name)
	if !thumb && !h.sources || !known && !signed {
		http.NotFound(w, r)
		return
	}
	var f io.ReadCloser
	err := backends.ErrNotFound
	if known {
		f, err = h.p.storage.Open(r.Context(), name)
	}
	served := name
	if thumb && errors.Is(err, backends.ErrNotFound) && len(h.p.cfg.SigningKey) > 0 {
		f, served, err = h.generate(r.Context(), name, r.URL.Query())
	}
	switch {
	case err == nil:
	case errors.Is(err, errForbidden):
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	case errors.Is(err, backends.ErrNotFound), errors.Is(err, backends.ErrInvalidName):
		http.NotFound(w, r)
		return
	default:
		if r.Context().Err() == nil {
			h.p.db.Logger.Error(r.Context(), "thumbnails: serve %q: %v", name, err)
		}
		http.Error(w, "internal server error", http.StatusInternalServerError)
		return
	}
	defer f.Close()
	h.serve(w, r, served, f)
}

// name returns the storage name that urlPath asks for, and whether it is
// one the handler may serve.
func (h *handler) name(urlPath string) (string, bool) {
	name, ok := strings.CutPrefix(urlPath, h.prefix)
	if !ok || name == "" || strings.HasSuffix(name, "/") {
		return "", false
	}
	if clean, err := backends.CleanName(name); err != nil || clean != name {
		return "", false
	}
	for _, seg := range strings.Split(name, "/") {
		if strings.HasPrefix(seg, ".") { // hidden: a write in progress is ".tmp-..."
			return "", false
		}
	}
	return name, true
}

// generate makes the missing thumbnail name, when the query carries its
// source and a valid signature, and opens it. It returns the name of the
// file it opens, which is another when the size is recorded under another
// name (its format changed since, and no Regenerate ran yet) or is made
// under another extension than its source's name has (a source stored
// without one, or with one that is not its format's): the response's
// Content-Type is that file's.
func (h *handler) generate(ctx context.Context, name string, q url.Values) (io.ReadCloser, string, error) {
	source, sig := lastValue(q, querySource), lastValue(q, querySignature)
	if source == "" || sig == "" {
		return nil, "", errForbidden
	}
	if clean, err := backends.CleanName(source); err != nil || clean != source {
		return nil, "", errForbidden
	}
	sz, ok := h.sizeOf(name, source)
	focusParam := lastValue(q, queryFocus)
	var focus field.Focus
	if focus.Scan(focusParam) != nil {
		return nil, "", errForbidden
	}
	if !ok || !h.p.validSignature(source, sz.Name, focusParam, sig) {
		return nil, "", errForbidden
	}
	// The URL may be older than the row's point (a cached page): the size
	// is made around the point the row holds now, when the process knows
	// its model.
	sz = focused([]sizes.Size{sz}, h.p.currentFocus(ctx, source, sz, focus))[0]
	// The generation is shared by every request waiting for it, and goes on
	// when this client goes away (generate detaches it).
	t, err := h.p.generateLazy(ctx, source, sz) // a row deleted meanwhile: 404, nothing kept
	if err != nil {
		return nil, "", err
	}
	if _, ok := contentType(t.Name); !ok {
		return nil, "", fmt.Errorf("thumbnails: %q is recorded as %q, which is not served: %w", name, t.Name, backends.ErrNotFound)
	}
	f, err := h.p.storage.Open(ctx, t.Name)
	return f, t.Name, err
}

// sizeOf returns the configured size whose thumbnail of source is name.
func (h *handler) sizeOf(name, source string) (sizes.Size, bool) {
	for _, n := range h.p.cfg.Sizes.Names() {
		sz := h.p.cfg.Sizes[n]
		if thumbnailName(h.p.cfg.BaseDir, source, sz.Name, thumbnailExt(source, sz)) == name {
			return sz, true
		}
	}
	return sizes.Size{}, false
}

// serve writes the content of f, stored under name, with http.ServeContent.
func (h *handler) serve(w http.ResponseWriter, r *http.Request, name string, f io.ReadCloser) {
	// A thumbnail may be rewritten under its name (Regenerate); a source,
	// under a random name, never is.
	rewritten := strings.HasPrefix(name, h.p.cfg.BaseDir+"/")
	content, etag, mod, err := seekable(f, h.p.cfg.Limits.MaxBytes, rewritten)
	var tooLarge *unbuffered
	if err != nil && !errors.As(err, &tooLarge) {
		h.p.db.Logger.Error(r.Context(), "thumbnails: serve %q: %v", name, err)
		http.Error(w, "internal server error", http.StatusInternalServerError)
		return
	}
	hdr := w.Header()
	ct, _ := contentType(name)
	hdr.Set("Content-Type", ct)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Cache-Control", CacheImmutable)
	if tooLarge != nil {
		// Whole, without an ETag or ranges, which would take it all in memory.
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			_, _ = io.Copy(w, tooLarge.r)
		}
		return
	}
	hdr.Set("ETag", etag)
	http.ServeContent(w, r, "", mod, content)
}

// unbuffered is seekable's answer for a file larger than it reads into
// memory: r reads the whole file.
type unbuffered struct{ r io.Reader }

func (*unbuffered) Error() string { return "thumbnails: a file larger than the serving buffer" }

// seekable returns f as an io.ReadSeeker with a strong ETag and its
// modification time: a local file or a bucket reader as it is, its ETag
// made of its modification time and size; anything else read into memory
// (up to max bytes, Limits.MaxBytes), with an ETag that hashes its content.
// A larger one fails with an *unbuffered that reads it all.
//
// A time in whole seconds (S3's) does not tell apart two writes of a
// thumbnail under its name within the second (a save, then Regenerate), so
// a file that tells one and may be rewritten is hashed too, up to max, and
// keeps its time for Last-Modified.
func seekable(f io.Reader, max int64, rewritten bool) (io.ReadSeeker, string, time.Time, error) {
	// whole reports whether a stamp of mod and size would do.
	whole := func(mod time.Time, size int64) bool {
		return !mod.IsZero() && (mod.Nanosecond() != 0 || !rewritten || size > max)
	}
	stamp := func(mod time.Time, size int64) string {
		return `"` + strconv.FormatInt(mod.UnixNano(), 36) + "-" + strconv.FormatInt(size, 36) + `"`
	}
	// A reader without a modification time is hashed: a stamp of its size
	// alone would give two files of one size the same ETag.
	var mod time.Time
	var size int64
	switch v := f.(type) {
	case interface {
		io.ReadSeeker
		Stat() (fs.FileInfo, error)
	}:
		info, err := v.Stat()
		if err != nil {
			return nil, "", time.Time{}, err
		}
		mod, size = info.ModTime(), info.Size()
		if whole(mod, size) {
			return v, stamp(mod, size), mod, nil
		}
	case interface {
		io.ReadSeeker
		Size() int64
		ModTime() time.Time
	}:
		mod, size = v.ModTime(), v.Size()
		if whole(mod, size) {
			return v, stamp(mod, size), mod, nil
		}
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, "", time.Time{}, err
	}
	if int64(len(data)) > max { // a thumbnail may be larger than the uploads it is made from
		return nil, "", time.Time{}, &unbuffered{io.MultiReader(bytes.NewReader(data), f)}
	}
	sum := sha256.Sum256(data)
	return bytes.NewReader(data), `"h` + hex.EncodeToString(sum[:12]) + `"`, mod, nil
}
