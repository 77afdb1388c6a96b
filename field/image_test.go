package field_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/gorm-thumbnails/thumbnails/field"
	"github.com/gorm-thumbnails/thumbnails/internal/bridge"
)

// The column type is what database/sql and gorm need.
var (
	_ sql.Scanner   = (*field.Image)(nil)
	_ driver.Valuer = field.Image{}
)

func TestNewImageIsNotStored(t *testing.T) {
	img := field.NewImage("cat.jpg", strings.NewReader("jpeg bytes"))
	v, err := img.Value()
	if !errors.Is(err, field.ErrNotStored) {
		t.Errorf("Value() of a new upload = %v, %v; want ErrNotStored", v, err)
	}
	if v != nil {
		t.Errorf("Value() of a new upload returned %v with its error", v)
	}
	if img.IsEmpty() {
		t.Error("IsEmpty() of a new upload = true")
	}
	if img.Name() != "" || img.String() != "" || img.URL() != "" {
		t.Errorf("new upload: Name %q, String %q, URL %q; want all empty", img.Name(), img.String(), img.URL())
	}
	up := bridge.Pending(&img)
	if up == nil || up.Filename != "cat.jpg" {
		t.Fatalf("bridge.Pending = %+v, want the upload of cat.jpg", up)
	}
	if b, err := io.ReadAll(up.Reader); err != nil || string(b) != "jpeg bytes" {
		t.Errorf("upload reader gives %q, %v", b, err)
	}
}

func TestImageScan(t *testing.T) {
	tests := []struct {
		name    string
		src     any
		want    string
		wantErr bool
	}{
		{"string", "foods/a.jpg", "foods/a.jpg", false},
		{"bytes", []byte("foods/b.jpg"), "foods/b.jpg", false},
		{"unicode", "fotos/café ñ.jpg", "fotos/café ñ.jpg", false},
		{"empty string", "", "", false},
		{"empty bytes", []byte{}, "", false},
		{"nil", nil, "", false},
		{"int", 42, "", true},
		{"int64", int64(42), "", true},
		{"struct", struct{}{}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var img field.Image
			err := img.Scan(tt.src)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Scan(%#v) error = %v, want error %v", tt.src, err, tt.wantErr)
			}
			if tt.wantErr {
				if !strings.Contains(err.Error(), fmt.Sprintf("%T", tt.src)) {
					t.Errorf("Scan(%#v) error %q does not name the type", tt.src, err)
				}
				return
			}
			if img.Name() != tt.want || img.String() != tt.want {
				t.Errorf("after Scan(%#v): Name %q, String %q; want %q", tt.src, img.Name(), img.String(), tt.want)
			}
			if img.IsEmpty() != (tt.want == "") {
				t.Errorf("after Scan(%#v): IsEmpty = %v", tt.src, img.IsEmpty())
			}
			v, err := img.Value()
			if err != nil || v != driver.Value(tt.want) {
				t.Errorf("Value() after Scan(%#v) = %#v, %v; want %q", tt.src, v, err, tt.want)
			}
			// gorm scans into a temporary it copies into the row: the row
			// it is in is known once the plugin binds the row's Image.
			if name, owner, known := bridge.Original(&img); !known || name != tt.want || owner.Keyed() {
				t.Errorf("after Scan(%#v): bridge.Original = %q, %+v, %v; want %q, no owner, true", tt.src, name, owner, known, tt.want)
			}
		})
	}
}

func TestImageScanBytesIsCopied(t *testing.T) {
	// database/sql may reuse the buffer it scanned from.
	buf := []byte("foods/a.jpg")
	var img field.Image
	if err := img.Scan(buf); err != nil {
		t.Fatal(err)
	}
	copy(buf, "XXXXX")
	if img.Name() != "foods/a.jpg" {
		t.Errorf("Name() = %q after the scanned buffer changed, want %q", img.Name(), "foods/a.jpg")
	}
}

func TestImageScanReplacesUpload(t *testing.T) {
	img := field.NewImage("cat.jpg", strings.NewReader("x"))
	if err := img.Scan("foods/a.jpg"); err != nil {
		t.Fatal(err)
	}
	if v, err := img.Value(); err != nil || v != driver.Value("foods/a.jpg") {
		t.Errorf("Value() = %v, %v; want the scanned name", v, err)
	}
	if up := bridge.Pending(&img); up != nil {
		t.Errorf("upload still pending after Scan: %+v", up)
	}
}

func TestImageZeroValue(t *testing.T) {
	var img field.Image
	if !img.IsEmpty() {
		t.Error("zero Image: IsEmpty() = false")
	}
	if img.Name() != "" || img.String() != "" || img.URL() != "" {
		t.Errorf("zero Image: Name %q, String %q, URL %q; want all empty", img.Name(), img.String(), img.URL())
	}
	v, err := img.Value()
	if err != nil || v != driver.Value("") {
		t.Errorf("zero Image: Value() = %#v, %v; want \"\", nil", v, err)
	}
	if _, _, known := bridge.Original(&img); known {
		t.Error("zero Image: original name is known")
	}
	if got := fmt.Sprint(img); got != "" {
		t.Errorf("fmt.Sprint(zero Image) = %q, want \"\"", got)
	}
}

func TestImageUnbound(t *testing.T) {
	ctx := context.Background()
	images := map[string]field.Image{
		"zero":   {},
		"upload": field.NewImage("a.jpg", strings.NewReader("x")),
	}
	var scanned field.Image
	if err := scanned.Scan("foods/a.jpg"); err != nil {
		t.Fatal(err)
	}
	images["scanned"] = scanned

	for name, img := range images {
		if got, err := img.Thumbnail(ctx, "small"); !errors.Is(err, field.ErrNotBound) || got != (field.Thumbnail{}) {
			t.Errorf("%s: Thumbnail = %+v, %v; want ErrNotBound", name, got, err)
		}
		if got, err := img.Thumbnails(ctx); !errors.Is(err, field.ErrNotBound) || got != nil {
			t.Errorf("%s: Thumbnails = %v, %v; want ErrNotBound", name, got, err)
		}
		if img.URL() != "" {
			t.Errorf("%s: URL() = %q without a binding, want \"\"", name, img.URL())
		}
	}
	if scanned.String() != "foods/a.jpg" {
		t.Errorf("scanned: String() = %q", scanned.String())
	}
}

// mediaBinder is the smallest field.Binder: it serves names under /media/
// and has one thumbnail per image. The plugin's own binder is tested in the
// root package against real databases.
type mediaBinder struct{}

func (mediaBinder) URL(name string) string { return "/media/" + name }

func (b mediaBinder) Thumbnail(_ context.Context, img *field.Image, size string) (field.Thumbnail, error) {
	if size != "small" {
		return field.Thumbnail{}, fmt.Errorf("no size %q", size)
	}
	name := "small/" + img.Name()
	return field.Thumbnail{Size: size, Name: name, URL: b.URL(name), Width: 100, Height: 100}, nil
}

func (b mediaBinder) Thumbnails(ctx context.Context, img *field.Image) (map[string]field.Thumbnail, error) {
	t, err := b.Thumbnail(ctx, img, "small")
	return map[string]field.Thumbnail{"small": t}, err
}

func TestImageBound(t *testing.T) {
	ctx := context.Background()
	img := field.NewImage("cat.jpg", strings.NewReader("x"))
	// What the plugin does when it saves the row: store, then bind.
	bridge.Stored(&img, "foods/a b.jpg")
	bridge.Bind(&img, mediaBinder{}, bridge.Owner{}, true)

	if img.IsEmpty() || img.Name() != "foods/a b.jpg" || img.String() != "foods/a b.jpg" {
		t.Errorf("stored image: IsEmpty %v, Name %q, String %q", img.IsEmpty(), img.Name(), img.String())
	}
	if v, err := img.Value(); err != nil || v != driver.Value("foods/a b.jpg") {
		t.Errorf("stored image: Value() = %v, %v", v, err)
	}
	if name, _, known := bridge.Original(&img); !known || name != "foods/a b.jpg" {
		t.Errorf("bound image: bridge.Original = %q, %v", name, known)
	}
	if got := img.URL(); got != "/media/foods/a b.jpg" {
		t.Errorf("URL() = %q, want the binder's URL", got)
	}
	th, err := img.Thumbnail(ctx, "small")
	if err != nil || th.Name != "small/foods/a b.jpg" || th.Width != 100 {
		t.Errorf("Thumbnail = %+v, %v", th, err)
	}
	if _, err := img.Thumbnail(ctx, "huge"); err == nil {
		t.Error("Thumbnail of an unknown size: the binder's error was lost")
	}
	all, err := img.Thumbnails(ctx)
	if err != nil || len(all) != 1 || all["small"] != th {
		t.Errorf("Thumbnails = %+v, %v", all, err)
	}

	// An empty bound column has no URL.
	var empty field.Image
	bridge.Bind(&empty, mediaBinder{}, bridge.Owner{}, true)
	if got := empty.URL(); got != "" {
		t.Errorf("empty bound image: URL() = %q, want \"\"", got)
	}
}

func TestImageGormDataType(t *testing.T) {
	if got := (field.Image{}).GormDataType(); got != "string" {
		t.Errorf("GormDataType() = %q, want \"string\"", got)
	}
}

// Food is a model with an Image column, used without the plugin.
type Food struct {
	ID    uint
	Image field.Image
}

func TestImageSQLite(t *testing.T) {
	db, err := gorm.Open(sqlite.Open(filepath.Join(t.TempDir(), "test.db")), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if sqlDB, err := db.DB(); err == nil {
			_ = sqlDB.Close()
		}
	})
	if err := db.AutoMigrate(&Food{}); err != nil {
		t.Fatal(err)
	}
	cols, err := db.Migrator().ColumnTypes(&Food{})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, c := range cols {
		if c.Name() == "image" {
			found = true
			if !strings.EqualFold(c.DatabaseTypeName(), "text") {
				t.Errorf("column image has type %q, want text", c.DatabaseTypeName())
			}
		}
	}
	if !found {
		t.Errorf("AutoMigrate made no column image: %d columns", len(cols))
	}

	// A name written by the plugin round-trips.
	var stored field.Image
	if err := stored.Scan("foods/a.jpg"); err != nil {
		t.Fatal(err)
	}
	rows := []Food{{Image: stored}, {}}
	if err := db.Create(&rows).Error; err != nil {
		t.Fatal(err)
	}
	var got []Food
	if err := db.Order("id").Find(&got).Error; err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Image.Name() != "foods/a.jpg" || !got[1].Image.IsEmpty() {
		t.Errorf("read back %+v", got)
	}

	// An upload the plugin did not store is an error, not an empty column.
	err = db.Create(&Food{Image: field.NewImage("cat.jpg", strings.NewReader("x"))}).Error
	if !errors.Is(err, field.ErrNotStored) {
		t.Errorf("Create with an unstored upload = %v, want ErrNotStored", err)
	}
	var n int64
	if err := db.Model(&Food{}).Count(&n).Error; err != nil || n != 2 {
		t.Errorf("table has %d rows (%v), want 2", n, err)
	}
}

func ExampleNewImage() {
	img := field.NewImage("cat.jpg", strings.NewReader("jpeg bytes"))
	fmt.Println(img.IsEmpty(), img.Name() == "")

	var none field.Image
	fmt.Println(none.IsEmpty())

	// Without the plugin to store it, the upload cannot be written.
	_, err := img.Value()
	fmt.Println(errors.Is(err, field.ErrNotStored))
	// Output:
	// false true
	// true
	// true
}

func BenchmarkImageScan(b *testing.B) {
	src := []byte("foods/3f1c9a0be2d84c55.jpg")
	b.ReportAllocs()
	for b.Loop() {
		var img field.Image
		if err := img.Scan(src); err != nil {
			b.Fatal(err)
		}
	}
}

// pendingBinder answers "small" with a thumbnail and "pending" with a
// fallback URL (no name, no width), as the plugin answers an async size
// whose job has not run.
type pendingBinder struct{ mediaBinder }

func (b pendingBinder) Thumbnail(ctx context.Context, img *field.Image, size string) (field.Thumbnail, error) {
	if size == "pending" {
		return field.Thumbnail{Size: size, URL: "/static/wait.png"}, nil
	}
	return b.mediaBinder.Thumbnail(ctx, img, size)
}

// TestResponsiveFallbackFirst checks that a first size answered by its
// fallback gives it as src, and the width, height and sizes of the first
// size that exists, which a browser shows from the srcset (without sizes
// it would stretch it to the window; "0px" would show it at no width).
func TestResponsiveFallbackFirst(t *testing.T) {
	img := field.NewImage("cat.jpg", strings.NewReader("x"))
	bridge.Stored(&img, "foods/cat.jpg")
	bridge.Bind(&img, pendingBinder{}, bridge.Owner{}, true)
	r, err := img.Responsive(context.Background(), "pending", "small")
	if err != nil {
		t.Fatal(err)
	}
	if r.Src != "/static/wait.png" || r.Sizes != "100px" || r.SrcSet != "/media/small/foods/cat.jpg 100w" {
		t.Errorf("Responsive = %+v", r)
	}
	if got, want := string(r.Attr()), `src="/static/wait.png" srcset="/media/small/foods/cat.jpg 100w" sizes="100px" width="100" height="100"`; got != want {
		t.Errorf("Attr = %s, want %s", got, want)
	}
}
