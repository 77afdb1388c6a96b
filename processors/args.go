package processors

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// args holds the parameters of one processor under their lower-case names,
// and words the errors about them.
type args struct {
	proc string
	vals map[string]any
}

// newArgs folds the keys of params to lower case, rejecting keys that are
// not in known and keys that differ only in case.
func newArgs(proc string, known []string, params map[string]any) (args, error) {
	a := args{proc: proc, vals: make(map[string]any, len(params))}
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	slices.Sort(keys) // report the same key first every time
	for _, k := range keys {
		key := strings.ToLower(strings.TrimSpace(k))
		if !slices.Contains(known, key) {
			return args{}, fmt.Errorf("processors: %s: unknown parameter %q: %w", proc, k, ErrInvalidParameter)
		}
		if _, dup := a.vals[key]; dup {
			return args{}, fmt.Errorf("processors: %s: duplicate parameter %q: %w", proc, k, ErrInvalidParameter)
		}
		a.vals[key] = params[k]
	}
	return a, nil
}

// errorf returns an ErrInvalidParameter about parameter key, or about the
// processor as a whole when key is empty.
func (a args) errorf(key, format string, v ...any) error {
	msg := fmt.Sprintf(format, v...)
	if key == "" {
		return fmt.Errorf("processors: %s: %s: %w", a.proc, msg, ErrInvalidParameter)
	}
	return fmt.Errorf("processors: %s: parameter %q: %s: %w", a.proc, key, msg, ErrInvalidParameter)
}

// size returns parameter key as a width or height; a missing or null one is the zero Length.
func (a args) size(key string) (Length, error) {
	v := a.vals[key]
	if v == nil {
		return Length{}, nil
	}
	l, msg := toLength(v)
	if msg != "" {
		return Length{}, a.errorf(key, "%s", msg)
	}
	return l, nil
}

// point returns parameter key as a list of two coordinates; a missing or null one is the middle.
func (a args) point(key string) (x, y Length, err error) {
	v := a.vals[key]
	if v == nil {
		return Pct(50), Pct(50), nil
	}
	rv := reflect.ValueOf(v)
	if k := rv.Kind(); (k != reflect.Slice && k != reflect.Array) || rv.Len() != 2 {
		return x, y, a.errorf(key, "want a list of two values such as [\"50%%\", \"50%%\"], got %s", describe(v))
	}
	var xy [2]Length
	for i := range xy {
		e := rv.Index(i).Interface()
		if e == nil {
			return x, y, a.errorf(key, "element %d: missing", i+1)
		}
		var msg string
		if xy[i], msg = toLength(e); msg != "" {
			return x, y, a.errorf(key, "element %d: %s", i+1, msg)
		}
	}
	return xy[0], xy[1], nil
}

// number returns the required parameter key as a finite number.
func (a args) number(key string) (float64, error) {
	v, ok := a.vals[key]
	if !ok || v == nil {
		return 0, a.errorf(key, "missing")
	}
	f, isNum := toFloat(v)
	if s, isStr := v.(string); isStr {
		var err error
		if f, err = strconv.ParseFloat(strings.TrimSpace(s), 64); err != nil {
			return 0, a.errorf(key, "malformed number %q", s)
		}
	} else if !isNum {
		return 0, a.errorf(key, "want a number, got %s", describe(v))
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, a.errorf(key, "%v is not a finite number", f)
	}
	return f, nil
}

// optNumber returns parameter key as a finite number, or def when it is missing or null.
func (a args) optNumber(key string, def float64) (float64, error) {
	if a.vals[key] == nil {
		return def, nil
	}
	return a.number(key)
}

// boolean returns parameter key as a boolean, or def when it is missing or null.
func (a args) boolean(key string, def bool) (bool, error) {
	v := a.vals[key]
	if v == nil {
		return def, nil
	}
	b, ok := v.(bool)
	if !ok {
		return false, a.errorf(key, "want true or false, got %s", describe(v))
	}
	return b, nil
}

// box returns parameters width and height, both required.
func (a args) box() (width, height Length, err error) {
	if width, err = a.size("width"); err != nil {
		return
	}
	if height, err = a.size("height"); err != nil {
		return
	}
	switch {
	case width.IsZero():
		err = a.errorf("width", "missing")
	case height.IsZero():
		err = a.errorf("height", "missing")
	}
	return
}

// text returns parameter key as a string, and whether it is given at all.
func (a args) text(key string) (string, bool, error) {
	v := a.vals[key]
	if v == nil {
		return "", false, nil
	}
	s, ok := v.(string)
	if !ok {
		return "", false, a.errorf(key, "want a string, got %s", describe(v))
	}
	return s, true, nil
}

// toLength converts a decoded value to a Length, or explains why it cannot.
func toLength(v any) (Length, string) {
	var l Length
	if f, ok := toFloat(v); ok {
		l.Value = f
	} else if s, ok := v.(string); ok {
		s = strings.TrimSpace(s)
		num, pct := strings.CutSuffix(s, "%")
		f, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
		if err != nil {
			return Length{}, fmt.Sprintf("malformed size %q, want pixels such as \"100\" or a percentage such as \"50%%\"", s)
		}
		l = Length{Value: f, Percent: pct}
	} else {
		return Length{}, fmt.Sprintf("want a number of pixels or a percentage such as \"50%%\", got %s", describe(v))
	}
	switch {
	case math.IsNaN(l.Value) || math.IsInf(l.Value, 0):
		return Length{}, fmt.Sprintf("%v is not a finite number", l.Value)
	case l.Value < 0:
		return Length{}, fmt.Sprintf("negative size %v", l.Value)
	case !l.Percent && l.Value > MaxDimension:
		return Length{}, fmt.Sprintf("%v pixels is more than %d", l.Value, MaxDimension)
	}
	return l, ""
}

// toFloat converts any Go number, or a json.Number, to a float64.
func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int8:
		return float64(n), true
	case int16:
		return float64(n), true
	case int32:
		return float64(n), true
	case int64:
		return float64(n), true
	case uint:
		return float64(n), true
	case uint8:
		return float64(n), true
	case uint16:
		return float64(n), true
	case uint32:
		return float64(n), true
	case uint64:
		return float64(n), true
	case float32:
		return float64(n), true
	case float64:
		return n, true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

// describe names the type of a decoded value for an error message.
func describe(v any) string {
	switch v.(type) {
	case bool:
		return "a boolean"
	case string:
		return "a string"
	case map[string]any, map[any]any:
		return "a mapping"
	case []any:
		return "a list"
	}
	if _, ok := toFloat(v); ok {
		return "a number"
	}
	return fmt.Sprintf("%T", v)
}
