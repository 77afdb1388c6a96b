package backends_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/gorm-thumbnails/thumbnails/backends"
)

// hostileNames are storage names that every backend must refuse with
// ErrInvalidName: empty, escaping the root, absolute, Windows-separated,
// holding NUL, or naming the root itself.
var hostileNames = []string{
	"",
	"../x",
	"a/../../x",
	"a/../x",
	"/etc/passwd",
	"a\\b",
	"..\\x",
	"a\x00b",
	"..",
	".",
	"./",
	"a/..",
}

// newStorage returns a storage rooted at <tmp>/root (not created yet) and
// the parent folder <tmp>, which holds a file "x" so that an escape to
// "../x" would be seen.
func newStorage(t *testing.T, baseURL string) (st backends.Storage, root, parent string) {
	t.Helper()
	parent = t.TempDir()
	if err := os.WriteFile(filepath.Join(parent, "x"), []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	root = filepath.Join(parent, "root")
	return backends.NewFileSystemStorage(root, baseURL), root, parent
}

// tree lists every file and folder under dir with its size, slash-separated
// and sorted, so that two snapshots can be compared.
func tree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			out = append(out, filepath.ToSlash(rel)+"/")
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		out = append(out, fmt.Sprintf("%s %d", filepath.ToSlash(rel), info.Size()))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func readAll(t *testing.T, st backends.Storage, name string) string {
	t.Helper()
	rc, err := st.Open(context.Background(), name)
	if err != nil {
		t.Fatalf("Open(%q): %v", name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %q: %v", name, err)
	}
	return string(b)
}

func TestFileSystemRoundTrip(t *testing.T) {
	ctx := context.Background()
	st, root, _ := newStorage(t, "/media/")

	name, err := st.Save(ctx, "foods/3f1c.jpg", strings.NewReader("jpeg bytes"))
	if err != nil {
		t.Fatal(err)
	}
	if name != "foods/3f1c.jpg" {
		t.Errorf("Save returned %q, want %q", name, "foods/3f1c.jpg")
	}
	if got := readAll(t, st, name); got != "jpeg bytes" {
		t.Errorf("Open = %q, want %q", got, "jpeg bytes")
	}
	onDisk, err := os.ReadFile(filepath.Join(root, "foods", "3f1c.jpg"))
	if err != nil || string(onDisk) != "jpeg bytes" {
		t.Errorf("file on disk = %q, %v; want %q", onDisk, err, "jpeg bytes")
	}
	info, err := os.Stat(filepath.Join(root, "foods", "3f1c.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o644 {
		t.Errorf("file mode = %v, want 0644", perm)
	}
	if got, want := st.URL(name), "/media/foods/3f1c.jpg"; got != want {
		t.Errorf("URL = %q, want %q", got, want)
	}

	if err := st.Delete(ctx, name); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "foods", "3f1c.jpg")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("file still there after Delete: %v", err)
	}
	if _, err := st.Open(ctx, name); !errors.Is(err, backends.ErrNotFound) {
		t.Errorf("Open after Delete: err = %v, want ErrNotFound", err)
	}
	// A retried cleanup succeeds.
	if err := st.Delete(ctx, name); err != nil {
		t.Errorf("second Delete: %v, want nil", err)
	}
}

func TestFileSystemSaveNormalisesName(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name, want string
	}{
		{"a.jpg", "a.jpg"},
		{"foods/a.jpg", "foods/a.jpg"},
		{"foods//a.jpg", "foods/a.jpg"},
		{"./foods/a.jpg", "foods/a.jpg"},
		{"foods/./small/a.jpg", "foods/small/a.jpg"},
		{"foods/a.jpg/", "foods/a.jpg"},
	}
	for _, tt := range tests {
		st, root, _ := newStorage(t, "")
		got, err := st.Save(ctx, tt.name, strings.NewReader(tt.name))
		if err != nil {
			t.Errorf("Save(%q): %v", tt.name, err)
			continue
		}
		if got != tt.want {
			t.Errorf("Save(%q) = %q, want %q", tt.name, got, tt.want)
		}
		if b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(tt.want))); err != nil || string(b) != tt.name {
			t.Errorf("Save(%q): file %q = %q, %v", tt.name, tt.want, b, err)
		}
		if clean, err := backends.CleanName(tt.name); err != nil || clean != tt.want {
			t.Errorf("CleanName(%q) = %q, %v; want %q", tt.name, clean, err, tt.want)
		}
	}
}

func TestFileSystemSaveReplacesAtomically(t *testing.T) {
	ctx := context.Background()
	st, root, _ := newStorage(t, "")

	if _, err := st.Save(ctx, "foods/a.jpg", strings.NewReader("first version")); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Save(ctx, "foods/a.jpg", strings.NewReader("second")); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, st, "foods/a.jpg"); got != "second" {
		t.Errorf("after replace, Open = %q, want %q", got, "second")
	}

	// A write that fails half-way keeps the old file whole.
	_, err := st.Save(ctx, "foods/a.jpg", io.MultiReader(strings.NewReader("half"), errReader{}))
	if !errors.Is(err, errRead) {
		t.Errorf("Save from a failing reader: err = %v, want it to wrap %v", err, errRead)
	}
	if got := readAll(t, st, "foods/a.jpg"); got != "second" {
		t.Errorf("after failed replace, Open = %q, want %q", got, "second")
	}

	if got, want := tree(t, root), []string{"./", "foods/", "foods/a.jpg 6"}; !slices.Equal(got, want) {
		t.Errorf("root holds %q, want %q (no temporary files left)", got, want)
	}
}

var errRead = errors.New("read failed")

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errRead }

func TestFileSystemMissing(t *testing.T) {
	ctx := context.Background()
	st, _, _ := newStorage(t, "")

	if err := st.Delete(ctx, "foods/missing.jpg"); err != nil {
		t.Errorf("Delete of a missing name (root absent) = %v, want nil", err)
	}
	if _, err := st.Save(ctx, "foods/other.jpg", strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}
	if err := st.Delete(ctx, "foods/missing.jpg"); err != nil {
		t.Errorf("Delete of a missing name = %v, want nil", err)
	}
	tests := []struct {
		name string
		why  string
	}{
		{"foods/missing.jpg", "no such file"},
		{"missing/a.jpg", "no such folder"},
		{"missing.jpg", "no such file at the top"},
		{"foods", "a folder, not a stored file"},
		{"foods/other.jpg/x", "under a file"},
	}
	for _, tt := range tests {
		rc, err := st.Open(ctx, tt.name)
		if !errors.Is(err, backends.ErrNotFound) {
			t.Errorf("Open(%q) (%s): err = %v, want ErrNotFound", tt.name, tt.why, err)
		}
		if rc != nil {
			t.Errorf("Open(%q) (%s) returned a reader with the error", tt.name, tt.why)
			rc.Close()
		}
	}
	if err := st.Delete(ctx, "foods/other.jpg/x"); err != nil {
		t.Errorf("Delete of a name under a file = %v, want nil", err)
	}
	if got := readAll(t, st, "foods/other.jpg"); got != "x" {
		t.Errorf("foods/other.jpg = %q after the Deletes, want %q", got, "x")
	}
}

func TestCleanNameRefusesHostileNames(t *testing.T) {
	for _, name := range hostileNames {
		got, err := backends.CleanName(name)
		if !errors.Is(err, backends.ErrInvalidName) {
			t.Errorf("CleanName(%q) = %q, %v; want ErrInvalidName", name, got, err)
		}
		if got != "" {
			t.Errorf("CleanName(%q) returned %q with its error", name, got)
		}
	}
}

func TestFileSystemRefusesHostileNames(t *testing.T) {
	ctx := context.Background()
	st, root, parent := newStorage(t, "")
	if _, err := st.Save(ctx, "keep.jpg", strings.NewReader("keep")); err != nil {
		t.Fatal(err)
	}
	before := tree(t, parent)

	for _, name := range hostileNames {
		if got, err := st.Save(ctx, name, strings.NewReader("evil")); !errors.Is(err, backends.ErrInvalidName) {
			t.Errorf("Save(%q) = %q, %v; want ErrInvalidName", name, got, err)
		}
		rc, err := st.Open(ctx, name)
		if !errors.Is(err, backends.ErrInvalidName) {
			t.Errorf("Open(%q): err = %v, want ErrInvalidName", name, err)
		}
		if rc != nil {
			rc.Close()
		}
		if err := st.Delete(ctx, name); !errors.Is(err, backends.ErrInvalidName) {
			t.Errorf("Delete(%q) = %v, want ErrInvalidName", name, err)
		}
	}

	if after := tree(t, parent); !slices.Equal(after, before) {
		t.Errorf("hostile names changed the file system:\nbefore %q\nafter  %q", before, after)
	}
	if b, err := os.ReadFile(filepath.Join(parent, "x")); err != nil || string(b) != "keep" {
		t.Errorf("file outside the root = %q, %v; want %q", b, err, "keep")
	}
	if _, err := os.Stat(filepath.Join(root, "keep.jpg")); err != nil {
		t.Errorf("file inside the root was removed: %v", err)
	}
}

func TestFileSystemUnicodeNames(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		baseURL, name, url string
	}{
		{"/media", "foods/a b.jpg", "/media/foods/a%20b.jpg"},
		{"/media/", "foods/a b.jpg", "/media/foods/a%20b.jpg"},
		{"", "foods/a b.jpg", "foods/a%20b.jpg"},
		{"https://cdn.example.com/m", "fotos/café con leche.jpg", "https://cdn.example.com/m/fotos/caf%C3%A9%20con%20leche.jpg"},
		{"/media", "日本/写真.png", "/media/%E6%97%A5%E6%9C%AC/%E5%86%99%E7%9C%9F.png"},
		{"/media", "odd/a?b#c%d.jpg", "/media/odd/a%3Fb%23c%25d.jpg"},
		{"/media", " lead and trail .jpg", "/media/%20lead%20and%20trail%20.jpg"},
	}
	for _, tt := range tests {
		st, root, _ := newStorage(t, tt.baseURL)
		name, err := st.Save(ctx, tt.name, strings.NewReader(tt.name))
		if err != nil {
			t.Errorf("Save(%q): %v", tt.name, err)
			continue
		}
		if name != tt.name {
			t.Errorf("Save(%q) returned %q", tt.name, name)
		}
		if got := readAll(t, st, name); got != tt.name {
			t.Errorf("Open(%q) = %q", name, got)
		}
		if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(tt.name))); err != nil {
			t.Errorf("Save(%q) did not write the file under that name: %v", tt.name, err)
		}
		if got := st.URL(name); got != tt.url {
			t.Errorf("NewFileSystemStorage(_, %q).URL(%q) = %q, want %q", tt.baseURL, name, got, tt.url)
		}
		if err := st.Delete(ctx, name); err != nil {
			t.Errorf("Delete(%q): %v", name, err)
		}
		if _, err := st.Open(ctx, name); !errors.Is(err, backends.ErrNotFound) {
			t.Errorf("Open(%q) after Delete: %v, want ErrNotFound", name, err)
		}
	}
}

func TestFileSystemCancelledContext(t *testing.T) {
	st, root, _ := newStorage(t, "")
	if _, err := st.Save(context.Background(), "a.jpg", strings.NewReader("a")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	if _, err := st.Save(ctx, "b.jpg", strings.NewReader("b")); !errors.Is(err, context.Canceled) {
		t.Errorf("Save with a cancelled context: err = %v, want context.Canceled", err)
	}
	if rc, err := st.Open(ctx, "a.jpg"); !errors.Is(err, context.Canceled) {
		t.Errorf("Open with a cancelled context: err = %v, want context.Canceled", err)
		if rc != nil {
			rc.Close()
		}
	}
	if err := st.Delete(ctx, "a.jpg"); !errors.Is(err, context.Canceled) {
		t.Errorf("Delete with a cancelled context: err = %v, want context.Canceled", err)
	}
	if got, want := tree(t, root), []string{"./", "a.jpg 1"}; !slices.Equal(got, want) {
		t.Errorf("root holds %q, want %q", got, want)
	}
}

func ExampleNewFileSystemStorage() {
	root, err := os.MkdirTemp("", "media-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(root)

	ctx := context.Background()
	st := backends.NewFileSystemStorage(root, "/media")
	name, err := st.Save(ctx, "foods/a b.jpg", strings.NewReader("jpeg bytes"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(name)
	fmt.Println(st.URL(name))

	rc, err := st.Open(ctx, name)
	if err != nil {
		fmt.Println(err)
		return
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	fmt.Println(string(b))

	_, err = st.Save(ctx, "../escape.jpg", strings.NewReader("no"))
	fmt.Println(errors.Is(err, backends.ErrInvalidName))
	// Output:
	// foods/a b.jpg
	// /media/foods/a%20b.jpg
	// jpeg bytes
	// true
}

func BenchmarkCleanName(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := backends.CleanName("foods/small/3f1c9a0be2.jpg"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFileSystemSave(b *testing.B) {
	ctx := context.Background()
	st := backends.NewFileSystemStorage(b.TempDir(), "/media/")
	data := bytes.Repeat([]byte{0xff}, 32<<10)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := st.Save(ctx, "foods/small/a.jpg", bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

// TestJoinURLEscapesEveryByte checks JoinURL on names holding each byte
// value in turn: each segment is escaped as url.PathEscape escapes it.
func TestJoinURLEscapesEveryByte(t *testing.T) {
	for c := range 256 {
		seg := "a" + string([]byte{byte(c)}) + "b"
		if c == '/' {
			continue // the separator of segments
		}
		name := "thumbnails/" + seg + ".jpg"
		want := "/media/thumbnails/" + url.PathEscape(seg) + ".jpg"
		if got := backends.JoinURL("/media/", name); got != want {
			t.Errorf("byte %#x: JoinURL = %q, want %q", c, got, want)
		}
	}
}

// TestFileSystemListMissingRoot checks that listing a root folder that does
// not exist (or is a file) fails with ErrNotFound rather than listing
// nothing: Prune would take every record for one whose file is gone.
func TestFileSystemListMissingRoot(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, root := range []string{filepath.Join(dir, "missing"), file} {
		st := backends.NewFileSystemStorage(root, "/media/").(backends.Lister)
		calls := 0
		err := st.List(context.Background(), func(backends.FileInfo) error { calls++; return nil })
		if !errors.Is(err, backends.ErrNotFound) || calls != 0 {
			t.Errorf("List of root %s: %v after %d files, want ErrNotFound", root, err, calls)
		}
	}
	// An empty root lists nothing, without error.
	st := backends.NewFileSystemStorage(t.TempDir(), "/media/").(backends.Lister)
	if err := st.List(context.Background(), func(backends.FileInfo) error { return errors.New("called") }); err != nil {
		t.Errorf("List of an empty root: %v", err)
	}
}

// TestFileSystemListFollowsLinks: a folder of the root that is a symbolic
// link to another disk's folder is listed as that folder, under the link's
// path, as Open reads its files; a link to a file is listed as the file; a
// root that is a link is walked where it points. A link that gives the same
// files a second name (to a folder inside the root, to one inside another
// linked folder, to an ancestor) fails the listing with ErrAliasedFiles.
func TestFileSystemListFollowsLinks(t *testing.T) {
	write := func(p string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("12345"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link := func(target, name string) {
		t.Helper()
		if err := os.Symlink(target, name); err != nil {
			t.Skipf("symbolic links: %v", err)
		}
	}
	list := func(root string) ([]string, error) {
		var got []string
		err := backends.NewFileSystemStorage(root, "/media/").(backends.Lister).List(context.Background(), func(f backends.FileInfo) error {
			if f.Size != 5 {
				t.Errorf("%s: size %d, want the target's 5", f.Name, f.Size)
			}
			got = append(got, f.Name)
			return nil
		})
		sort.Strings(got)
		return got, err
	}
	setup := func() (root, elsewhere string) {
		root, elsewhere = t.TempDir(), t.TempDir()
		write(filepath.Join(root, "thumbnails", "a_small.png"))
		write(filepath.Join(elsewhere, "foods", "a.jpg"))
		write(filepath.Join(elsewhere, "single.jpg"))
		link(filepath.Join(elsewhere, "foods"), filepath.Join(root, "foods"))
		link(filepath.Join(elsewhere, "single.jpg"), filepath.Join(root, "single.jpg"))
		return root, elsewhere
	}

	root, _ := setup()
	got, err := list(root)
	want := []string{"foods/a.jpg", "single.jpg", "thumbnails/a_small.png"}
	if err != nil || strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("List = %v, %v\nwant %v", got, err, want)
	}
	st := backends.NewFileSystemStorage(root, "/media/")
	for _, name := range want {
		r, err := st.Open(context.Background(), name)
		if err != nil {
			t.Errorf("Open(%q) of a listed name: %v", name, err)
			continue
		}
		_ = r.Close()
	}
	linkedRoot := filepath.Join(t.TempDir(), "media")
	link(root, linkedRoot)
	if got, err := list(linkedRoot); err != nil || strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("List of a root that is a link = %v, %v\nwant %v", got, err, want)
	}

	aliases := map[string]func(root, elsewhere string){
		"a link into the root":          func(root, _ string) { link(filepath.Join(root, "thumbnails"), filepath.Join(root, "legacy")) },
		"a link to the root":            func(root, _ string) { link(root, filepath.Join(root, "thumbnails", "up")) },
		"a link into a linked folder":   func(root, e string) { link(filepath.Join(e, "foods"), filepath.Join(root, "more")) },
		"a link around a linked folder": func(root, e string) { link(e, filepath.Join(root, "all")) },
		"a loop inside a linked folder": func(_, e string) { link(e, filepath.Join(e, "foods", "loop")) },
	}
	for name, alias := range aliases {
		root, elsewhere := setup()
		alias(root, elsewhere)
		if got, err := list(root); !errors.Is(err, backends.ErrAliasedFiles) {
			t.Errorf("%s: List = %v, %v; want ErrAliasedFiles", name, got, err)
		}
	}
}

// TestFileSystemListRelativeRoot: a relative root (the default, "media")
// finds the aliases that links with absolute targets make, as an absolute
// root does.
func TestFileSystemListRelativeRoot(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.MkdirAll(filepath.Join("media", "foods"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("media", "foods", "a.jpg"), []byte("12345"), 0o644); err != nil {
		t.Fatal(err)
	}
	lister := backends.NewFileSystemStorage("media", "/media/").(backends.Lister)
	var names []string
	collect := func(f backends.FileInfo) error { names = append(names, f.Name); return nil }
	if err := lister.List(context.Background(), collect); err != nil || len(names) != 1 || names[0] != "foods/a.jpg" {
		t.Fatalf("List = %v, %v; want foods/a.jpg", names, err)
	}
	if err := os.Symlink(filepath.Join(dir, "media", "foods"), filepath.Join("media", "legacy")); err != nil {
		t.Skipf("symbolic links: %v", err)
	}
	names = nil
	if err := lister.List(context.Background(), collect); !errors.Is(err, backends.ErrAliasedFiles) {
		t.Errorf("List with an absolute link into a relative root = %v, %v; want ErrAliasedFiles", names, err)
	}
}

// TestFileSystemListWhileFilesGo deletes files and a folder while they are
// listed (a save's clean-up, a delete, during Prune): what went is left
// out, and the listing goes on.
func TestFileSystemListWhileFilesGo(t *testing.T) {
	root := t.TempDir()
	for _, name := range []string{"a1", "a2", "a3", "z/b1", "z/b2"} {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	st := backends.NewFileSystemStorage(root, "/media/").(backends.Lister)
	var listed []string
	err := st.List(context.Background(), func(f backends.FileInfo) error {
		if len(listed) == 0 { // the rest goes while the first is listed
			for _, name := range []string{"a2", "z"} {
				if err := os.RemoveAll(filepath.Join(root, name)); err != nil {
					t.Fatal(err)
				}
			}
		}
		listed = append(listed, f.Name)
		return nil
	})
	if err != nil || !slices.Equal(listed, []string{"a1", "a3"}) {
		t.Errorf("List while files go = %v, %v; want [a1 a3]", listed, err)
	}
}
