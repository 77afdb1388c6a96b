package thumbnails

import (
	"context"
	"reflect"
	"slices"

	"github.com/disintegration/gift"
	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails/field"
	"github.com/gorm-thumbnails/thumbnails/internal/bridge"
	"github.com/gorm-thumbnails/thumbnails/processors"
	"github.com/gorm-thumbnails/thumbnails/sizes"
)

var focusType = reflect.TypeOf(field.Focus{})

// focusOf returns the focal point that row holds for column c.
func (c *column) focusOf(row reflect.Value) field.Focus {
	if c.focus == nil {
		return field.Focus{}
	}
	f, _ := c.focus.ReflectValueOf(context.Background(), row).Interface().(field.Focus)
	return f
}

// imageFocus returns the focal point recorded with img.
func imageFocus(img *field.Image) field.Focus {
	f, _ := bridge.FocusOf(img).(field.Focus)
	return f
}

// focused returns list with the processors that crop around a focal point
// (processors.Focusable) centred on f instead, when f is valid; list itself
// otherwise.
func focused(list []sizes.Size, f field.Focus) []sizes.Size {
	if !f.Valid {
		return list
	}
	out := list
	for i := range list {
		var procs []gift.Filter
		for j, p := range list[i].Processors {
			if fp, ok := p.(processors.Focusable); ok {
				if procs == nil {
					procs = slices.Clone(list[i].Processors)
				}
				procs[j] = fp.AtFocus(f.X, f.Y)
			}
		}
		if procs != nil {
			if &out[0] == &list[0] {
				out = slices.Clone(list)
			}
			out[i].Processors = procs
		}
	}
	return out
}

// cropsAtFocus reports whether a size of list crops around the row's focal
// point (one of its processors is processors.Focusable).
func cropsAtFocus(list []sizes.Size) bool { return slices.ContainsFunc(list, usesFocus) }

// mapFocus returns the focal point that an Updates map gives for column c,
// under its field's Go or database name.
func mapFocus(db *gorm.DB, c *column, dest map[string]any) field.Focus {
	if c.focus == nil {
		return field.Focus{}
	}
	for key, v := range dest {
		if db.Statement.Schema.LookUpField(key) != c.focus {
			continue
		}
		switch f := v.(type) {
		case field.Focus:
			return f
		case *field.Focus:
			if f != nil {
				return *f
			}
		}
	}
	return field.Focus{}
}

// usesFocus reports whether sz has a processor that a focal point moves
// (processors.Focusable).
func usesFocus(sz sizes.Size) bool {
	return slices.ContainsFunc(sz.Processors, func(f gift.Filter) bool {
		_, ok := f.(processors.Focusable)
		return ok
	})
}
