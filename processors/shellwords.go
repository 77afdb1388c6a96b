package processors

import (
	"fmt"
	"strings"
)

// SplitCommand splits command into words the way a POSIX shell does, and does
// nothing else: no variable, tilde, glob or command expansion, and no
// operators, so "$HOME", "*", ";", "|" and "$(...)" are ordinary characters
// of a word.
//
// Spaces, tabs and newlines separate words. Single quotes keep everything up
// to the next single quote literally. Double quotes keep spaces, and a
// backslash inside them escapes only '"', '\', '$' and '`'. Outside quotes a
// backslash escapes any character. A backslash before a newline, outside
// single quotes, joins the lines as in a shell. Quotes may make up part of a
// word, and an empty pair of quotes is an empty word.
//
// An empty command, a quote that is not closed or a trailing backslash is an
// ErrInvalidParameter.
func SplitCommand(command string) ([]string, error) {
	words, msg := splitWords(command)
	if msg != "" {
		return nil, fmt.Errorf("processors: command %q: %s: %w", command, msg, ErrInvalidParameter)
	}
	return words, nil
}

// splitWords is SplitCommand with the error as a message: "" when there is none.
func splitWords(command string) (words []string, msg string) {
	const (
		bare = iota
		single
		double
	)
	var (
		word   strings.Builder
		inWord bool // a word has started, perhaps an empty one such as ''
		state  = bare
		opened int // where the quote that is open began
	)
	// The special characters are all ASCII, so working on bytes keeps any
	// other bytes, valid UTF-8 or not, exactly as they are.
	for i := 0; i < len(command); i++ {
		c := command[i]
		switch state {
		case single:
			if c == '\'' {
				state = bare
			} else {
				word.WriteByte(c)
			}
		case double:
			switch c {
			case '"':
				state = bare
			case '\\':
				if i+1 < len(command) {
					switch next := command[i+1]; next {
					case '"', '\\', '$', '`':
						word.WriteByte(next)
						i++
						continue
					case '\n':
						i++
						continue
					}
				}
				word.WriteByte(c)
			default:
				word.WriteByte(c)
			}
		default:
			switch c {
			case ' ', '\t', '\n':
				if inWord {
					words = append(words, word.String())
					word.Reset()
					inWord = false
				}
			case '\'', '"':
				state, opened, inWord = single, i, true
				if c == '"' {
					state = double
				}
			case '\\':
				if i+1 == len(command) {
					return nil, "it ends in a backslash that escapes nothing"
				}
				i++
				if command[i] != '\n' {
					word.WriteByte(command[i])
					inWord = true
				}
			default:
				word.WriteByte(c)
				inWord = true
			}
		}
	}
	switch state {
	case single:
		return nil, fmt.Sprintf("the single quote at byte %d is never closed", opened)
	case double:
		return nil, fmt.Sprintf("the double quote at byte %d is never closed", opened)
	}
	if inWord {
		words = append(words, word.String())
	}
	if len(words) == 0 {
		return nil, "empty command"
	}
	return words, ""
}
