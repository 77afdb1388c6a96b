package field

import "fmt"

// MarshalText implements encoding.TextMarshaler, so that a row encodes to
// JSON (or YAML, or XML) with its image as the source's storage name, the
// value the column holds: "" for an empty column. A row decoded from it
// (from a cache, say) holds the same name; bind it (thumbnails.Bind) to
// read its thumbnails, and before saving it: the plugin refuses to write
// a decoded image it has not bound (ErrNotBound), since the row may hold
// another image by then, which the stale name would replace. An upload
// that is not stored yet fails with ErrNotStored, one whose save failed
// with ErrDiscarded: they name no stored image.
func (i Image) MarshalText() ([]byte, error) {
	v, err := i.Value()
	if err != nil {
		return nil, err
	}
	return []byte(v.(string)), nil
}

// UnmarshalText implements encoding.TextUnmarshaler: the image becomes the
// stored one named by text, as if loaded from the column ("" is no image),
// not bound to the plugin, which will not write it until bound.
func (i *Image) UnmarshalText(text []byte) error {
	if err := i.Scan(string(text)); err != nil {
		return err
	}
	i.decoded = true
	return nil
}

// MarshalBinary implements encoding.BinaryMarshaler (encoding/gob): the
// storage name, as MarshalText.
func (i Image) MarshalBinary() ([]byte, error) { return i.MarshalText() }

// UnmarshalBinary implements encoding.BinaryUnmarshaler, as UnmarshalText.
func (i *Image) UnmarshalBinary(data []byte) error { return i.UnmarshalText(data) }

// GoString implements fmt.GoStringer, so that %#v (a driver's error about
// the value, say) prints the image as its name and state, not the plugin's
// internals.
func (i Image) GoString() string {
	switch {
	case i.upload != nil:
		return fmt.Sprintf("field.Image{upload: %q}", i.upload.Filename)
	case i.discarded:
		return "field.Image{discarded}"
	}
	return fmt.Sprintf("field.Image{name: %q}", i.name)
}
