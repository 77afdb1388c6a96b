package processors

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// djangoPostPrefix is the module path django-thumbnails' settings put before a post-processor's name.
const djangoPostPrefix = "thumbnails.post_processors."

// postParams are the parameters of optimize, lower-case, and the format each command is for.
var postParams = map[string]string{"png_command": "png", "jpg_command": "jpeg", "jpeg_command": "jpeg", "gif_command": "gif", "timeout": ""}

// NewPost builds the post-processor named name ("optimize", or the dotted
// django form "thumbnails.post_processors.optimize") from params, as decoded
// from YAML or JSON. See Optimize for what it does.
//
// Names and parameter keys are case-insensitive. The parameters are
// png_command, jpg_command (or jpeg_command) and gif_command, command lines
// holding Placeholder, at least one of them; and timeout, how long one command
// may run: a Go duration such as "30s" or a number of seconds,
// DefaultPostTimeout when missing.
//
// An unknown name is an ErrUnknownProcessor; a bad parameter is an ErrInvalidParameter.
func NewPost(name string, params map[string]any) (PostProcessor, error) {
	key := strings.TrimPrefix(strings.ToLower(strings.TrimSpace(name)), djangoPostPrefix)
	if key != "optimize" {
		return nil, fmt.Errorf("processors: post-processor %q: %w", name, ErrUnknownProcessor)
	}
	known := make([]string, 0, len(postParams))
	for k := range postParams {
		known = append(known, k)
	}
	a, err := newArgs(key, known, params)
	if err != nil {
		return nil, err
	}
	timeout, err := a.duration("timeout", DefaultPostTimeout)
	if err != nil {
		return nil, err
	}
	commands := make(map[string]string, 3)
	for _, k := range []string{"gif_command", "jpeg_command", "jpg_command", "png_command"} {
		line, ok, err := a.text(k)
		if err != nil {
			return nil, err
		} else if !ok {
			continue
		}
		format := postParams[k]
		if _, dup := commands[format]; dup {
			return nil, a.errorf("", "give jpg_command or jpeg_command, not both")
		}
		if _, msg := parseCommand(line); msg != "" {
			return nil, a.errorf(k, "%s", msg)
		}
		commands[format] = line
	}
	if len(commands) == 0 {
		return nil, a.errorf("", "no command; give png_command, jpg_command or gif_command")
	}
	return Optimize(commands, timeout)
}

// duration returns parameter key as a positive duration, def when it is missing or null.
func (a args) duration(key string, def time.Duration) (time.Duration, error) {
	v := a.vals[key]
	if v == nil {
		return def, nil
	}
	seconds, isNum := toFloat(v)
	if s, isStr := v.(string); isStr {
		s = strings.TrimSpace(s)
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			d, err := time.ParseDuration(s)
			if err != nil {
				return 0, a.errorf(key, "malformed duration %q, want one such as \"30s\" or a number of seconds", s)
			}
			if d <= 0 {
				return 0, a.errorf(key, "%v is not positive", d)
			}
			return d, nil
		}
		seconds = f
	} else if !isNum {
		return 0, a.errorf(key, "want a duration such as \"30s\" or a number of seconds, got %s", describe(v))
	}
	switch {
	case math.IsNaN(seconds) || math.IsInf(seconds, 0):
		return 0, a.errorf(key, "%v is not a finite number", seconds)
	case seconds*float64(time.Second) >= math.MaxInt64:
		return 0, a.errorf(key, "%v seconds is too long", seconds)
	}
	d := time.Duration(seconds * float64(time.Second))
	if d <= 0 {
		return 0, a.errorf(key, "%v seconds is not positive", seconds)
	}
	return d, nil
}
