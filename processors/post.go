package processors

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/gif"
	_ "image/jpeg" // registers JPEG with image.Decode
	_ "image/png"  // registers PNG
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gorm-thumbnails/thumbnails/internal/gifscan"
)

// PostProcessor transforms the encoded bytes of a thumbnail (an optimizer).
type PostProcessor interface {
	// Process returns the processed bytes of data, an image in format ("jpeg", "png", "gif" or "webp").
	// A format the post-processor has no command for returns data unchanged.
	Process(ctx context.Context, format string, data []byte) ([]byte, error)
	// Commands returns the program names it runs (argv[0] of each command), so that
	// callers can check with exec.LookPath when they start.
	Commands() []string
}

// DefaultPostTimeout is how long a post-processor's command may run when no timeout is given.
const DefaultPostTimeout = 30 * time.Second

const (
	// tempPattern is the name of the temporary folders, with "*" for the random part.
	tempPattern = "thumbnails-post-*"
	// maxStderr is how many of the last bytes of a command's stderr an error quotes.
	maxStderr = 4 << 10
	// waitDelay is how long a command that has exited or been killed may keep
	// its stderr open through processes it started before Wait gives up on them.
	waitDelay = time.Second
	// growthSlack is how many bytes, above twice its input, a command may make the file grow;
	// it bounds the memory a runaway command costs.
	growthSlack = 1 << 20
)

// extensions maps a format to the file extension its temporary file gets,
// which some optimizers look at.
var extensions = map[string]string{"jpeg": ".jpg", "png": ".png", "gif": ".gif"}

// Optimize returns the post-processor that runs commands[format] (keys "jpeg",
// "png", "gif"; "jpg" and any case are accepted) on a temporary file, as
// django-thumbnails' thumbnails.post_processors.optimize does:
//
//	processors.Optimize(map[string]string{
//		"png":  `optipng -force -o7 "%(filename)s"`,
//		"jpeg": `jpegoptim -f --strip-all "%(filename)s"`,
//	}, 30*time.Second)
//
// Each command is split into words with SplitCommand and run without a shell;
// Placeholder, anywhere in a word, becomes the file's path, and that word
// stays one argument whatever the path holds. The command works on the file in
// place. It must exit with status 0 within timeout (DefaultPostTimeout when
// 0), and leave an image of the same format, width and height, of at most
// twice the bytes it was given plus 1 MiB (a bound on what a runaway command
// costs); otherwise Process returns an ErrPostProcess. When the command's
// file is larger than the one it was given, Process returns the one given.
//
// At least one command is needed, and each must name a program and hold
// Placeholder; otherwise Optimize returns an ErrInvalidParameter. The
// post-processor's Commands are the program names, sorted, each once; it is
// safe for concurrent use.
func Optimize(commands map[string]string, timeout time.Duration) (PostProcessor, error) {
	if timeout < 0 {
		return nil, fmt.Errorf("processors: optimize: negative timeout %v: %w", timeout, ErrInvalidParameter)
	}
	if timeout == 0 {
		timeout = DefaultPostTimeout
	}
	o := &optimizer{timeout: timeout, commands: make(map[string]command, len(commands))}
	for _, key := range slices.Sorted(maps.Keys(commands)) {
		format, ok := normalizeImageFormat(key)
		if !ok {
			return nil, fmt.Errorf("processors: optimize: unknown format %q, want jpeg, png or gif: %w", key, ErrInvalidParameter)
		}
		if _, dup := o.commands[format]; dup {
			return nil, fmt.Errorf("processors: optimize: two commands for %s: %w", format, ErrInvalidParameter)
		}
		c, msg := parseCommand(commands[key])
		if msg != "" {
			return nil, fmt.Errorf("processors: optimize: %s command %q: %s: %w", format, commands[key], msg, ErrInvalidParameter)
		}
		o.commands[format] = c
	}
	if len(o.commands) == 0 {
		return nil, fmt.Errorf("processors: optimize: no command: %w", ErrInvalidParameter)
	}
	return o, nil
}

// optimizer is the PostProcessor that Optimize returns.
type optimizer struct {
	timeout  time.Duration
	commands map[string]command // by normalised format
}

func (o *optimizer) Commands() []string {
	names := make([]string, 0, len(o.commands))
	for _, c := range o.commands {
		if !slices.Contains(names, c.program()) {
			names = append(names, c.program())
		}
	}
	slices.Sort(names)
	return names
}

func (o *optimizer) Process(ctx context.Context, format string, data []byte) ([]byte, error) {
	format, _ = normalizeImageFormat(format)
	c, ok := o.commands[format]
	if !ok {
		return data, nil
	}
	fail := func(cause error, msg string, v ...any) error {
		return &postError{msg: fmt.Sprintf("processors: optimize: %s: %s: ", format, c.program()) + fmt.Sprintf(msg, v...), cause: cause}
	}
	// Check the input first, so that a failure afterwards is the command's.
	in, inFormat, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || inFormat != format {
		return nil, fail(nil, "the input is not a %s image", format)
	}
	if err := ctx.Err(); err != nil {
		return nil, fail(err, "not run: %v", err)
	}
	out, err := o.run(ctx, format, c, data, fail)
	if err != nil {
		return nil, err
	}
	// The header first, which is cheap and bounds what decoding the rest costs.
	switch got, gotFormat, err := image.DecodeConfig(bytes.NewReader(out)); {
	case err != nil:
		return nil, fail(nil, "changed the image: the output does not decode: %v", err)
	case gotFormat != format || got.Width != in.Width || got.Height != in.Height:
		return nil, fail(nil, "changed the image: %s %dx%d became %s %dx%d",
			format, in.Width, in.Height, gotFormat, got.Width, got.Height)
	}
	// A GIF's frames by its blocks, before decoding any: an output may
	// hold no more than its input (a thousand blank frames are a few
	// hundred kilobytes, and take a gigabyte to decode).
	if format == "gif" {
		inFrames, outFrames := gifFrames(data), gifFrames(out)
		if outFrames > inFrames {
			return nil, fail(nil, "changed the image: %s became %d", plural(inFrames, "frame"), outFrames)
		}
	}
	// Then the pixels, since a header is all that a truncated file may keep.
	if err := decodeAll(format, out); err != nil {
		return nil, fail(nil, "changed the image: the output does not decode: %v", err)
	}
	if len(out) > len(data) {
		return data, nil // an optimizer that made the file larger did not optimize it
	}
	return out, nil
}

// run writes data to a temporary file, runs c on it and returns what the file
// then holds. The file is written in a temporary folder of its own, which is
// always removed with whatever the command left there beside the file (a
// backup optipng makes while it writes and leaves when it is killed, a
// command's own temporary files).
func (o *optimizer) run(ctx context.Context, format string, c command, data []byte, fail func(error, string, ...any) error) ([]byte, error) {
	dir, err := os.MkdirTemp("", tempPattern)
	if err != nil {
		return nil, fail(err, "temporary folder: %v", err)
	}
	defer os.RemoveAll(dir) // once the command's process group is killed (below)
	path := filepath.Join(dir, "image"+extensions[format])
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fail(err, "temporary file: %v", err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fail(err, "temporary file: %v", err)
	}
	// An absolute path cannot be taken for an option, even if $TMPDIR is relative.
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}

	runCtx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	args := c.args(path)
	cmd := exec.CommandContext(runCtx, args[0], args[1:]...)
	stderr := &tailBuffer{max: maxStderr}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, nil, stderr // nil is the null device
	cmd.WaitDelay = waitDelay
	isolate(cmd)
	err = cmd.Run()
	if cmd.Process != nil {
		// Leave nothing behind that could still write the file. The group
		// outlives its leader only while some member lives, and a process
		// group ID is not reused before the PIDs wrap around.
		_ = killGroup(cmd)
	}
	if err != nil {
		tail := stderr.String()
		if tail != "" {
			tail = fmt.Sprintf(", stderr: %q", tail)
		}
		switch {
		case ctx.Err() != nil:
			return nil, fail(ctx.Err(), "cancelled: %v%s", context.Cause(ctx), tail)
		case runCtx.Err() != nil:
			return nil, fail(context.DeadlineExceeded, "timed out after %v%s", o.timeout, tail)
		case errors.Is(err, exec.ErrWaitDelay):
			return nil, fail(err, "exited, but left a process running that holds its stderr open%s", tail)
		}
		return nil, fail(err, "%v%s", err, tail)
	}

	// Only a regular file is read back: opening a named pipe would wait
	// for a writer that never comes, and a link or a device is not the
	// output. Nothing of the command's runs now to swap the file again.
	info, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fail(err, "removed the file")
	} else if err != nil {
		return nil, fail(err, "reading the output: %v", err)
	}
	if !info.Mode().IsRegular() {
		return nil, fail(nil, "left %s, not a file", fileKind(info.Mode()))
	}
	file, err := os.Open(path)
	if err != nil {
		return nil, fail(err, "reading the output: %v", err)
	}
	defer file.Close()
	limit := 2*int64(len(data)) + growthSlack
	out, err := io.ReadAll(io.LimitReader(file, limit+1))
	switch {
	case err != nil:
		return nil, fail(err, "reading the output: %v", err)
	case len(out) == 0:
		return nil, fail(nil, "left an empty file")
	case int64(len(out)) > limit:
		return nil, fail(nil, "made the file larger than %d bytes from %d", limit, len(data))
	}
	return out, nil
}

// fileKind names what a file of mode m is, for an error.
func fileKind(m fs.FileMode) string {
	switch m.Type() {
	case fs.ModeDir:
		return "a directory"
	case fs.ModeSymlink:
		return "a symbolic link"
	case fs.ModeNamedPipe:
		return "a named pipe"
	case fs.ModeSocket:
		return "a socket"
	case fs.ModeDevice, fs.ModeDevice | fs.ModeCharDevice:
		return "a device"
	}
	return "a special file"
}

// gifFrames returns the number of frames of a GIF, counted by its blocks
// (those before where a malformed one stops, which decodeAll then refuses).
func gifFrames(data []byte) int {
	n := 0
	_ = gifscan.Frames(data, func(int, int) error { n++; return nil })
	return n
}

// plural returns "1 frame" or "n frames".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// decodeAll decodes all of data, every frame of a GIF, and returns the error if any.
func decodeAll(format string, data []byte) error {
	if format == "gif" {
		_, err := gif.DecodeAll(bytes.NewReader(data))
		return err
	}
	_, _, err := image.Decode(bytes.NewReader(data))
	return err
}

// postError is an ErrPostProcess that also wraps its cause, if any, so that
// errors.Is finds exec.ErrNotFound or context.DeadlineExceeded too.
type postError struct {
	msg   string // "processors: optimize: png: optipng: exit status 1"
	cause error
}

func (e *postError) Error() string { return e.msg + ": " + ErrPostProcess.Error() }

func (e *postError) Unwrap() []error {
	if e.cause == nil {
		return []error{ErrPostProcess}
	}
	return []error{ErrPostProcess, e.cause}
}

// normalizeImageFormat returns the canonical spelling of an image format, and
// whether a post-processor can have a command for it.
func normalizeImageFormat(f string) (string, bool) {
	f = strings.ToLower(strings.TrimSpace(f))
	if f == "jpg" {
		f = "jpeg"
	}
	_, ok := extensions[f]
	return f, ok
}
