// Package backends holds the two kinds of backends the thumbnails plugin
// talks to: a Storage, where image files live, and a Metadata store, which
// records the thumbnails that exist for each source so that reading them
// never touches the storage.
//
// The defaults are NewFileSystemStorage, under a local folder, and
// NewDatabaseMetadata, in the tables that the plugin migrates in the model's
// own database. NewBlobStorage keeps files in a bucket of gocloud.dev/blob
// (S3 and S3-compatible stores, GCS, Azure), and NewRedisMetadata keeps the
// records in Redis. Both are small interfaces: another object store or
// metadata store plugs in by implementing them, and package backendtest
// checks such an implementation against their contract.
package backends

import "errors"

// Sentinel errors returned (wrapped) by the backends of this package.
var (
	// ErrInvalidName is returned for a storage name that is empty, absolute,
	// contains a backslash, a control character (NUL included) or a ".."
	// element, or otherwise escapes the storage root.
	ErrInvalidName = errors.New("backends: invalid storage name")
	// ErrNotFound is returned when opening a name that the storage does not hold.
	ErrNotFound = errors.New("backends: not found")
	// ErrUnavailable is returned when the store, or part of it, cannot be
	// reached: the Redis backend wraps it around the client's error when
	// the server refuses or drops the connection or does not answer in
	// time, or replies that it cannot answer for now (LOADING, READONLY,
	// MASTERDOWN, CLUSTERDOWN, TRYAGAIN, BUSY), and a walk of every record
	// (Each) returns it when a shard of a Redis Ring is down (a walk that
	// missed its records would have Prune delete files that rows still
	// use).
	ErrUnavailable = errors.New("backends: the store, or part of it, is unavailable")
	// ErrAliasedFiles is returned by a file storage's List when it reaches
	// the same files under two names (a link to a folder it walks
	// anyway): a listing that held both would have Prune delete, through
	// the name no row uses, the files of the other.
	ErrAliasedFiles = errors.New("backends: the storage reaches the same files under two names")
)
