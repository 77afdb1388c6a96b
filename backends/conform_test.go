package backends_test

import (
	"path/filepath"
	"testing"

	"gocloud.dev/blob/memblob"

	"github.com/gorm-thumbnails/thumbnails/backends"
	"github.com/gorm-thumbnails/thumbnails/backends/backendtest"
)

// The built-in backends pass the conformance suite that package
// backendtest gives the implementers of their interfaces.

func TestFileSystemStorageConforms(t *testing.T) {
	backendtest.TestStorage(t, func(t *testing.T) backends.Storage {
		// the root is created by the first Save, as in an application's
		// first run
		return backends.NewFileSystemStorage(filepath.Join(t.TempDir(), "media"), "/media/")
	})
}

func TestBlobStorageConforms(t *testing.T) {
	backendtest.TestStorage(t, func(t *testing.T) backends.Storage {
		bucket := memblob.OpenBucket(nil)
		t.Cleanup(func() { _ = bucket.Close() })
		return backends.NewBlobStorage(bucket, "https://cdn.example/")
	})
}

// TestMetadataConforms runs the suite on every metadata store of
// metadataStores: the database on SQLite, and on PostgreSQL and Redis
// (single node, Ring and Cluster) when their variables are set.
func TestMetadataConforms(t *testing.T) {
	for _, s := range metadataStores {
		t.Run(s.name, func(t *testing.T) { backendtest.TestMetadata(t, s.open) })
	}
}
