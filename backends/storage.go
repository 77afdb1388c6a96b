package backends

import (
	"context"
	"io"
	"time"
)

// Storage stores files under names. Names are slash-separated relative paths
// such as "foods/3f1c...e2.jpg"; an implementation must refuse the names
// ErrInvalidName describes (any that would escape its root) with an error
// wrapping it.
//
// The plugin calls its Storage from many goroutines at once (saves, lazy
// sizes, Regenerate's workers, the Handler): an implementation must be
// safe for concurrent use. Package backendtest checks an implementation
// against this contract.
type Storage interface {
	// Save writes the content of r under name, replacing any file of that
	// name, and returns the name under which it was actually stored. It
	// should replace the file whole or not at all, as the file storage
	// (a temporary file renamed) and the blob storage (an upload) do: a
	// Save that fails part way must not leave part of the file under
	// name, since a lazy size's name is shared by every writer of it,
	// and the plugin cannot tell a half-written file from another
	// writer's whole one.
	//
	// The storages of this package return name itself, and the plugin is
	// built for that. A storage that stores under another name must
	// return one that no other file held: the plugin deletes the name
	// Save returned when the save that wrote it is discarded (its
	// transaction rolled back), so a storage that gives equal contents
	// one name would lose the file of a committed row. The plugin records
	// and serves the returned name, but its Handler serves only
	// thumbnails under Config.BaseDir with an image file extension, and,
	// with metadata outside the model's database, the clean-up after a
	// replace or delete tells its own thumbnails by the names it asked
	// for and leaves others to Prune.
	Save(ctx context.Context, name string, r io.Reader) (string, error)
	// Open returns the content stored under name, or an error wrapping
	// ErrNotFound (a name under a file as if it were a folder too).
	Open(ctx context.Context, name string) (io.ReadCloser, error)
	// Delete removes name. Deleting a name that does not exist is not an
	// error, so that a retried cleanup succeeds.
	Delete(ctx context.Context, name string) error
	// URL returns the URL under which name is served. URL("") returns the
	// base URL that names are appended to, whose path the Handler serves
	// under unless HandlerOptions.Prefix says otherwise.
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
