package backends

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
)

// fileSystemStorage stores files in a folder of the local file system.
type fileSystemStorage struct {
	root    string
	baseURL string
}

// NewFileSystemStorage returns a Storage that keeps files under the folder
// root (created on first write) and serves them under baseURL, for example
// NewFileSystemStorage("media", "/media/"); a "/" is added to a baseURL
// whose path does not end in one. A query in baseURL ("?v=2", a cache
// buster) stays at the end of every URL. Writes are atomic: a file is written to a
// temporary name in its folder and renamed into place, so a reader never
// sees half a file. It is a Lister too, as thumbnails.Prune needs: List
// fails with ErrNotFound when root does not exist, and with
// ErrAliasedFiles when a symbolic link gives files a second name.
func NewFileSystemStorage(root, baseURL string) Storage {
	return &fileSystemStorage{root: root, baseURL: withSlash(baseURL)}
}

// withSlash returns baseURL with a "/" at the end of its path: before its
// query or fragment, if it has one ("https://cdn.example.com/media?v=2"
// gives "https://cdn.example.com/media/?v=2").
func withSlash(baseURL string) string {
	path, rest := baseURL, ""
	if i := strings.IndexAny(baseURL, "?#"); i >= 0 {
		path, rest = baseURL[:i], baseURL[i:]
	}
	if path != "" && !strings.HasSuffix(path, "/") {
		path += "/"
	}
	return path + rest
}

// CleanName checks that name is a relative, slash-separated storage name
// that stays inside the storage root, and returns it cleaned. Every backend
// of this package calls it; other Storage implementations may too.
func CleanName(name string) (string, error) {
	if name == "" || strings.Contains(name, "\\") || strings.ContainsFunc(name, isControl) {
		return "", fmt.Errorf("%w: %q", ErrInvalidName, name)
	}
	if path.IsAbs(name) || filepath.IsAbs(name) {
		return "", fmt.Errorf("%w: %q is absolute", ErrInvalidName, name)
	}
	for _, elem := range strings.Split(name, "/") {
		if elem == ".." {
			return "", fmt.Errorf("%w: %q contains \"..\"", ErrInvalidName, name)
		}
	}
	clean := path.Clean(name)
	if clean == "." || !fs.ValidPath(clean) {
		return "", fmt.Errorf("%w: %q", ErrInvalidName, name)
	}
	return clean, nil
}

// segmentsClean reports whether name is relative and has no "", "." or
// ".." segment.
func segmentsClean(name string) bool {
	for seg := range strings.SplitSeq(name, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

// IsCleanName reports whether name is a storage name as CleanName returns
// them: CleanName(name) would return name itself, without an error. It
// allocates nothing.
func IsCleanName(name string) bool {
	if name == "" || !segmentsClean(name) {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c == '\\' || c < 0x20 || c == 0x7f {
			return false
		}
	}
	return fs.ValidPath(name)
}

// isControl reports whether r is an ASCII control character (NUL, the
// separators the database backend uses, newlines, DEL, ...).
func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

func (s *fileSystemStorage) path(name string) (string, error) {
	clean, err := CleanName(name)
	if err != nil {
		return "", err
	}
	return filepath.Join(s.root, filepath.FromSlash(clean)), nil
}

func (s *fileSystemStorage) Save(ctx context.Context, name string, r io.Reader) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	p, err := s.path(name)
	if err != nil {
		return "", err
	}
	dir := filepath.Dir(p)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("backends: save %q: %w", name, err)
	}
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return "", fmt.Errorf("backends: save %q: %w", name, err)
	}
	_, err = io.Copy(tmp, r)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), p)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return "", fmt.Errorf("backends: save %q: %w", name, err)
	}
	return path.Clean(name), nil
}

func (s *fileSystemStorage) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p, err := s.path(name)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if missing(err) {
		return nil, fmt.Errorf("backends: open %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("backends: open %q: %w", name, err)
	}
	// A folder is not a stored file, although os.Open opens it.
	if info, err := f.Stat(); err != nil || info.IsDir() {
		_ = f.Close()
		if err == nil {
			err = ErrNotFound
		}
		return nil, fmt.Errorf("backends: open %q: %w", name, err)
	}
	return f, nil
}

// missing reports whether err says that a path does not exist, including
// because one of its folders is a file ("a.jpg/x") or because it is longer
// than the file system takes (no file has that name).
func missing(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) || errors.Is(err, syscall.ENAMETOOLONG)
}

func (s *fileSystemStorage) Delete(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p, err := s.path(name)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !missing(err) {
		return fmt.Errorf("backends: delete %q: %w", name, err)
	}
	return nil
}

func (s *fileSystemStorage) URL(name string) string { return JoinURL(s.baseURL, name) }

// JoinURL returns baseURL followed by the storage name, each of its
// segments escaped as a URL path segment; every Storage of this module
// builds its URLs with it, so they all agree. The empty name gives
// baseURL itself. A name that a browser would resolve elsewhere than under
// baseURL (absolute, or with a "..", "." or empty segment: "/media/../x")
// has no URL: JoinURL returns "". Any other byte is escaped. baseURL is
// used as it is: give it its final "/" (before its query, if it has one,
// which stays at the end of every URL).
func JoinURL(baseURL, name string) string {
	if name == "" {
		return baseURL
	}
	if !segmentsClean(name) {
		return ""
	}
	if i := strings.IndexAny(baseURL, "?#"); i >= 0 {
		// A query or fragment ("https://cdn.example.com/media/?v=2") stays
		// at the end: the name goes into the path.
		return JoinURL(baseURL[:i], name) + baseURL[i:]
	}
	if !needsEscape(name) {
		return baseURL + name // the common case: generated names are URL-safe
	}
	segs := strings.Split(name, "/")
	for i, seg := range segs {
		segs[i] = url.PathEscape(seg)
	}
	return baseURL + strings.Join(segs, "/")
}

// List implements Lister: it walks the root folder. Temporary files that a
// crashed write left behind are listed too, under their own names. A
// symbolic link to a folder outside the root (media/foods on another disk)
// is walked as the folder it points to, its files listed under the link's
// path, as Open reads them; a link to a file is listed as that file. A
// root folder that is itself a link is walked where it points.
//
// Two names for the same files make List fail with ErrAliasedFiles: a
// link to a folder inside the root, or inside (or around) another linked
// folder. Prune could not tell which name the rows use, and would delete
// the files through the other.
//
// A root folder that does not exist is an error wrapping ErrNotFound, not
// an empty storage: a mistyped or relative root (one run from another
// folder) would otherwise show every recorded file as gone, and
// thumbnails.Prune would delete every record.
func (s *fileSystemStorage) List(ctx context.Context, fn func(FileInfo) error) error {
	info, err := os.Stat(s.root)
	if err != nil || !info.IsDir() {
		if err == nil || errors.Is(err, fs.ErrNotExist) {
			err = ErrNotFound
		}
		return fmt.Errorf("backends: list %q: the storage's root folder: %w", s.root, err)
	}
	// Absolute, as EvalSymlinks makes a link's absolute target: the
	// aliases are found by comparing them.
	abs, err := filepath.Abs(s.root)
	if err != nil {
		return fmt.Errorf("backends: list %q: %w", s.root, err)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return fmt.Errorf("backends: list %q: %w", s.root, err)
	}
	walked := []string{real}
	if err := walkFiles(ctx, real, "", &walked, fn); err != nil {
		return fmt.Errorf("backends: list %q: %w", s.root, err)
	}
	return nil
}

// walkFiles calls fn with the files under dir, a real path (no link in
// it), named under prefix (a slash-separated storage name, "" for the
// root). walked holds the real paths of the folders walked so far: the
// root's, and those of the links followed.
func walkFiles(ctx context.Context, dir, prefix string, walked *[]string, fn func(FileInfo) error) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p != dir && errors.Is(err, fs.ErrNotExist) {
				return nil // a folder that went while listed (a save's, a delete's)
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		name := path.Join(prefix, filepath.ToSlash(rel))
		info, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil // a file that went while listed
		} else if err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 {
			target, err := os.Stat(p)
			switch {
			case err != nil: // a broken link: listed as itself
			case target.IsDir():
				real, err := filepath.EvalSymlinks(p)
				if err != nil {
					return err
				}
				for _, w := range *walked {
					if within(real, w) || within(w, real) {
						return fmt.Errorf("%w: %q links to %q, which the walk reaches from %q too", ErrAliasedFiles, name, real, w)
					}
				}
				*walked = append(*walked, real)
				return walkFiles(ctx, real, name, walked, fn)
			default:
				info = target
			}
		}
		return fn(FileInfo{Name: name, Size: info.Size(), ModTime: info.ModTime()})
	})
}

// within reports whether the folder p is dir or under it (both absolute
// paths without links).
func within(p, dir string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// needsEscape reports whether name has a byte that url.PathEscape would
// change. It runs for every URL a page shows, hence the table.
func needsEscape(name string) bool {
	for i := 0; i < len(name); i++ {
		if !pathSafe[name[i]] {
			return true
		}
	}
	return false
}

// pathSafe marks the bytes that a URL path keeps as they are: letters,
// digits, "-", "_", ".", "~" and the separator "/".
var pathSafe = func() (t [256]bool) {
	for c := range 256 {
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_.~/", byte(c)) >= 0
	}
	return t
}()
