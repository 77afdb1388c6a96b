package processors

import (
	"encoding/json"
	"testing"
	"time"
)

func TestNewPostTimeout(t *testing.T) {
	tests := []struct {
		timeout any
		want    time.Duration
	}{
		{nil, DefaultPostTimeout},
		{"30s", 30 * time.Second},
		{" 1m30s ", 90 * time.Second},
		{"250ms", 250 * time.Millisecond},
		{"2", 2 * time.Second},
		{"0.5", 500 * time.Millisecond},
		{45, 45 * time.Second},
		{int64(1), time.Second},
		{uint8(3), 3 * time.Second},
		{0.25, 250 * time.Millisecond},
		{json.Number("1.5"), 1500 * time.Millisecond},
		{"2562047h", 2562047 * time.Hour},
	}
	for _, tt := range tests {
		p, err := NewPost("optimize", map[string]any{"png_command": "optipng %(filename)s", "timeout": tt.timeout})
		if err != nil {
			t.Errorf("timeout %#v: %v", tt.timeout, err)
			continue
		}
		if got := p.(*optimizer).timeout; got != tt.want {
			t.Errorf("timeout %#v = %v, want %v", tt.timeout, got, tt.want)
		}
	}
}

func TestOptimizeDefaultTimeout(t *testing.T) {
	p, err := Optimize(map[string]string{"png": "optipng %(filename)s"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.(*optimizer).timeout; got != DefaultPostTimeout {
		t.Errorf("timeout = %v, want %v", got, DefaultPostTimeout)
	}
}

func TestTailBuffer(t *testing.T) {
	tests := []struct {
		name   string
		writes []string
		max    int
		want   string
	}{
		{"empty", nil, 8, ""},
		{"trimmed", []string{"  boom \n"}, 8, "boom"},
		{"fits", []string{"abc", "def"}, 8, "abcdef"},
		{"last bytes", []string{"0123456789"}, 4, "…6789"},
		{"many writes", []string{"aaaa", "bbbb", "cccc", "dddd", "ee"}, 4, "…ddee"},
		{"whole characters", []string{"xé日本"}, 7, "…日本"},
	}
	for _, tt := range tests {
		b := &tailBuffer{max: tt.max}
		for _, w := range tt.writes {
			if n, err := b.Write([]byte(w)); n != len(w) || err != nil {
				t.Fatalf("%s: Write = %d, %v", tt.name, n, err)
			}
		}
		if got := b.String(); got != tt.want {
			t.Errorf("%s: String() = %q, want %q", tt.name, got, tt.want)
		}
	}
}
