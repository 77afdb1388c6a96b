package main

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gorm.io/driver/sqlite"

	"github.com/gorm-thumbnails/thumbnails/field"
	"github.com/gorm-thumbnails/thumbnails/internal/testdb"
)

// summaryLine is regenerate's last line on stdout.
var summaryLine = regexp.MustCompile(`(?m)^regenerated (\d+) rows?, (\d+) skipped, (\d+) failed(?:, \d+ interrupted)? in \d+\.\ds \(\d+ rows/s\)$`)

// TestCommands runs list, delete, regenerate and prune in turn on the same
// five rows, checking the files on disk and the metadata through the
// library after each.
func TestCommands(t *testing.T) {
	forEachDB(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn, sizesYAML)
		f.createFoods(t, 5)
		before := f.thumbs(t)
		if len(before) != 5 {
			t.Fatalf("%d rows, want 5", len(before))
		}
		old := time.Now().Add(-2 * time.Hour)

		t.Run("list", func(t *testing.T) {
			r := mustRun(t, f.args("list", "--id", "1")...)
			lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
			if len(lines) != 2 { // small and medium: large is lazy
				t.Fatalf("want 2 lines: %s", r)
			}
			for i, size := range []string{"medium", "small"} {
				th := before[1][size]
				want := []string{size, th.Name, fmt.Sprintf("%dx%d", th.Width, th.Height), "/media/" + th.Name}
				if got := strings.Fields(lines[i]); strings.Join(got, " ") != strings.Join(want, " ") {
					t.Errorf("line %d: %q, want fields %q", i, lines[i], want)
				}
			}
			if !strings.Contains(lines[1], " 100x100 ") {
				t.Errorf("small is not 100x100: %q", lines[1])
			}
		})

		t.Run("delete dry run", func(t *testing.T) {
			r := mustRun(t, f.args("delete", "--size", "small", "--dry-run")...)
			if !strings.Contains(r.stdout, "would delete size small of 5 rows, 0 without it, 0 failed") {
				t.Errorf("summary: %s", r)
			}
			for id, all := range f.thumbs(t) {
				if _, ok := all["small"]; !ok || !f.exists(t, all["small"].Name) {
					t.Errorf("row %d lost its small thumbnail in a dry run", id)
				}
			}
		})

		t.Run("delete", func(t *testing.T) {
			r := mustRun(t, f.args("delete", "--size", "small")...)
			if !strings.Contains(r.stdout, "deleted size small of 5 rows, 0 without it, 0 failed") {
				t.Errorf("summary: %s", r)
			}
			if strings.Contains(r.stderr, "is not in") {
				t.Errorf("a configured size noted as not configured: %s", r)
			}
			after := f.thumbs(t)
			for id := range before {
				if _, ok := after[id]["small"]; ok {
					t.Errorf("row %d: small still recorded", id)
				}
				if f.exists(t, before[id]["small"].Name) {
					t.Errorf("row %d: %s still on disk", id, before[id]["small"].Name)
				}
				if after[id]["medium"] != before[id]["medium"] || !f.exists(t, before[id]["medium"].Name) {
					t.Errorf("row %d: medium changed: %+v", id, after[id]["medium"])
				}
			}
			for _, th := range before[1] { // for the steps below: only what they make is new
				if err := os.Chtimes(f.path(th.Name), old, old); err != nil && !os.IsNotExist(err) {
					t.Fatal(err)
				}
			}
			for id := range before {
				if err := os.Chtimes(f.path(before[id]["medium"].Name), old, old); err != nil {
					t.Fatal(err)
				}
			}
		})

		t.Run("regenerate dry run", func(t *testing.T) {
			r := mustRun(t, f.args("regenerate", "--only-missing", "--dry-run")...)
			if !strings.Contains(r.stdout, "would regenerate 5 rows, 0 skipped, 0 failed") {
				t.Errorf("summary: %s", r)
			}
			for id, all := range f.thumbs(t) {
				if _, ok := all["small"]; ok {
					t.Errorf("row %d got its small thumbnail in a dry run", id)
				}
			}
		})

		t.Run("regenerate only missing", func(t *testing.T) {
			r := mustRun(t, f.args("regenerate", "--only-missing")...)
			if m := summaryLine.FindStringSubmatch(r.stdout); m == nil || m[1] != "5" || m[2] != "0" || m[3] != "0" {
				t.Errorf("summary: %s", r)
			}
			after := f.thumbs(t)
			for id := range before {
				small := after[id]["small"]
				if w, h := f.imageSize(t, small.Name); w != 100 || h != 100 || small.Width != 100 || small.Height != 100 {
					t.Errorf("row %d: small is %dx%d on disk, %dx%d recorded", id, w, h, small.Width, small.Height)
				}
				if !modTime(t, f.path(after[id]["medium"].Name)).Equal(old) {
					t.Errorf("row %d: medium was remade", id)
				}
			}
		})

		t.Run("regenerate one size of some rows", func(t *testing.T) {
			r := mustRun(t, f.args("regenerate", "--size", "medium", "--ids", "2,3")...)
			if m := summaryLine.FindStringSubmatch(r.stdout); m == nil || m[1] != "2" {
				t.Errorf("summary: %s", r)
			}
			if strings.Contains(r.stderr, "note:") {
				t.Errorf("a note, though every key has a row: %s", r)
			}
			// a key without a row is noted, not an error
			r = mustRun(t, f.args("regenerate", "--size", "medium", "--ids", "2,999", "--only-missing")...)
			if !strings.Contains(r.stderr, "note: 1 of the 2 keys --ids names have no row in foods") {
				t.Errorf("no note of the key without a row: %s", r)
			}
			for id, all := range f.thumbs(t) {
				remade := !modTime(t, f.path(all["medium"].Name)).Equal(old)
				if remade != (id == 2 || id == 3) {
					t.Errorf("row %d: medium remade: %v", id, remade)
				}
			}
		})

		t.Run("regenerate after a size changed", func(t *testing.T) {
			yaml := strings.Replace(sizesYAML, "width: 100, height: 100", "width: 50, height: 50", 1)
			changed := writeFile(t, t.TempDir(), "sizes.yaml", yaml)
			args := f.args("regenerate", "--size", "small")
			args = append(args, "--sizes", changed) // the last one wins
			r := mustRun(t, args...)
			if m := summaryLine.FindStringSubmatch(r.stdout); m == nil || m[1] != "5" {
				t.Errorf("summary: %s", r)
			}
			for id, all := range f.thumbs(t) {
				small := all["small"]
				if w, h := f.imageSize(t, small.Name); w != 50 || h != 50 || small.Width != 50 || small.Height != 50 {
					t.Errorf("row %d: small is %dx%d on disk, %dx%d recorded", id, w, h, small.Width, small.Height)
				}
			}
		})

		t.Run("prune", func(t *testing.T) {
			dir := filepath.Join(f.root, "thumbnails", "foods")
			stray := writeFile(t, dir, "stray_small.png", "left by a crash")
			if err := os.Chtimes(stray, old, old); err != nil {
				t.Fatal(err)
			}
			young := writeFile(t, dir, "young_small.png", "an upload in flight")

			r := mustRun(t, f.args("prune", "--dry-run")...)
			want := "file    thumbnails/foods/stray_small.png\nfound 1 file, 0 sources, 0 records (dry run: nothing removed)\n"
			if r.stdout != want {
				t.Errorf("dry run: %s\nwant stdout:\n%s", r, want)
			}
			if !f.exists(t, "thumbnails/foods/stray_small.png") {
				t.Error("the dry run removed the stray file")
			}

			r = mustRun(t, f.args("prune")...)
			if !strings.HasPrefix(r.stdout, "file    thumbnails/foods/stray_small.png\nremoved 1 file, 0 sources, 0 records, 0 lost sources kept, 0 failed in ") {
				t.Errorf("prune: %s", r)
			}
			if _, err := os.Stat(stray); !os.IsNotExist(err) {
				t.Errorf("stray file still there: %v", err)
			}
			if _, err := os.Stat(young); err != nil {
				t.Errorf("young file removed: %v", err)
			}
			for id, all := range f.thumbs(t) {
				if len(all) != 2 {
					t.Errorf("row %d: %d thumbnails, want 2", id, len(all))
				}
				for _, th := range all {
					if !f.exists(t, th.Name) {
						t.Errorf("row %d: %s removed", id, th.Name)
					}
				}
			}
		})

		t.Run("delete a size no longer configured", func(t *testing.T) {
			before := f.thumbs(t)
			yaml := sizesYAML[:strings.Index(sizesYAML, "medium:")] + sizesYAML[strings.Index(sizesYAML, "large:"):]
			withoutMedium := writeFile(t, t.TempDir(), "sizes.yaml", yaml)
			args := append(f.args("delete", "--size", "medium"), "--sizes", withoutMedium)
			r := mustRun(t, args...)
			if !strings.Contains(r.stdout, "deleted size medium of 5 rows, 0 without it, 0 failed") {
				t.Errorf("summary: %s", r)
			}
			if want := `delete: size "medium" is not in ` + withoutMedium; !strings.Contains(r.stderr, want) {
				t.Errorf("no note that the size is not configured (%q): %s", want, r)
			}
			for id, all := range f.thumbs(t) {
				if _, ok := all["medium"]; ok || f.exists(t, before[id]["medium"].Name) {
					t.Errorf("row %d: medium still there", id)
				}
				if all["small"] != before[id]["small"] {
					t.Errorf("row %d: small changed", id)
				}
			}
		})
	})
}

// modTime returns the modification time of the file at p.
func modTime(t *testing.T, p string) time.Time {
	t.Helper()
	info, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return info.ModTime()
}

// TestAsyncSizes runs the commands with the application's YAML, in which a
// size is async (made by background jobs after a save): the command makes
// it itself, and needs no job queue.
func TestAsyncSizes(t *testing.T) {
	f := newFixture(t, testdb.SQLiteDSN(t, ""), sizesYAML)
	f.createFoods(t, 2)
	app := f
	app.sizes = writeFile(t, t.TempDir(), "async.yaml", strings.Replace(sizesYAML, "  lazy: true\n", "  async: true\n", 1))
	mustRun(t, app.args("regenerate", "--size", "large")...)
	for id, th := range f.thumbs(t) {
		if l, ok := th["large"]; !ok || l.Width != 1200 || !f.exists(t, l.Name) {
			t.Errorf("row %d: large %+v after regenerate", id, l)
		}
	}
	mustRun(t, app.args("delete", "--size", "large", "--dry-run")...)
	mustRun(t, app.args("prune", "--dry-run")...)
}

// TestRegenerateBackground: a transparent source's JPEG size is flattened
// onto --background, the application's Config.Background (white, the
// plugin's default, without the flag).
func TestRegenerateBackground(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testdb.SQLiteDSN(t, ""), "small:\n  processors: [{path: resize, width: 50, height: 50}]\n  format: jpeg\n")
	db := f.open(t, "")
	if err := db.AutoMigrate(&Food{}); err != nil {
		t.Fatal(err)
	}
	var clear bytes.Buffer
	if err := png.Encode(&clear, image.NewNRGBA(image.Rect(0, 0, 100, 100))); err != nil { // every pixel transparent
		t.Fatal(err)
	}
	if err := db.Create(&Food{Image: field.NewImage("clear.png", &clear)}).Error; err != nil {
		t.Fatal(err)
	}
	closeDB(t, db)
	for _, tc := range []struct {
		name string
		args []string
		want color.NRGBA
	}{
		{"default", nil, color.NRGBA{255, 255, 255, 255}},
		{"black", []string{"--background", "black"}, color.NRGBA{0, 0, 0, 255}},
		{"#rrggbb", []string{"--background", "#3366CC"}, color.NRGBA{0x33, 0x66, 0xcc, 255}},
		{"white again", []string{"--background", "white"}, color.NRGBA{255, 255, 255, 255}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mustRun(t, append(f.args("regenerate"), tc.args...)...)
			file, err := os.Open(f.path(f.thumbs(t)[1]["small"].Name))
			if err != nil {
				t.Fatal(err)
			}
			defer file.Close()
			img, _, err := image.Decode(file)
			if err != nil {
				t.Fatal(err)
			}
			got := color.NRGBAModel.Convert(img.At(25, 25)).(color.NRGBA)
			near := func(a, b uint8) bool { return max(a, b)-min(a, b) <= 4 } // JPEG's loss
			if !near(got.R, tc.want.R) || !near(got.G, tc.want.G) || !near(got.B, tc.want.B) {
				t.Errorf("the centre of small is %v, want %v", got, tc.want)
			}
		})
	}
}

// TestDryRunsCreateNothing runs the dry runs on a database the plugin has
// never used: they succeed, and leave it without the plugin's tables.
func TestDryRunsCreateNothing(t *testing.T) {
	forEachDB(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn, sizesYAML)
		db := f.plainFoods(t)
		if err := db.Exec("INSERT INTO foods (id, image) VALUES (1, 'foods/a.jpg')").Error; err != nil {
			t.Fatal(err)
		}
		before, err := db.Migrator().GetTables()
		if err != nil {
			t.Fatal(err)
		}
		mustRun(t, f.args("delete", "--size", "small", "--dry-run")...)
		mustRun(t, f.args("prune", "--dry-run")...)
		mustRun(t, f.args("regenerate", "--dry-run")...)
		after, err := db.Migrator().GetTables()
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(after) != fmt.Sprint(before) {
			t.Errorf("tables before %v, after the dry runs %v", before, after)
		}
	})
}

// TestDryRunsLockNothing runs the dry runs on a SQLite database of many
// rows while another connection writes to it, with a busy timeout shorter
// than the runs: a dry run holds no lock, so no write fails (the command
// adds _txlock=immediate, so a dry run in a transaction held the write lock
// from its start to its end).
func TestDryRunsLockNothing(t *testing.T) {
	f := newFixture(t, testdb.SQLiteDSN(t, ""), sizesYAML)
	f.createFoods(t, 1)
	file, _, _ := strings.Cut(f.dsn, "?")
	writer := testdb.Open(t, sqlite.Open(file+"?_busy_timeout=200"))
	err := writer.Exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 400000)
		INSERT INTO foods (image) SELECT (SELECT image FROM foods WHERE id = 1) FROM n`).Error
	if err != nil {
		t.Fatal(err)
	}
	if err := writer.Exec("CREATE TABLE notes (id integer PRIMARY KEY, body text)").Error; err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		f.args("delete", "--size", "small", "--dry-run"),
		f.args("prune", "--dry-run"),
		f.args("regenerate", "--dry-run"),
	} {
		cmd := exec.Command(binary, args...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		writes, failed := 0, 0
		var firstErr error
	loop:
		for {
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("thumbnails %s: %v\n%s", args[0], err, out.String())
				}
				break loop
			default:
			}
			writes++
			if err := writer.Exec("INSERT INTO notes (body) VALUES ('written during the dry run')").Error; err != nil {
				failed++
				if firstErr == nil {
					firstErr = err
				}
			}
			time.Sleep(2 * time.Millisecond)
		}
		if failed > 0 {
			t.Errorf("%s --dry-run: %d of %d writes beside it failed, the first with %v", args[0], failed, writes, firstErr)
		}
		if writes < 2 {
			t.Errorf("%s --dry-run: only %d writes beside it; it ran too fast to tell", args[0], writes)
		}
	}
}

// TestRegenerateBadRows: a row whose --focus column holds no focal point
// ("1.5,0.2" is outside the image, "7" is no "x,y") fails alone, printed
// with its key, as does a row whose image column holds no source name (a
// blob on SQLite): the other rows are regenerated and the run exits 1. A
// size that does not crop around the focal point is made for those rows
// all the same, and a row whose image is NULL is no row to do.
func TestRegenerateBadRows(t *testing.T) {
	forEachDB(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn, sizesYAML+"focal:\n  processors: [{path: focal, width: 200, height: 200}]\n  lazy: true\n")
		f.createFoods(t, 6)
		odd := "x'00ff'"
		if strings.HasPrefix(dsn, "postgres") {
			odd = "'foods/no/such.jpg'"
		}
		db := f.openPlain(t)
		for _, q := range []string{
			"ALTER TABLE foods ADD COLUMN focus text",
			"UPDATE foods SET focus = '0.5,0.5'",
			"UPDATE foods SET focus = '1.5,0.2' WHERE id = 2",
			"UPDATE foods SET focus = '7' WHERE id = 4",
			"UPDATE foods SET image = " + odd + " WHERE id = 6",
			"INSERT INTO foods (id, image) VALUES (7, NULL)",
		} {
			if err := db.Exec(q).Error; err != nil {
				t.Fatal(err)
			}
		}
		closeDB(t, db)
		focal := func() []uint {
			var ids []uint
			for id, all := range f.thumbs(t) {
				if th, ok := all["focal"]; ok && f.exists(t, th.Name) {
					ids = append(ids, id)
				}
			}
			slices.Sort(ids)
			return ids
		}

		r := runCmd(t, f.args("regenerate", "--size", "focal", "--focus", "focus", "--workers", "1")...)
		if r.code != exitFailure || !strings.Contains(r.stdout, "regenerated 3 rows, 0 skipped, 3 failed") {
			t.Errorf("want 3 rows regenerated, 3 failed, exit 1: %s", r)
		}
		for _, want := range []string{
			`row 2: focus column focus: field: invalid focal point: "1.5,0.2"`,
			`row 4: focus column focus: field: invalid focal point: "7"`,
			"row 6: ",
			"thumbnails: 3 rows failed",
		} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("stderr does not say %q: %s", want, r)
			}
		}
		if got := focal(); fmt.Sprint(got) != "[1 3 5]" {
			t.Errorf("rows %v have their focal size, want [1 3 5]", got)
		}

		// the dry run tells the same
		r = runCmd(t, f.args("regenerate", "--size", "focal", "--focus", "focus", "--dry-run")...)
		if r.code != exitFailure || !strings.Contains(r.stdout, "would regenerate 4 rows, 0 skipped, 2 failed") {
			t.Errorf("dry run: want 4 rows, 2 failed (row 6 is only opened in a real run), exit 1: %s", r)
		}

		// a size that does not use the focal point is made for rows 2 and 4
		r = runCmd(t, f.args("regenerate", "--size", "small", "--focus", "focus")...)
		if r.code != exitFailure || !strings.Contains(r.stdout, "regenerated 5 rows, 0 skipped, 1 failed") || strings.Contains(r.stderr, "focal point") {
			t.Errorf("want 5 rows regenerated, row 6 failed: %s", r)
		}
	})
}

// TestSummariesOfOne: a count of one takes the singular in the summaries
// and progress lines: prune's "1 lost source kept", migrate-metadata's
// "1 source".
func TestSummariesOfOne(t *testing.T) {
	f := newFixture(t, testdb.SQLiteDSN(t, ""), sizesYAML)
	f.createFoods(t, 1)
	db := f.openPlain(t)
	var sources []string
	if err := db.Table("foods").Pluck("image", &sources).Error; err != nil || len(sources) != 1 {
		t.Fatalf("source of row 1: %v, %v", sources, err)
	}
	closeDB(t, db)
	if err := os.Remove(f.path(sources[0])); err != nil { // lost: rows still reference it
		t.Fatal(err)
	}
	r := mustRun(t, f.args("prune")...)
	if !strings.Contains(r.stdout, "removed 0 files, 0 sources, 0 records, 1 lost source kept, 0 failed in ") {
		t.Errorf("prune: %s", r)
	}

	if os.Getenv(testdb.RedisAddrEnv) == "" {
		t.Skip(testdb.RedisAddrEnv + " is not set: skipping the Redis run")
	}
	prefix := testdb.RedisPrefix(t, testdb.Redis(t))
	r = mustRun(t, append(f.args("migrate-metadata", "--from", "database", "--to", "redis"), "--redis", os.Getenv(testdb.RedisAddrEnv), "--redis-prefix", prefix)...)
	if !strings.HasPrefix(r.stdout, "copied 1 source from database to redis, 0 failed in ") || !strings.Contains(r.stderr, "migrate-metadata: 1 source (") {
		t.Errorf("migrate-metadata: %s", r)
	}
}
