package sizes

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxKeys is the most keys a mapping of a sizes document may have: sizes,
// or a processor's parameters.
const maxKeys = 1000

// checkMappings refuses a document with a mapping of more than maxKeys keys.
func checkMappings(root *yaml.Node) error {
	stack := []*yaml.Node{root}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if n.Kind == yaml.MappingNode && len(n.Content)/2 > maxKeys {
			return invalid(fmt.Sprintf("sizes: line %d: a mapping of %d keys, more than %d", n.Line, len(n.Content)/2, maxKeys), nil)
		}
		stack = append(stack, n.Content...) // an alias's anchor is in the tree already
	}
	return nil
}

// maxDocument is the largest sizes document Load reads, in bytes; a real one
// is a few kilobytes, and the limit bounds what a broken or hostile file costs.
const maxDocument = 1 << 20

// Load reads sizes from a YAML document, or a JSON one, which is also YAML.
// The document is a mapping from size names to their settings: processors,
// post_processors, format, quality, lazy, async and fallback_image_url, as the
// package comment shows. Load only builds the post-processors; it neither
// runs their programs nor checks that they are installed.
//
// Anything Load cannot use, from a syntax error to a processor's unknown
// parameter, is an ErrInvalidSize that also wraps the processors package's
// error where there is one. Errors reading r are returned wrapped as they are.
func Load(r io.Reader) (Sizes, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxDocument+1))
	if err != nil {
		return nil, fmt.Errorf("sizes: read: %w", err)
	}
	if len(data) > maxDocument {
		return nil, invalid(fmt.Sprintf("sizes: document is larger than %d bytes", maxDocument), nil)
	}
	doc, err := decode(data)
	if err != nil {
		return nil, err
	}
	top, err := mapping(doc)
	if err != nil {
		return nil, invalid("sizes: document", err)
	}
	if len(top) == 0 {
		return nil, invalid("sizes: document holds no sizes", nil)
	}
	if len(top) > maxKeys { // mappings of fewer merged ("<<") into one
		return nil, invalid(fmt.Sprintf("sizes: a document of %d sizes, more than %d", len(top), maxKeys), nil)
	}
	s := make(Sizes, len(top))
	for _, key := range slices.Sorted(maps.Keys(top)) {
		if err := checkName(key); err != nil { // as written: "\u212A" lower-cases to "k"
			return nil, invalid(fmt.Sprintf("sizes: size %q", key), err)
		}
		name := strings.ToLower(key)
		if _, dup := s[name]; dup {
			return nil, invalid(fmt.Sprintf("sizes: size %q", key), fmt.Errorf("name used twice, ignoring case: %w", ErrInvalidSize))
		}
		size, err := decodeSize(name, top[key])
		if err != nil {
			return nil, err
		}
		s[name] = size
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return s, nil
}

// LoadFile reads sizes from the YAML or JSON file at path; see Load.
func LoadFile(path string) (Sizes, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("sizes: %w", err)
	}
	defer f.Close()
	s, err := Load(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// decode parses the one YAML document in data into plain Go values.
func decode(data []byte) (any, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	// As a tree first: the decoder checks a mapping's keys for duplicates
	// pair by pair, which takes a minute for a mapping of 95,000 keys
	// (1 MB of "sN: {}" lines).
	var root yaml.Node
	if err := dec.Decode(&root); errors.Is(err, io.EOF) {
		return nil, invalid("sizes: empty document", nil)
	} else if err != nil {
		return nil, invalid("sizes", err)
	}
	if err := checkMappings(&root); err != nil {
		return nil, err
	}
	var doc any
	if err := root.Decode(&doc); err != nil {
		return nil, invalid("sizes", err)
	}
	if doc == nil {
		return nil, invalid("sizes: empty document", nil)
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, invalid("sizes: more than one YAML document", nil)
	}
	return doc, nil
}
