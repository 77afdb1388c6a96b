package processors_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorm-thumbnails/thumbnails/processors"
)

func TestOptimize(t *testing.T) {
	needs(t, "optipng", "jpegoptim")
	dir := tempDir(t)
	p := optimize(t, map[string]string{"png": pngCommand, "jpeg": jpgCommand}, time.Minute)
	tests := []struct {
		format string // as passed to Process
		want   string // as image.DecodeConfig names it
		data   []byte
	}{
		{"png", "png", testPNG()},
		{"jpeg", "jpeg", testJPEG()},
		{"JPG", "jpeg", testJPEG()},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			in := slices.Clone(tt.data)
			out, err := p.Process(context.Background(), tt.format, in)
			if err != nil {
				t.Fatalf("Process: %v", err)
			}
			if !bytes.Equal(in, tt.data) {
				t.Error("Process changed its input")
			}
			if len(out) >= len(in) {
				t.Errorf("output is %d bytes, no smaller than the %d of the input", len(out), len(in))
			}
			if c, format := config(t, out); format != tt.want || c.Width != 400 || c.Height != 300 {
				t.Errorf("output is a %dx%d %s, want a 400x300 %s", c.Width, c.Height, format, tt.want)
			}
			t.Logf("%s: %d -> %d bytes", tt.format, len(in), len(out))
			assertEmpty(t, dir)
		})
	}
}

func TestOptimizeUnchanged(t *testing.T) {
	// No command for the format: the data comes back as it is, whatever it holds.
	p := optimize(t, map[string]string{"png": "false %(filename)s"}, 0)
	for _, format := range []string{"gif", "jpeg", "webp", ""} {
		data := []byte("not even an image")
		got, err := p.Process(context.Background(), format, data)
		if err != nil || &got[0] != &data[0] || len(got) != len(data) {
			t.Errorf("Process(%q) = %q, %v; want its input back", format, got, err)
		}
	}
}

func TestOptimizeCommands(t *testing.T) {
	tests := []struct {
		commands map[string]string
		want     []string
	}{
		{map[string]string{"png": pngCommand, "jpeg": jpgCommand}, []string{"jpegoptim", "optipng"}},
		{map[string]string{"gif": "gifsicle -b -O3 %(filename)s"}, []string{"gifsicle"}},
		{map[string]string{"png": "/usr/bin/opt %(filename)s", "JPG": "/usr/bin/opt -j %(filename)s", "gif": "'my opt' %(filename)s"},
			[]string{"/usr/bin/opt", "my opt"}},
	}
	for _, tt := range tests {
		got := optimize(t, tt.commands, 0).Commands()
		if !slices.Equal(got, tt.want) {
			t.Errorf("Optimize(%q).Commands() = %q, want %q", tt.commands, got, tt.want)
		}
	}
}

func TestOptimizeInvalid(t *testing.T) {
	tests := []struct {
		name     string
		commands map[string]string
		timeout  time.Duration
		message  string
	}{
		{"no commands", nil, 0, "processors: optimize: no command: invalid parameter"},
		{"empty map", map[string]string{}, 0, "no command"},
		{"negative timeout", map[string]string{"png": pngCommand}, -time.Second, "negative timeout -1s"},
		{"unknown format", map[string]string{"webp": "cwebp %(filename)s"}, 0, `unknown format "webp", want jpeg, png or gif`},
		{"jpg and jpeg", map[string]string{"jpg": jpgCommand, "jpeg": jpgCommand}, 0, "two commands for jpeg"},
		{"format case", map[string]string{"PNG": pngCommand, "png": pngCommand}, 0, "two commands for png"},
		{"empty command", map[string]string{"png": ""}, 0, `png command "": empty command`},
		{"blank command", map[string]string{"gif": "  "}, 0, "gif command \"  \": empty command"},
		{"no placeholder", map[string]string{"png": "optipng -o7"}, 0, `png command "optipng -o7": it has no %(filename)s`},
		{"placeholder only in the program", map[string]string{"png": "%(filename)s -x"}, 0, "the program name cannot hold %(filename)s"},
		{"placeholder in the program and an argument", map[string]string{"png": "/bin/%(filename)s %(filename)s"}, 0, "program name cannot hold"},
		{"empty program", map[string]string{"png": "'' %(filename)s"}, 0, "the program name is empty"},
		{"unclosed quote", map[string]string{"jpeg": `jpegoptim "%(filename)s`}, 0, "the double quote at byte 10 is never closed"},
		{"trailing backslash", map[string]string{"jpeg": `jpegoptim %(filename)s \`}, 0, "ends in a backslash"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := processors.Optimize(tt.commands, tt.timeout)
			if !errors.Is(err, processors.ErrInvalidParameter) || p != nil {
				t.Fatalf("Optimize() = %v, %v; want an ErrInvalidParameter", p, err)
			}
			if !strings.Contains(err.Error(), tt.message) {
				t.Errorf("error %q does not contain %q", err, tt.message)
			}
		})
	}
}

func TestOptimizeErrors(t *testing.T) {
	dir := tempDir(t)
	other := t.TempDir()
	tinyPNG := filepath.Join(other, "tiny.png")
	photoJPEG := filepath.Join(other, "photo.jpg")
	if err := os.WriteFile(tinyPNG, smallPNG(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(photoJPEG, testJPEG(), 0o600); err != nil {
		t.Fatal(err)
	}
	samePNG := filepath.Join(other, "same.png") // the input's bytes, elsewhere
	if err := os.WriteFile(samePNG, testPNG(), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		command string
		timeout time.Duration
		data    []byte   // testPNG when nil
		message []string // parts of the error message
		also    error    // an error it wraps besides ErrPostProcess
		within  time.Duration
	}{
		{"exit status and stderr", `sh -c 'echo boom >&2; exit 1' x %(filename)s`, 0, nil,
			[]string{`processors: optimize: png: sh: exit status 1, stderr: "boom": post-processor failed`}, nil, 0},
		{"false", "false %(filename)s", 0, nil, []string{"png: false: exit status 1: post-processor failed"}, nil, 0},
		{"killed by a signal", `sh -c 'kill -9 $$' x %(filename)s`, 0, nil, []string{"signal: killed"}, nil, 0},
		{"not installed", "no-such-optimizer-4a1f %(filename)s", 0, nil,
			[]string{`no-such-optimizer-4a1f: exec: "no-such-optimizer-4a1f": executable file not found`}, exec.ErrNotFound, 0},
		{"timeout", `sh -c 'echo started >&2; sleep 5; true' x %(filename)s`, 100 * time.Millisecond, nil,
			[]string{`sh: timed out after 100ms, stderr: "started"`}, context.DeadlineExceeded, 800 * time.Millisecond}, // less than waitDelay: the group is killed
		{"process left running", `sh -c 'sleep 5 & exit 0' x %(filename)s`, 0, nil,
			[]string{"exited, but left a process running"}, exec.ErrWaitDelay, 3 * time.Second},
		{"garbage", `sh -c 'echo x > "$1"' x %(filename)s`, 0, nil,
			[]string{"changed the image: the output does not decode: image: unknown format"}, nil, 0},
		{"truncated", `sh -c 'head -c 100 "$1" > "$1.tmp"; mv "$1.tmp" "$1"' x %(filename)s`, 0, nil,
			[]string{"changed the image: the output does not decode"}, nil, 0},
		{"other size", "cp " + quote(tinyPNG) + " %(filename)s", 0, nil,
			[]string{"changed the image: png 400x300 became png 10x10"}, nil, 0},
		{"other format", "cp " + quote(photoJPEG) + " %(filename)s", 0, nil,
			[]string{"changed the image: png 400x300 became jpeg 400x300"}, nil, 0},
		{"empty file", `sh -c ': > "$1"' x %(filename)s`, 0, nil, []string{"sh: left an empty file"}, nil, 0},
		{"removed file", "rm %(filename)s", 0, nil, []string{"rm: removed the file"}, fs.ErrNotExist, 0},
		// Opening a named pipe would wait for a writer that never comes.
		{"named pipe", `sh -c 'rm "$1"; mkfifo "$1"' x %(filename)s`, 0, nil,
			[]string{"sh: left a named pipe, not a file"}, nil, 3 * time.Second},
		{"symbolic link", `sh -c 'ln -sf "$2" "$1"' x %(filename)s ` + quote(samePNG), 0, nil,
			[]string{"sh: left a symbolic link, not a file"}, nil, 0},
		{"directory", `sh -c 'rm "$1"; mkdir "$1"' x %(filename)s`, 0, nil,
			[]string{"sh: left a directory, not a file"}, nil, 0},
		{"grown file", `sh -c 'head -c 3000000 /dev/zero >> "$1"' x %(filename)s`, 0, nil,
			[]string{fmt.Sprintf("made the file larger than %d bytes from %d", 2*len(testPNG())+1<<20, len(testPNG()))}, nil, 0},
		{"long stderr keeps its end", `sh -c 'i=0; while [ $i -lt 2000 ]; do echo "line $i" >&2; i=$((i+1)); done; exit 3' x %(filename)s`, 0, nil,
			[]string{"exit status 3, stderr: \"…", `line 1999"`}, nil, 0},
		// what a command leaves beside the file goes too
		{"side files, failed", `sh -c 'cp "$1" "$1.bak"; mkdir "$1.work"; touch "$1.work/x"; exit 2' x %(filename)s`, 0, nil,
			[]string{"exit status 2"}, nil, 0},
		{"side files, timed out", `sh -c 'cp "$1" "$1.bak"; sleep 5' x %(filename)s`, 100 * time.Millisecond, nil,
			[]string{"timed out"}, context.DeadlineExceeded, 800 * time.Millisecond},
		{"input not an image", "true %(filename)s", 0, []byte("GIF89a not really"),
			[]string{"processors: optimize: png: true: the input is not a png image"}, nil, 0},
		{"input in another format", "true %(filename)s", 0, testJPEG(), []string{"the input is not a png image"}, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := optimize(t, map[string]string{"png": tt.command}, tt.timeout)
			data := tt.data
			if data == nil {
				data = testPNG()
			}
			start := time.Now()
			out, err := p.Process(context.Background(), "png", data)
			elapsed := time.Since(start)
			if !errors.Is(err, processors.ErrPostProcess) || out != nil {
				t.Fatalf("Process() = %d bytes, %v; want an ErrPostProcess", len(out), err)
			}
			if tt.also != nil && !errors.Is(err, tt.also) {
				t.Errorf("error %v does not wrap %v", err, tt.also)
			}
			for _, m := range tt.message {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not contain %q", err, m)
				}
			}
			if len(err.Error()) > 2*4<<10 { // 4 KiB of stderr, quoted
				t.Errorf("error is %d bytes long", len(err.Error()))
			}
			if tt.within != 0 && elapsed > tt.within {
				t.Errorf("returned after %v, want within %v", elapsed, tt.within)
			}
			assertEmpty(t, dir)
		})
	}
}

func TestOptimizeArguments(t *testing.T) {
	// Every word reaches the program as it is, and the path, which holds
	// spaces and quotes here, is one argument.
	dir := tempDir(t)
	p := optimize(t, map[string]string{"png": `sh -c 'printf "[%s]" "$@" >&2; exit 1' x %(filename)s $HOME '*' ; '$(id)' "a b" --out=%(filename)s.bak`}, 0)
	_, err := p.Process(context.Background(), "png", testPNG())
	if err == nil {
		t.Fatal("Process succeeded")
	}
	path := regexp.QuoteMeta(filepath.Join(dir, "thumbnails-post-")) + `\d+/image\.png`
	want := regexp.MustCompile(`stderr: "\[(` + path + `)\]\[\$HOME\]\[\*\]\[;\]\[\$\(id\)\]\[a b\]\[--out=(` + path + `)\.bak\]"`)
	m := want.FindStringSubmatch(strings.ReplaceAll(err.Error(), `\"`, `"`))
	if m == nil {
		t.Fatalf("error %q does not match %s", err, want)
	}
	if m[1] != m[2] {
		t.Errorf("the two placeholders became %q and %q", m[1], m[2])
	}
	if _, err := os.Stat(m[1]); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("temporary file %s not removed: %v", m[1], err)
	}
	assertEmpty(t, dir)
}

func TestOptimizeNoShell(t *testing.T) {
	// Each command would create the marker file if a shell ran it; run
	// without one, it is true with some odd arguments.
	dir := tempDir(t)
	marker := filepath.Join(t.TempDir(), "marker")
	tests := []string{
		"true %(filename)s;touch " + marker,
		"true %(filename)s; touch " + marker,
		"true %(filename)s && touch " + marker,
		"true %(filename)s | touch " + marker,
		"true %(filename)s & touch " + marker,
		"true %(filename)s\ntouch " + marker,
		"true $(touch " + marker + ") %(filename)s",
		"true `touch " + marker + "` %(filename)s",
		"true \"$(touch " + marker + ")\" %(filename)s",
		"true %(filename)s > " + marker,
	}
	for _, line := range tests {
		t.Run(line, func(t *testing.T) {
			// Check that the test is worth something: sh does run the injection.
			if err := exec.Command("sh", "-c", strings.ReplaceAll(line, processors.Placeholder, "/dev/null")).Run(); err != nil {
				t.Fatalf("sh: %v", err)
			}
			if err := os.Remove(marker); err != nil {
				t.Fatalf("sh did not create the marker: %v", err)
			}

			p := optimize(t, map[string]string{"png": line}, 0)
			data := testPNG()
			if out, err := p.Process(context.Background(), "png", data); err != nil || !bytes.Equal(out, data) {
				t.Fatalf("Process() = %d bytes, %v; want the image unchanged", len(out), err)
			}
			if _, err := os.Stat(marker); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("the command ran through a shell: %s exists", marker)
			}
			assertEmpty(t, dir)
		})
	}
}

func TestOptimizeCancel(t *testing.T) {
	dir := tempDir(t)
	p := optimize(t, map[string]string{"png": `sh -c 'sleep 5; true' x %(filename)s`}, time.Minute)

	t.Run("before", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := p.Process(ctx, "png", testPNG())
		if !errors.Is(err, processors.ErrPostProcess) || !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "sh: not run: context canceled") {
			t.Errorf("Process() error %v, want a cancelled ErrPostProcess", err)
		}
		assertEmpty(t, dir)
	})
	t.Run("while running", func(t *testing.T) {
		ctx, cancel := context.WithCancelCause(context.Background())
		time.AfterFunc(100*time.Millisecond, func() { cancel(errors.New("request gone")) })
		start := time.Now()
		_, err := p.Process(ctx, "png", testPNG())
		if !errors.Is(err, processors.ErrPostProcess) || !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "sh: cancelled: request gone") {
			t.Errorf("Process() error %v, want a cancelled ErrPostProcess", err)
		}
		if elapsed := time.Since(start); elapsed > time.Second {
			t.Errorf("returned after %v", elapsed)
		}
		assertEmpty(t, dir)
	})
	t.Run("caller's deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_, err := p.Process(ctx, "png", testPNG())
		if !errors.Is(err, processors.ErrPostProcess) || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "sh: cancelled: context deadline exceeded") {
			t.Errorf("Process() error %v, want the caller's deadline", err)
		}
		assertEmpty(t, dir)
	})
}

func TestOptimizeConcurrent(t *testing.T) {
	needs(t, "jpegoptim")
	dir := tempDir(t)
	p := optimize(t, map[string]string{"jpeg": jpgCommand}, time.Minute)
	data := encodeJPEG(noisyGradient(64, 48))
	errs := make(chan error, 8)
	for range cap(errs) {
		go func() {
			out, err := p.Process(context.Background(), "jpeg", data)
			if err == nil && len(out) >= len(data) {
				err = fmt.Errorf("output of %d bytes from %d", len(out), len(data))
			}
			errs <- err
		}()
	}
	for range cap(errs) {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	assertEmpty(t, dir)
}

func TestOptimizeGIF(t *testing.T) {
	dir := tempDir(t)
	palette := color.Palette{color.Black, color.White}
	anim := &gif.GIF{Delay: []int{10, 10}}
	for i := range 2 {
		frame := image.NewPaletted(image.Rect(0, 0, 40, 30), palette)
		frame.SetColorIndex(i, i, 1)
		anim.Image = append(anim.Image, frame)
	}
	var b bytes.Buffer
	if err := gif.EncodeAll(&b, anim); err != nil {
		t.Fatal(err)
	}
	data := b.Bytes()

	p := optimize(t, map[string]string{"gif": "touch %(filename)s"}, 0)
	if out, err := p.Process(context.Background(), "GIF", data); err != nil || !bytes.Equal(out, data) {
		t.Errorf("Process() = %d bytes, %v; want the GIF unchanged", len(out), err)
	}
	// The header and the first frame survive, the second frame does not.
	keep := len(data) - 10
	p = optimize(t, map[string]string{"gif": fmt.Sprintf(`sh -c 'head -c %d "$1" > "$1.x"; mv "$1.x" "$1"' x %%(filename)s`, keep)}, 0)
	if _, err := p.Process(context.Background(), "gif", data); !errors.Is(err, processors.ErrPostProcess) || !strings.Contains(err.Error(), "gif: sh: changed the image: the output does not decode") {
		t.Errorf("Process() error %v, want a truncated GIF to be an ErrPostProcess", err)
	}

	// An output of more frames than its input, within the bytes allowed
	// (a thousand blank 400x400 frames are 160 MB decoded): refused by its
	// blocks, before a frame is decoded.
	one := gifOf(t, 1, 400, 400)
	many := filepath.Join(t.TempDir(), "many.gif")
	manyData := gifOf(t, 1000, 400, 400)
	if len(manyData) > 2*len(one)+1<<20 {
		t.Fatalf("the output of %d bytes is over what an output may be", len(manyData))
	}
	if err := os.WriteFile(many, manyData, 0o600); err != nil {
		t.Fatal(err)
	}
	p = optimize(t, map[string]string{"gif": "cp " + quote(many) + " %(filename)s"}, 0)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := p.Process(context.Background(), "gif", one)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, processors.ErrPostProcess) || !strings.Contains(err.Error(), "changed the image: 1 frame became 1000") {
		t.Errorf("Process() error %v, want an output of more frames to be an ErrPostProcess", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
		t.Errorf("checking the output allocated %d MiB", alloc>>20)
	}
	assertEmpty(t, dir)
}

// gifOf returns a GIF of n blank w×h frames.
func gifOf(t *testing.T, n, w, h int) []byte {
	t.Helper()
	anim := &gif.GIF{}
	for range n {
		anim.Image = append(anim.Image, image.NewPaletted(image.Rect(0, 0, w, h), color.Palette{color.Black, color.White}))
		anim.Delay = append(anim.Delay, 10)
	}
	var b bytes.Buffer
	if err := gif.EncodeAll(&b, anim); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestOptimizeRemovesSideFiles: what a command that succeeds leaves beside
// the file (optipng -keep's backup) is removed with it.
func TestOptimizeRemovesSideFiles(t *testing.T) {
	dir := tempDir(t)
	p := optimize(t, map[string]string{"png": `sh -c 'cp "$1" "$1.bak"' x %(filename)s`}, 0)
	if _, err := p.Process(context.Background(), "png", testPNG()); err != nil {
		t.Fatal(err)
	}
	assertEmpty(t, dir)
}

func TestOptimizeKillsLeftovers(t *testing.T) {
	// The command exits at once but leaves a process that would touch the
	// marker after Process returned: Process kills it.
	tempDir(t)
	marker := filepath.Join(t.TempDir(), "marker")
	p := optimize(t, map[string]string{"png": `sh -c '(sleep 1.5; touch "$1") & exit 0' x ` + quote(marker) + " %(filename)s"}, 0)
	start := time.Now()
	if _, err := p.Process(context.Background(), "png", testPNG()); !errors.Is(err, exec.ErrWaitDelay) {
		t.Fatalf("Process() error %v, want exec.ErrWaitDelay", err)
	}
	time.Sleep(2*time.Second - time.Since(start))
	if _, err := os.Stat(marker); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the leftover process ran on: %v", err)
	}
}

// TestOptimizeKeepsTheSmaller runs an optimizer that makes the file larger
// (it appends bytes after the image's end, which decoders ignore): Process
// returns the bytes it was given. optipng's smaller file is kept.
func TestOptimizeKeepsTheSmaller(t *testing.T) {
	in := testPNG()
	p := optimize(t, map[string]string{"png": `sh -c 'head -c 3000 /dev/zero >> "$1"' x %(filename)s`}, 0)
	out, err := p.Process(context.Background(), "png", in)
	if err != nil || !bytes.Equal(out, in) {
		t.Errorf("a larger file: %d bytes from %d, %v; want the input", len(out), len(in), err)
	}
	needs(t, "optipng")
	p = optimize(t, map[string]string{"png": `optipng -force -o1 "%(filename)s"`}, 0)
	out, err = p.Process(context.Background(), "png", in)
	if err != nil || len(out) >= len(in) {
		t.Errorf("optipng: %d bytes from %d, %v; want fewer", len(out), len(in), err)
	}
}
