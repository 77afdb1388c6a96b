// Package backendtest checks that an implementation of backends.Storage or
// backends.Metadata keeps the contract that the thumbnails plugin relies
// on, as testing/fstest.TestFS checks an fs.FS. The built-in backends of
// package backends pass it; a storage or metadata store of your own runs it
// from a test of its package:
//
//	func TestMyStorage(t *testing.T) {
//		backendtest.TestStorage(t, func(t *testing.T) backends.Storage {
//			return mystore.New(t.TempDir()) // empty, the subtest's own
//		})
//	}
//
//	func TestMyMetadata(t *testing.T) {
//		backendtest.TestMetadata(t, func(t *testing.T) backends.Metadata {
//			db := openTestDatabase(t) // empty, closed with t.Cleanup
//			return mymeta.New(db)
//		})
//	}
//
// Each subtest calls the constructor with its own *testing.T: return a
// store that is empty and used by nothing else, and release it with
// t.Cleanup (t.TempDir, a fresh key prefix, a schema dropped at the end),
// or call t.Skip when the server it needs is not configured. The subtests
// run one after the other; a few of them use the store from several
// goroutines at once, as the plugin does, which is worth running under the
// race detector (go test -race).
//
// The checks are those of the doc comments of package backends: what a
// Storage, a Lister, a Metadata and a placeholder record (PlaceholderSize)
// promise. They never ask for more than the plugin needs: a Storage may
// return another name than the one asked for from Save, a Metadata may
// keep CreatedAt to the second, ThumbnailsOf may leave CreatedAt zero, and
// the listing and the walks may come in any order. The package links only
// package backends and the standard library, so it builds without cgo.
package backendtest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"
)

// errStop is what the callbacks of the suites return to stop a listing or
// a walk.
var errStop = errors.New("backendtest: stop here")

// errReader is the error of a reader that fails part way (failingReader).
var errReader = errors.New("backendtest: the upload's reader failed")

// failingReader returns a reader that gives head, then fails with
// errReader: an upload cut off after len(head) bytes.
func failingReader(head []byte) io.Reader {
	return io.MultiReader(bytes.NewReader(head), errorReader{})
}

// errorReader is a reader whose every Read fails with errReader.
type errorReader struct{}

func (errorReader) Read([]byte) (int, error) { return 0, errReader }

// pattern returns n bytes that no shorter or longer content starts or ends
// with by chance: a counter of the position, salted by seed, so that a
// part of it, or of another content made by pattern, is told from it
// whole.
func pattern(seed byte, n int) []byte {
	b := make([]byte, n)
	x := uint32(seed)*2654435761 + 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}

// describe shortens content for a failure message.
func describe(b []byte) string {
	if len(b) <= 40 {
		return fmt.Sprintf("%q", b)
	}
	return fmt.Sprintf("%d bytes starting %q", len(b), b[:24])
}

// subtest is one check of a suite on a store of type T.
type subtest[T any] struct {
	name string
	fn   func(t *testing.T, store T)
}

// run runs each of tests as a subtest, on a store newStore (named ctor in
// errors) makes for it.
func run[T any](t *testing.T, ctor string, newStore func(t *testing.T) T, tests []subtest[T]) {
	t.Helper()
	for _, st := range tests {
		t.Run(st.name, func(t *testing.T) {
			store := newStore(t)
			if any(store) == nil {
				t.Fatal(ctor + " returned nil")
			}
			st.fn(t, store)
		})
	}
}
