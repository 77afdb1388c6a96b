package thumbnails

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/gorm-thumbnails/thumbnails/backends"
	"github.com/gorm-thumbnails/thumbnails/field"
	"github.com/gorm-thumbnails/thumbnails/internal/bridge"
)

// stored is an upload that a statement has written to storage: its source,
// the thumbnails of its eager sizes, and every file name written.
type stored struct {
	img *field.Image // marked discarded if the save fails or rolls back
	// mapDest[mapKey] holds a copy of *img when the upload came in an
	// Updates map by value: it is marked discarded too.
	mapDest map[string]any
	mapKey  string
	// copies are the model's fields that gorm set to a copy of *img
	// (db.Model(&row).Update("image", upload)): marked discarded too.
	copies []*field.Image
	col    *column
	source string
	thumbs []backends.Thumbnail
	files  []string
}

// storeUpload stores img's pending upload for column col: it reads and
// decodes it (failing with ErrInvalidImage or ErrImageTooLarge before
// anything is written), renders the eager sizes, then writes the source and
// the thumbnails. On success img holds the new source name. On failure the
// files written so far are deleted. Sizes that crop around a focal point
// crop around focus, when it is valid.
func (p *plugin) storeUpload(ctx context.Context, col *column, img *field.Image, focus field.Focus) (*stored, error) {
	data, err := p.readPending(col, img)
	if err != nil {
		return nil, err
	}
	return p.storeBytes(ctx, col, img, focus, data)
}

// readPending reads img's pending upload for column col, within the
// limits. The reader is spent: the Image reads the bytes from now on, so
// that a save that fails before anything is stored (a storage that fails,
// a cancelled context) can be tried again with the same Image.
func (p *plugin) readPending(col *column, img *field.Image) ([]byte, error) {
	up := bridge.Pending(img)
	data, err := readUpload(up.Reader, p.cfg.Limits)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", uploadWhere(col, img), err)
	}
	up.Reader = bytes.NewReader(data)
	return data, nil
}

// uploadWhere names img's pending upload for column col in errors.
func uploadWhere(col *column, img *field.Image) string {
	return fmt.Sprintf("column %s (%q)", col.name, bridge.Pending(img).Filename)
}

// storeBytes is storeUpload of data, img's upload as readPending read it.
func (p *plugin) storeBytes(ctx context.Context, col *column, img *field.Image, focus field.Focus, data []byte) (*stored, error) {
	up := bridge.Pending(img)
	where := uploadWhere(col, img)
	eager := focused(col.eager(), focus)
	if eager == nil {
		eager = checkOnly
	}
	src, err := decode(data, p.cfg.Limits, eager)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	out, err := renderAll(ctx, src, eager, p.cfg.Background)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	ph, err := p.placeholderFor(src)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}

	st := &stored{img: img, col: col}
	// Every name written here is new (under a random id): after a write
	// that fails, the name is deleted too, in case a storage of the
	// caller's left part of the file under it.
	requested := path.Join(col.dir, randomID()+"."+extensions[src.format])
	name, err := p.storage.Save(ctx, requested, bytes.NewReader(data))
	if err != nil {
		p.deleteFiles(ctx, []string{requested})
		return nil, fmt.Errorf("%s: store source: %w", where, err)
	}
	st.source = name
	st.files = append(st.files, name)
	for _, r := range out {
		t, err := p.saveThumbnail(ctx, name, r)
		if err != nil {
			// nothing recorded yet
			p.deleteFiles(ctx, append(st.files, thumbnailName(p.cfg.BaseDir, name, r.size.Name, r.ext)))
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		st.thumbs = append(st.thumbs, t)
		st.files = append(st.files, t.Name)
	}
	if ph != nil { // a record, not a file
		ph.Source = name
		st.thumbs = append(st.thumbs, *ph)
	}
	// Stored: a copy of the Image made before the save (one NewImage
	// given to two rows) reads an empty upload and is refused, rather than
	// storing the same bytes again.
	up.Reader = bytes.NewReader(nil)
	bridge.Stored(img, name)
	bridge.Cache(img, saved(slices.Clip(st.thumbs)))
	return st, nil
}

// saveThumbnail writes a rendered size of source to storage.
func (p *plugin) saveThumbnail(ctx context.Context, source string, r *rendered) (backends.Thumbnail, error) {
	name, err := p.storage.Save(ctx, thumbnailName(p.cfg.BaseDir, source, r.size.Name, r.ext), bytes.NewReader(r.data))
	if err != nil {
		return backends.Thumbnail{}, fmt.Errorf("store size %q: %w", r.size.Name, err)
	}
	return backends.Thumbnail{Source: source, Size: r.size.Name, Name: name, Width: r.width, Height: r.height}, nil
}

// thumbnailName is "<baseDir>/<source without extension>_<size>.<ext>" for a
// source the plugin named ("<dir>/<random id>.<ext>"). Any other source (a
// legacy table's) has a hash of its name before the extension,
// "<baseDir>/<source without extension>_<size>.<hash>.<ext>": cat.jpg and
// cat.png, or pizza.jpg in size x_small and pizza_x.png in size small,
// would otherwise share a thumbnail. The names of the two kinds never meet
// (a size name holds no '.'), and two names with the same hash are those
// of one source (but for a collision of 48 bits of SHA-256 between two
// names that already share "<stem>_<size>"). In the latter, a folder or
// a name that begins with a dot ("legacy/.old/cat.jpg") begins with '_'
// instead ("legacy/_old/cat_small.<hash>.jpg"): the Handler hides what
// begins with a dot (the storage's temporary files), and would not serve
// it; the hash still tells the source.
func thumbnailName(baseDir, source, size, ext string) string {
	stem, tag := thumbnailStem(source)
	return path.Join(baseDir, stem+"_"+size+tag+"."+ext)
}

// thumbnailStem returns what the names of the thumbnails of source hold
// before "_<size>" (under the base folder), and between the size and the
// extension: "" for a source the plugin named, "." and its hash for
// another (see thumbnailName).
func thumbnailStem(source string) (stem, tag string) {
	stem = strings.TrimSuffix(source, path.Ext(source))
	if pluginNamed(source) {
		return stem, ""
	}
	return undotted(stem), "." + nameHash(source)
}

// undotted returns name with '_' for the dot that begins any of its
// segments.
func undotted(name string) string {
	if !strings.HasPrefix(name, ".") && !strings.Contains(name, "/.") {
		return name
	}
	segs := strings.Split(name, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, ".") && s != "." && s != ".." {
			segs[i] = "_" + s[1:]
		}
	}
	return strings.Join(segs, "/")
}

// nameHash is the hash of a source's name in the names of its thumbnails
// when the plugin did not name it (see thumbnailName).
func nameHash(source string) string {
	sum := sha256.Sum256([]byte(source))
	return hex.EncodeToString(sum[:6])
}

// maybeShared reports whether name, a thumbnail of source, may be another
// source's too: one made before thumbnailName hashed the names of sources
// the plugin did not name (their cat.jpg and cat.png shared it).
func maybeShared(source, name string) bool {
	return !pluginNamed(source) && !strings.Contains(path.Base(name), "."+nameHash(source)+".")
}

// pluginNamed reports whether source has the form of the names the plugin
// gives what it stores: "<dir>/<randomID()>.<ext>", ext a format's. A
// legacy name of that form is taken for one (two of one id and two
// extensions would share thumbnails: the plugin never stores such).
func pluginNamed(source string) bool {
	base := path.Base(source)
	id, ext, ok := strings.Cut(base, ".")
	if !ok || len(id) != 32 || !knownExtension(ext) {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// randomID returns 128 random bits in hex: a collision-free file name.
func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// knownExtension reports whether ext is the extension of a format's.
func knownExtension(ext string) bool {
	for _, e := range extensions {
		if e == ext {
			return true
		}
	}
	return false
}
