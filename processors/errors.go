package processors

import "errors"

var (
	// ErrUnknownProcessor is returned by New and NewPost for a name that is not a known processor.
	ErrUnknownProcessor = errors.New("unknown processor")
	// ErrInvalidParameter is returned for a parameter that is unknown, missing, of the wrong type or out of range.
	ErrInvalidParameter = errors.New("invalid parameter")
	// ErrPostProcess is returned by a PostProcessor whose command fails, times out or damages the image.
	ErrPostProcess = errors.New("post-processor failed")
)
