// Package blob stores the thumbnails plugin's files in a bucket of
// gocloud.dev/blob: Amazon S3 or an S3-compatible store, Google Cloud
// Storage, Azure Blob Storage, or any other driver of the Go CDK.
//
// Its NewStorage is backends.NewBlobStorage with the bucket's type written
// out: either links only gocloud.dev/blob and the driver the program
// imports (gocloud.dev/blob/s3blob, gcsblob, azureblob, ...); programs
// keeping their files on the local file system link neither.
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
	"gocloud.dev/blob"

	"github.com/gorm-thumbnails/thumbnails/backends"
)

// NewStorage returns a Storage that keeps files in bucket, under keys equal
// to their storage names, and serves them under baseURL (for example the
// bucket's CDN, "https://cdn.example/"; a missing final slash is added).
// The Storage also implements backends.Lister, so thumbnails.Prune works
// on it. It is backends.NewBlobStorage(bucket, baseURL), which documents it.
func NewStorage(bucket *blob.Bucket, baseURL string) backends.Storage {
	return backends.NewBlobStorage(bucket, baseURL)
}
