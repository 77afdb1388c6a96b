package thumbnails_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gorm-thumbnails/thumbnails"
	"github.com/gorm-thumbnails/thumbnails/backends"
	"github.com/gorm-thumbnails/thumbnails/field"
	"github.com/gorm-thumbnails/thumbnails/sizes"
)

// optimizedSizes is the seed's POST_PROCESSORS, as written there.
const optimizedSizes = `
small:
  processors:
    - {path: resize, width: 100, height: 100, method: fill}
  format: png
  post_processors:
    - path: thumbnails.post_processors.optimize
      png_command: 'optipng -force -o7 "%(filename)s"'
      jpg_command: 'jpegoptim -f --strip-all "%(filename)s"'
medium:
  processors:
    - {path: resize, width: 400, height: 400, method: fit}
  quality: 95
  post_processors:
    - path: thumbnails.post_processors.optimize
      png_command: 'optipng -force -o7 "%(filename)s"'
      jpg_command: 'jpegoptim -f --strip-all "%(filename)s"'
`

// plainSizes are the same sizes without post-processors.
const plainSizes = `
small:
  processors:
    - {path: resize, width: 100, height: 100, method: fill}
  format: png
medium:
  processors:
    - {path: resize, width: 400, height: 400, method: fit}
  quality: 95
`

func requirePrograms(t *testing.T, programs ...string) {
	t.Helper()
	for _, p := range programs {
		if _, err := exec.LookPath(p); err != nil {
			t.Skipf("%s is not installed (apt-get install optipng jpegoptim; .ci/run does): %v", p, err)
		}
	}
}

// saveWith saves the pizza photo through a plugin configured with yaml, and
// returns the stored bytes of each size.
func saveWith(t *testing.T, yaml string) map[string][]byte {
	t.Helper()
	set, err := sizes.Load(strings.NewReader(yaml))
	if err != nil {
		t.Fatal(err)
	}
	db := openSQLite(t)
	root := t.TempDir()
	if err := db.Use(thumbnails.Plugin(thumbnails.Config{Sizes: set, Storage: backends.NewFileSystemStorage(root, "/m/")})); err != nil {
		t.Fatal(err)
	}
	type Photo struct {
		ID    uint
		Image field.Image
	}
	if err := db.AutoMigrate(&Photo{}); err != nil {
		t.Fatal(err)
	}
	row := Photo{Image: field.NewImage("a.jpg", reader(photo(t, pizzaJPG)))}
	if err := db.Create(&row).Error; err != nil {
		t.Fatal(err)
	}
	all, err := row.Image.Thumbnails(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	e := &env{root: root}
	for size, th := range all {
		data, err := os.ReadFile(filepath.Join(root, th.Name))
		if err != nil {
			t.Fatal(err)
		}
		img, _ := e.decodeStored(t, th.Name)
		if img.Bounds().Dx() != th.Width || img.Bounds().Dy() != th.Height {
			t.Fatalf("%s decodes to %v, metadata says %dx%d", size, img.Bounds(), th.Width, th.Height)
		}
		out[size] = data
	}
	return out
}

func TestPostProcessorsStoreTheOptimizedBytes(t *testing.T) {
	requirePrograms(t, "optipng", "jpegoptim")
	plain := saveWith(t, plainSizes)
	optimized := saveWith(t, optimizedSizes)
	for _, size := range []string{"small", "medium"} {
		if len(optimized[size]) >= len(plain[size]) {
			t.Errorf("%s: optimized %d bytes, plain %d: the optimizer's output was not stored", size, len(optimized[size]), len(plain[size]))
		}
		t.Logf("%s: %d -> %d bytes", size, len(plain[size]), len(optimized[size]))
	}
}

func TestPostProcessorErrors(t *testing.T) {
	load := func(t *testing.T, command string) sizes.Sizes {
		set, err := sizes.Load(strings.NewReader(`
small:
  processors: [{path: resize, width: 100, height: 100, method: fill}]
  format: png
  post_processors:
    - {path: optimize, png_command: '` + command + `', timeout: 1s}
`))
		if err != nil {
			t.Fatal(err)
		}
		return set
	}
	t.Run("missing program fails db.Use", func(t *testing.T) {
		db := openSQLite(t)
		err := db.Use(thumbnails.Plugin(thumbnails.Config{Sizes: load(t, "no-such-optimizer-x1 %(filename)s")}))
		if !errors.Is(err, thumbnails.ErrInvalidConfig) || !strings.Contains(err.Error(), "no-such-optimizer-x1") {
			t.Fatalf("db.Use = %v, want an error naming the program", err)
		}
	})
	for name, tc := range map[string]struct{ command, want string }{
		"failing command": {`sh -c "echo boom >&2; exit 3" x %(filename)s`, "boom"},
		"timeout":         {`sh -c "sleep 10" x %(filename)s`, "time"},
	} {
		t.Run(name, func(t *testing.T) {
			db := openSQLite(t)
			root := t.TempDir()
			if err := db.Use(thumbnails.Plugin(thumbnails.Config{Sizes: load(t, tc.command), Storage: backends.NewFileSystemStorage(root, "/")})); err != nil {
				t.Fatal(err)
			}
			if err := db.AutoMigrate(&Kite{}); err != nil {
				t.Fatal(err)
			}
			err := db.Create(&Kite{Image: field.NewImage("a.jpg", reader(photo(t, pizzaJPG)))}).Error
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("save = %v, want an error with %q", err, tc.want)
			}
			e := &env{root: root}
			if files := e.files(t); len(files) != 0 {
				t.Fatalf("files stored: %v", files)
			}
			var n int64
			db.Model(&Kite{}).Count(&n)
			if n != 0 {
				t.Fatalf("rows: %d", n)
			}
		})
	}
}
