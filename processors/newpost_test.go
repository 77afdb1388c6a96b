package processors_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/gorm-thumbnails/thumbnails/processors"
)

func TestNewPost(t *testing.T) {
	tests := []struct {
		name     string
		post     string
		params   map[string]any
		commands []string
	}{
		{"django seed", "thumbnails.post_processors.optimize",
			map[string]any{"png_command": pngCommand, "jpg_command": jpgCommand}, []string{"jpegoptim", "optipng"}},
		{"short name", "optimize", map[string]any{"png_command": pngCommand}, []string{"optipng"}},
		{"name case and spaces", " Thumbnails.Post_Processors.OPTIMIZE ", map[string]any{"gif_command": "gifsicle -O3 -b %(filename)s"}, []string{"gifsicle"}},
		{"jpeg_command", "optimize", map[string]any{"jpeg_command": jpgCommand}, []string{"jpegoptim"}},
		{"key case", "optimize", map[string]any{"PNG_Command": pngCommand, "Timeout": "1m"}, []string{"optipng"}},
		{"null commands ignored", "optimize", map[string]any{"png_command": pngCommand, "gif_command": nil, "timeout": nil}, []string{"optipng"}},
		{"all three", "optimize", map[string]any{"png_command": pngCommand, "jpg_command": jpgCommand, "gif_command": "gifsicle -b %(filename)s"},
			[]string{"gifsicle", "jpegoptim", "optipng"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := processors.NewPost(tt.post, tt.params)
			if err != nil {
				t.Fatalf("NewPost: %v", err)
			}
			if got := p.Commands(); !slices.Equal(got, tt.commands) {
				t.Errorf("Commands() = %q, want %q", got, tt.commands)
			}
		})
	}
}

func TestNewPostRuns(t *testing.T) {
	// The commands NewPost builds run on their format, and the timeout holds.
	dir := tempDir(t)
	p, err := processors.NewPost("optimize", map[string]any{
		"png_command": `sh -c 'echo png ran >&2; exit 1' x %(filename)s`,
		"jpg_command": `sh -c 'sleep 5; true' x %(filename)s`,
		"timeout":     0.1,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Process(context.Background(), "png", testPNG()); !strings.Contains(err.Error(), `png ran`) {
		t.Errorf("png: %v", err)
	}
	if _, err := p.Process(context.Background(), "jpeg", testJPEG()); !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "timed out after 100ms") {
		t.Errorf("jpeg: %v", err)
	}
	assertEmpty(t, dir)
}

func TestNewPostErrors(t *testing.T) {
	png := map[string]any{"png_command": pngCommand}
	with := func(k string, v any) map[string]any {
		m := map[string]any{"png_command": pngCommand}
		m[k] = v
		return m
	}
	tests := []struct {
		name    string
		post    string
		params  map[string]any
		want    error
		message string
	}{
		{"unknown name", "thumbnails.post_processors.sharpen", png, processors.ErrUnknownProcessor,
			`processors: post-processor "thumbnails.post_processors.sharpen": unknown processor`},
		{"a processor's name", "resize", png, processors.ErrUnknownProcessor, "unknown processor"},
		{"processors prefix", "thumbnails.processors.optimize", png, processors.ErrUnknownProcessor, "unknown processor"},
		{"empty name", "", png, processors.ErrUnknownProcessor, "unknown processor"},
		{"no parameters", "optimize", nil, processors.ErrInvalidParameter,
			"processors: optimize: no command; give png_command, jpg_command or gif_command: invalid parameter"},
		{"only a timeout", "optimize", map[string]any{"timeout": "5s"}, processors.ErrInvalidParameter, "no command"},
		{"unknown parameter", "optimize", with("png_comand", "x"), processors.ErrInvalidParameter,
			`processors: optimize: unknown parameter "png_comand": invalid parameter`},
		{"path is not a parameter", "optimize", with("path", "optimize"), processors.ErrInvalidParameter, `unknown parameter "path"`},
		{"keys differing in case", "optimize", with("PNG_COMMAND", pngCommand), processors.ErrInvalidParameter, "duplicate parameter"},
		{"jpg and jpeg", "optimize", map[string]any{"jpg_command": jpgCommand, "jpeg_command": jpgCommand}, processors.ErrInvalidParameter,
			"give jpg_command or jpeg_command, not both"},
		{"command not a string", "optimize", map[string]any{"png_command": []any{"optipng", "%(filename)s"}}, processors.ErrInvalidParameter,
			`parameter "png_command": want a string, got a list`},
		{"empty command", "optimize", map[string]any{"gif_command": ""}, processors.ErrInvalidParameter,
			`processors: optimize: parameter "gif_command": empty command: invalid parameter`},
		{"no placeholder", "optimize", map[string]any{"jpg_command": "jpegoptim -f"}, processors.ErrInvalidParameter,
			`parameter "jpg_command": it has no %(filename)s, so it could not work on the file`},
		{"unclosed quote", "optimize", map[string]any{"png_command": `optipng '%(filename)s`}, processors.ErrInvalidParameter,
			`parameter "png_command": the single quote at byte 8 is never closed`},
		{"malformed timeout", "optimize", with("timeout", "soon"), processors.ErrInvalidParameter,
			`parameter "timeout": malformed duration "soon"`},
		{"space in the timeout", "optimize", with("timeout", "5 s"), processors.ErrInvalidParameter, "malformed duration"},
		{"zero timeout", "optimize", with("timeout", 0), processors.ErrInvalidParameter, `parameter "timeout": 0 seconds is not positive`},
		{"zero duration", "optimize", with("timeout", "0s"), processors.ErrInvalidParameter, "0s is not positive"},
		{"negative timeout", "optimize", with("timeout", -1), processors.ErrInvalidParameter, "-1 seconds is not positive"},
		{"negative duration", "optimize", with("timeout", "-5s"), processors.ErrInvalidParameter, "-5s is not positive"},
		{"tiny timeout", "optimize", with("timeout", 1e-12), processors.ErrInvalidParameter, "is not positive"},
		{"NaN timeout", "optimize", with("timeout", math.NaN()), processors.ErrInvalidParameter, "NaN is not a finite number"},
		{"NaN string timeout", "optimize", with("timeout", "NaN"), processors.ErrInvalidParameter, "not a finite number"},
		{"infinite timeout", "optimize", with("timeout", ".inf"), processors.ErrInvalidParameter, "malformed duration"},
		{"huge timeout", "optimize", with("timeout", 1e300), processors.ErrInvalidParameter, "seconds is too long"},
		{"timeout just too long", "optimize", with("timeout", float64(math.MaxInt64)/1e9), processors.ErrInvalidParameter, "too long"},
		{"boolean timeout", "optimize", with("timeout", true), processors.ErrInvalidParameter,
			`parameter "timeout": want a duration such as "30s" or a number of seconds, got a boolean`},
		{"list timeout", "optimize", with("timeout", []any{30}), processors.ErrInvalidParameter, "got a list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := processors.NewPost(tt.post, tt.params)
			if !errors.Is(err, tt.want) || p != nil {
				t.Fatalf("NewPost() = %v, %v; want an error wrapping %v", p, err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.message) {
				t.Errorf("error %q does not contain %q", err, tt.message)
			}
		})
	}
}

func TestNewPostJSONNumber(t *testing.T) {
	var params map[string]any
	dec := json.NewDecoder(strings.NewReader(`{"png_command": "optipng %(filename)s", "timeout": 2.5}`))
	dec.UseNumber()
	if err := dec.Decode(&params); err != nil {
		t.Fatal(err)
	}
	if _, err := processors.NewPost("optimize", params); err != nil {
		t.Errorf("NewPost: %v", err)
	}
}
