package sizes

import "errors"

var (
	// ErrInvalidSize is returned for a size, or a sizes document, that cannot be used.
	ErrInvalidSize = errors.New("invalid size")
)

// invalidError is an ErrInvalidSize that also wraps its cause, typically a
// processors error, so that errors.Is finds both while the message reads as
// one sentence: where it happened, then what went wrong.
type invalidError struct {
	where string // "sizes: size \"small\": processor 1 (resize)"
	cause error  // nil when where says it all
}

func (e *invalidError) Error() string {
	if e.cause == nil {
		return e.where + ": " + ErrInvalidSize.Error()
	}
	return e.where + ": " + e.cause.Error()
}

func (e *invalidError) Unwrap() []error {
	if e.cause == nil {
		return []error{ErrInvalidSize}
	}
	return []error{ErrInvalidSize, e.cause}
}

// invalid returns an ErrInvalidSize whose message is where followed by cause.
func invalid(where string, cause error) error {
	return &invalidError{where: where, cause: cause}
}
