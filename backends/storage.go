package backends

import (
	"context"
	"io"
	"time"
)

// Storage stores files under names. Names are slash-separated relative paths
// such as "foods/3f1c...e2.jpg"; an implementation must refuse a name that
// would escape its root with ErrInvalidName.
type Storage interface {
	// Save writes the content of r under name, replacing any file of that
	// name, and returns the name under which it was actually stored. It
	// should replace the file whole or not at all, as the file storage
	// (a temporary file renamed) and the blob storage (an upload) do: a
	// Save that fails part way must not leave part of the file under
	// name, since a lazy size's name is shared by every writer of it,
	// and the plugin cannot tell a half-written file from another
	// writer's whole one.
	Save(ctx context.Context, name string, r io.Reader) (string, error)
	// Open returns the content stored under name, or an error wrapping
	// ErrNotFound.
	Open(ctx context.Context, name string) (io.ReadCloser, error)
	// Delete removes name. Deleting a name that does not exist is not an
	// error, so that a retried cleanup succeeds.
	Delete(ctx context.Context, name string) error
	// URL returns the URL under which name is served.
	URL(name string) string
}

// FileInfo describes one stored file, as a Lister reports it.
type FileInfo struct {
	Name    string    // storage name, slash-separated
	Size    int64     // in bytes
	ModTime time.Time // when it was last written
}

// Lister is a Storage that can list what it holds; thumbnails.Prune needs it.
type Lister interface {
	// List calls fn with every file the storage holds, in no particular
	// order. An error from fn stops the listing and is returned.
	List(ctx context.Context, fn func(FileInfo) error) error
}
