package backends

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"path"
	"reflect"
	"syscall"
	"time"
)

// BlobBucket is what NewBlobStorage uses of a bucket: methods of a
// *blob.Bucket of gocloud.dev/blob. Its type parameters stand for
// gocloud's own types (WO for *blob.WriterOptions' element, W for
// *blob.Writer, and so on), which Go infers from the bucket passed: write
// backends.NewBlobStorage(bucket, baseURL), without them. They let package
// backends use a bucket without importing gocloud.dev/blob, which would
// build its 170-odd packages into every program, those on local files too.
// Only *blob.Bucket is supported: another type with these methods compiles,
// but its objects cannot be listed and its missing objects are not told
// from its other errors.
type BlobBucket[WO, RO, LO any, W io.WriteCloser, R io.ReadCloser, L BlobIterator[O], O any] interface {
	NewWriter(ctx context.Context, key string, opts *WO) (W, error)
	NewReader(ctx context.Context, key string, opts *RO) (R, error)
	Delete(ctx context.Context, key string) error
	List(opts *LO) L
}

// BlobIterator is the *blob.ListIterator of a BlobBucket: its Next returns
// a *blob.ListObject, and io.EOF after the last one.
type BlobIterator[O any] interface {
	Next(ctx context.Context) (O, error)
}

// blobStorage is a Storage and Lister on a blob bucket.
type blobStorage[WO, RO, LO any, W io.WriteCloser, R io.ReadCloser, L BlobIterator[O], O any] struct {
	bucket  BlobBucket[WO, RO, LO, W, R, L, O]
	baseURL string
}

// NewBlobStorage returns a Storage that keeps files in bucket, a
// *blob.Bucket of gocloud.dev/blob (Amazon S3 and every S3-compatible
// store, Google Cloud Storage, Azure Blob Storage, memory, files: whichever
// driver the program imports), under keys equal to their storage names,
// and serves them under baseURL (for example the bucket's CDN,
// "https://cdn.example/"; a missing final slash is added):
//
//	bucket, err := blob.OpenBucket(ctx, "s3://my-bucket?region=eu-west-1")
//	storage := backends.NewBlobStorage(bucket, "https://cdn.example/")
//
// A write is atomic: readers see the old object or the new one, and a
// failed write stores nothing. Each call makes one request: Open does not
// ask first whether the object exists, and of a missing one returns an
// error wrapping ErrNotFound; Delete of a missing object succeeds. The Storage also implements
// Lister, so thumbnails.Prune works on it. The bucket stays the caller's:
// the Storage never closes it. To keep the files under a folder of a
// shared bucket, pass blob.PrefixedBucket(bucket, "media/").
// Package backends/blob's NewStorage is the same Storage.
func NewBlobStorage[WO, RO, LO any, W io.WriteCloser, R io.ReadCloser, L BlobIterator[O], O any](bucket BlobBucket[WO, RO, LO, W, R, L, O], baseURL string) Storage {
	return &blobStorage[WO, RO, LO, W, R, L, O]{bucket: bucket, baseURL: withSlash(baseURL)}
}

// Save writes the content of r to the object name, with a Content-Type
// taken from the name's extension.
func (s *blobStorage[WO, RO, LO, W, R, L, O]) Save(ctx context.Context, name string, r io.Reader) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	clean, err := CleanName(name)
	if err != nil {
		return "", err
	}
	// Cancelling the writer's context is how a blob write is aborted: Close
	// then discards what was written instead of committing it.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var opts WO
	// "" lets the driver sniff it
	setStringField(&opts, "ContentType", mime.TypeByExtension(path.Ext(clean)))
	w, err := s.bucket.NewWriter(wctx, clean, &opts)
	if err != nil {
		return "", fmt.Errorf("backends: save %q: %w", name, err)
	}
	if _, err := io.Copy(w, r); err != nil {
		cancel()
		_ = w.Close()
		return "", fmt.Errorf("backends: save %q: %w", name, err)
	}
	if err := w.Close(); err != nil {
		return "", fmt.Errorf("backends: save %q: %w", name, err)
	}
	return clean, nil
}

// Open returns a reader of the object name, in one request.
func (s *blobStorage[WO, RO, LO, W, R, L, O]) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	clean, err := CleanName(name)
	if err != nil {
		return nil, err
	}
	rd, err := s.bucket.NewReader(ctx, clean, nil)
	if err != nil {
		if blobNotFound(err) {
			return nil, fmt.Errorf("backends: open %q: %w (%w)", name, ErrNotFound, err)
		}
		return nil, fmt.Errorf("backends: open %q: %w", name, err)
	}
	return rd, nil
}

// Delete removes the object name. A missing object is not an error, so that
// a retried cleanup succeeds.
func (s *blobStorage[WO, RO, LO, W, R, L, O]) Delete(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	clean, err := CleanName(name)
	if err != nil {
		return err
	}
	if err := s.bucket.Delete(ctx, clean); err != nil && !blobNotFound(err) {
		return fmt.Errorf("backends: delete %q: %w", name, err)
	}
	return nil
}

// blobNotFound reports whether err is a gocloud.dev error of code
// NotFound, as gcerrors.Code(err) == gcerrors.NotFound is, without
// importing gcerrors (whose dependencies are those of gocloud.dev/blob):
// the chain holds a *gcerr.Error, whose exported Code prints "NotFound".
// A key that no file can have is not found either: fileblob gives code
// Unknown for a key under a stored file ("a_small.png/x.png", ENOTDIR) or
// one longer than the file system takes (ENAMETOOLONG), as the file
// storage's missing says.
func blobNotFound(err error) bool {
	if errors.Is(err, syscall.ENOTDIR) || errors.Is(err, syscall.ENAMETOOLONG) {
		return true
	}
	for err != nil {
		v := reflect.ValueOf(err)
		if v.Kind() == reflect.Pointer && !v.IsNil() && v.Elem().Kind() == reflect.Struct && v.Elem().Type().PkgPath() == "gocloud.dev/internal/gcerr" {
			if code := v.Elem().FieldByName("Code"); code.IsValid() && code.CanInterface() {
				if s, ok := code.Interface().(fmt.Stringer); ok {
					return s.String() == "NotFound"
				}
			}
		}
		err = errors.Unwrap(err)
	}
	return false
}

// URL returns baseURL followed by name, each path segment escaped as
// url.PathEscape does; names the plugin generates are URL-safe and returned
// as they are. It makes no request and does not sign anything.
func (s *blobStorage[WO, RO, LO, W, R, L, O]) URL(name string) string {
	return JoinURL(s.baseURL, name)
}

// List implements Lister: it lists every object of the bucket, with its
// size in bytes and last modification time. Keys that are not clean
// storage names (a leading slash, a ".." element, ...) were not written by
// this Storage, and it could neither open nor delete them: they are skipped.
func (s *blobStorage[WO, RO, LO, W, R, L, O]) List(ctx context.Context, fn func(FileInfo) error) error {
	it := s.bucket.List(nil)
	// A bucket that stats each file (gocloud's fileblob) fails its listing
	// on one deleted while listed: the listing starts again, and leaves
	// out what it has listed already.
	var seen map[string]bool
	restarts := 0
	for {
		obj, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil && blobNotFound(err) && restarts < maxListRestarts {
			restarts++
			it = s.bucket.List(nil)
			continue
		}
		if err != nil {
			return fmt.Errorf("backends: list: %w", err)
		}
		o, err := listed(obj)
		if err != nil {
			return err
		}
		if o.isDir {
			continue // only reported with a delimiter, which List does not set
		}
		if clean, err := CleanName(o.Name); err != nil || clean != o.Name {
			continue
		}
		if restarts > 0 && seen[o.Name] {
			continue
		}
		if seen == nil {
			seen = map[string]bool{}
		}
		seen[o.Name] = true
		if err := fn(o.FileInfo); err != nil {
			return err
		}
	}
}

// maxListRestarts is how many times List starts again after a file went
// while it was listed.
const maxListRestarts = 10

// listedObject is what List reads of a *blob.ListObject.
type listedObject struct {
	FileInfo
	isDir bool
}

// listed reads the fields Key, Size, ModTime and IsDir of obj, a
// *blob.ListObject, whose type package backends does not name.
func listed(obj any) (listedObject, error) {
	v := reflect.Indirect(reflect.ValueOf(obj))
	field := func(name string, t reflect.Type) (reflect.Value, bool) {
		if v.Kind() != reflect.Struct {
			return reflect.Value{}, false
		}
		f := v.FieldByName(name)
		return f, f.IsValid() && f.Type() == t
	}
	key, ok1 := field("Key", reflect.TypeFor[string]())
	size, ok2 := field("Size", reflect.TypeFor[int64]())
	mod, ok3 := field("ModTime", reflect.TypeFor[time.Time]())
	dir, ok4 := field("IsDir", reflect.TypeFor[bool]())
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return listedObject{}, fmt.Errorf("backends: list: %T is not a blob.ListObject (fields Key, Size, ModTime, IsDir)", obj)
	}
	return listedObject{FileInfo{Name: key.String(), Size: size.Int(), ModTime: mod.Interface().(time.Time)}, dir.Bool()}, nil
}

// setStringField sets the string field name of the struct *p to value,
// when it has one.
func setStringField(p any, name, value string) {
	v := reflect.Indirect(reflect.ValueOf(p))
	if v.Kind() != reflect.Struct {
		return
	}
	if f := v.FieldByName(name); f.IsValid() && f.CanSet() && f.Kind() == reflect.String {
		f.SetString(value)
	}
}
