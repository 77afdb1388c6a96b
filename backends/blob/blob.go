// Package blob stores the thumbnails plugin's files in a bucket of
// gocloud.dev/blob: Amazon S3 or an S3-compatible store, Google Cloud
// Storage, Azure Blob Storage, or any other driver of the Go CDK.
//
// It is a package of its own so that programs keeping their files on the
// local file system do not link a cloud SDK: only the driver the program
// imports (gocloud.dev/blob/s3blob, gcsblob, azureblob, ...) is built in.
//
// Usage, with S3:
//
//	import (
//		"gocloud.dev/blob"
//		_ "gocloud.dev/blob/s3blob"
//
//		thumbblob "github.com/gorm-thumbnails/thumbnails/backends/blob"
//	)
//
//	bucket, err := blob.OpenBucket(ctx, "s3://my-bucket?region=us-east-1")
//	if err != nil { ... }
//	defer bucket.Close()
//	db.Use(thumbnails.Plugin(thumbnails.Config{
//		Sizes:   set,
//		Storage: thumbblob.NewStorage(bucket, "https://cdn.example/"),
//	}))
//
// or with a client you configured yourself (custom endpoint, credentials):
//
//	bucket, err := s3blob.OpenBucket(ctx, s3.NewFromConfig(cfg), "my-bucket", nil)
//
// To keep the files under a folder of a shared bucket, pass
// blob.PrefixedBucket(bucket, "media/"). The bucket is the caller's: the
// Storage never closes it.
package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"path"
	"strings"

	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"

	"github.com/gorm-thumbnails/thumbnails/backends"
)

// storage is a backends.Storage and backends.Lister on a blob bucket.
type storage struct {
	bucket  *blob.Bucket
	baseURL string
}

// NewStorage returns a Storage that keeps files in bucket, under keys equal
// to their storage names, and serves them under baseURL (for example the
// bucket's CDN, "https://cdn.example/"; a missing final slash is added).
// The Storage also implements backends.Lister, so thumbnails.Prune works
// on it.
func NewStorage(bucket *blob.Bucket, baseURL string) backends.Storage {
	if baseURL != "" && !strings.HasSuffix(baseURL, "/") {
		baseURL += "/"
	}
	return &storage{bucket: bucket, baseURL: baseURL}
}

// Save writes the content of r to the object name, with a Content-Type
// taken from the name's extension. A blob write is atomic: readers see the
// old object or the new one, never half of it. When the write fails,
// nothing is stored.
func (s *storage) Save(ctx context.Context, name string, r io.Reader) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	clean, err := backends.CleanName(name)
	if err != nil {
		return "", err
	}
	// Cancelling the writer's context is how a blob write is aborted: Close
	// then discards what was written instead of committing it.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := s.bucket.NewWriter(wctx, clean, &blob.WriterOptions{
		ContentType: mime.TypeByExtension(path.Ext(clean)), // "" lets the driver sniff it
	})
	if err != nil {
		return "", fmt.Errorf("blob: save %q: %w", name, err)
	}
	if _, err := io.Copy(w, r); err != nil {
		cancel()
		_ = w.Close()
		return "", fmt.Errorf("blob: save %q: %w", name, err)
	}
	if err := w.Close(); err != nil {
		return "", fmt.Errorf("blob: save %q: %w", name, err)
	}
	return clean, nil
}

// Open returns a reader of the object name. It makes one request (no
// existence check first); a missing object is an error wrapping
// backends.ErrNotFound.
func (s *storage) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	clean, err := backends.CleanName(name)
	if err != nil {
		return nil, err
	}
	rd, err := s.bucket.NewReader(ctx, clean, nil)
	if err != nil {
		if gcerrors.Code(err) == gcerrors.NotFound {
			return nil, fmt.Errorf("blob: open %q: %w (%w)", name, backends.ErrNotFound, err)
		}
		return nil, fmt.Errorf("blob: open %q: %w", name, err)
	}
	return rd, nil
}

// Delete removes the object name. A missing object is not an error, so that
// a retried cleanup succeeds.
func (s *storage) Delete(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	clean, err := backends.CleanName(name)
	if err != nil {
		return err
	}
	if err := s.bucket.Delete(ctx, clean); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
		return fmt.Errorf("blob: delete %q: %w", name, err)
	}
	return nil
}

// URL returns baseURL followed by name, each path segment escaped as
// url.PathEscape does; names the plugin generates are URL-safe and returned
// as they are. It makes no request and does not sign anything.
func (s *storage) URL(name string) string { return backends.JoinURL(s.baseURL, name) }

// List implements backends.Lister: it lists every object of the bucket, with
// its size in bytes and last modification time. Keys that are not clean
// storage names (a leading slash, a ".." element, ...) were not written by
// this Storage, and it could neither open nor delete them: they are skipped.
func (s *storage) List(ctx context.Context, fn func(backends.FileInfo) error) error {
	it := s.bucket.List(nil)
	for {
		obj, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("blob: list: %w", err)
		}
		if obj.IsDir {
			continue // only reported with a delimiter, which List does not set
		}
		if clean, err := backends.CleanName(obj.Key); err != nil || clean != obj.Key {
			continue
		}
		if err := fn(backends.FileInfo{Name: obj.Key, Size: obj.Size, ModTime: obj.ModTime}); err != nil {
			return err
		}
	}
}
