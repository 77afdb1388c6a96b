package thumbnails

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

// readUpload reads r whole, refusing more than maxBytes. When r knows its
// length (a bytes or strings reader, a file or anything seekable), an upload
// over the limit is refused before a byte is read. It fails with
// io.ErrNoProgress when r keeps returning nothing. It reads to the end
// whatever ctx says: a save that fails (its context ended) can be tried
// again with the same Image, whose reader then holds the whole upload; a
// server's read timeout (http.Server.ReadTimeout) bounds a client that
// trickles its upload.
func readUpload(r io.Reader, limits Limits) ([]byte, error) {
	data, err := readLimited(r, limits)
	if err == nil && len(data) == 0 {
		// an empty file, or a reader a save has read already (a copy of
		// a field.Image whose upload was used): attach it again
		return nil, fmt.Errorf("%w: the upload is empty (a reader is read once: give each save its own field.NewImage)", ErrInvalidImage)
	}
	return data, err
}

// readStored reads name, a stored image (a source, an image a size draws)
// that rc reads, as readUpload reads an upload; its errors name it.
func readStored(rc io.Reader, limits Limits, name string) ([]byte, error) {
	data, err := readLimited(rc, limits)
	if err == nil && len(data) == 0 {
		err = fmt.Errorf("%w: the file is empty", ErrInvalidImage)
	}
	if err != nil {
		return nil, fmt.Errorf("thumbnails: read %q: %w", name, err)
	}
	return data, nil
}

// readLimited is readUpload, which an empty r does not fail.
func readLimited(r io.Reader, limits Limits) ([]byte, error) {
	if r == nil {
		return nil, fmt.Errorf("%w: no content", ErrInvalidImage)
	}
	maxBytes := limits.MaxBytes
	size, known := uploadSize(r)
	r = &progressReader{r: r}
	if known && size > maxBytes {
		return nil, fmt.Errorf("%w: %d bytes is over %d", ErrImageTooLarge, size, maxBytes)
	}
	var buf bytes.Buffer
	if known {
		buf.Grow(int(size) + bytes.MinRead)
	} else {
		buf.Grow(streamInMemory + bytes.MinRead) // never grown again: see spill
	}
	lr := io.LimitReader(r, maxBytes+1)
	if !known {
		// A stream may be refused by its first bytes, before up to
		// MaxBytes of it are read and held: a header that is no image
		// of an accepted format, or one of too many pixels. A header
		// that does not fit in them is checked with the rest.
		if _, err := buf.ReadFrom(io.LimitReader(lr, streamHead)); err != nil {
			return nil, fmt.Errorf("thumbnails: read upload: %w", err)
		}
		if _, _, err := checkHeader(buf.Bytes(), limits); err != nil && !truncatedHeader(err) {
			return nil, err
		}
		if _, err := buf.ReadFrom(io.LimitReader(lr, streamInMemory-int64(buf.Len()))); err != nil {
			return nil, fmt.Errorf("thumbnails: read upload: %w", err)
		}
		if buf.Len() == streamInMemory {
			if data, ok, err := spill(&buf, lr, maxBytes); ok {
				return data, err
			}
		}
	}
	if _, err := buf.ReadFrom(lr); err != nil {
		return nil, fmt.Errorf("thumbnails: read upload: %w", err)
	}
	if int64(buf.Len()) > maxBytes {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrImageTooLarge, maxBytes)
	}
	return buf.Bytes(), nil
}

// spill reads the rest of an upload of unknown length, whose first bytes
// are in head, through a temporary file, as mime/multipart keeps a large
// part: one over maxBytes is refused without being held in memory, and one
// within it is read back into a slice of its exact length. The file is
// removed before spill returns. ok is false when the temporary file cannot
// be created or written (a read-only or full file system): head then holds
// what was read so far, and the caller reads the rest in memory.
func spill(head *bytes.Buffer, r io.Reader, maxBytes int64) (data []byte, ok bool, err error) {
	f, err := createTemp()
	if err != nil {
		return nil, false, nil
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if _, err := f.Write(head.Bytes()); err != nil {
		return nil, false, nil
	}
	n := int64(head.Len())
	buf := make([]byte, 32<<10)
	for {
		nr, rerr := r.Read(buf)
		if nr > 0 {
			if _, werr := f.Write(buf[:nr]); werr != nil {
				// back to memory: what the file holds, then this chunk
				held := make([]byte, n, n+int64(nr)+bytes.MinRead)
				if _, err := f.ReadAt(held, 0); err != nil {
					return nil, true, fmt.Errorf("thumbnails: read upload back from %s: %w", f.Name(), err)
				}
				*head = *bytes.NewBuffer(append(held, buf[:nr]...))
				return nil, false, nil
			}
			n += int64(nr)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return nil, true, fmt.Errorf("thumbnails: read upload: %w", rerr)
		}
	}
	if n > maxBytes {
		return nil, true, fmt.Errorf("%w: more than %d bytes", ErrImageTooLarge, maxBytes)
	}
	data = make([]byte, n)
	if _, err := f.ReadAt(data, 0); err != nil {
		return nil, true, fmt.Errorf("thumbnails: read upload back from %s: %w", f.Name(), err)
	}
	return data, true, nil
}

// spillFile is the temporary file of spill.
type spillFile interface {
	io.Writer
	io.ReaderAt
	io.Closer
	Name() string
}

// createTemp creates spill's file in os.TempDir(); tests replace it.
var createTemp = func() (spillFile, error) { return os.CreateTemp("", "thumbnails-upload-*") }

// truncatedHeader reports whether err, from checkHeader, may come from
// the bytes checked ending inside the header.
func truncatedHeader(err error) bool {
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}

// progressReader fails a reader that keeps returning nothing (as bufio
// does), which would hold a save for ever. Its first io.EOF is its last
// read: what a reader returns after it is not part of the upload (readUpload
// reads in steps, each to an EOF).
type progressReader struct {
	r    io.Reader
	idle int  // reads in a row that returned nothing
	eof  bool // r returned io.EOF
}

func (c *progressReader) Read(p []byte) (int, error) {
	if c.eof {
		return 0, io.EOF
	}
	n, err := c.r.Read(p)
	c.eof = err == io.EOF
	if n > 0 || err != nil || len(p) == 0 {
		c.idle = 0
		return n, err
	}
	if c.idle++; c.idle >= 100 {
		return 0, io.ErrNoProgress
	}
	return 0, nil
}

// uploadSize returns the bytes left in r, when r can tell without reading;
// a length below zero (a file read past its end, a reader that lies) tells
// nothing.
func uploadSize(r io.Reader) (int64, bool) {
	switch v := r.(type) {
	case interface{ Len() int }:
		if v.Len() < 0 {
			return 0, false
		}
		return int64(v.Len()), true
	case io.Seeker:
		cur, err := v.Seek(0, io.SeekCurrent)
		if err != nil {
			return 0, false
		}
		end, err := v.Seek(0, io.SeekEnd)
		if _, err2 := v.Seek(cur, io.SeekStart); err != nil || err2 != nil || end < cur {
			return 0, false
		}
		return end - cur, true
	}
	return 0, false
}
