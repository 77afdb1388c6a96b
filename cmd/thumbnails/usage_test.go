package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestUsageErrors: a bad command line exits 2 with one line on stderr.
func TestUsageErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testdbFile(t), sizesYAML)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", f.args("regenerate", "--bogus"), "unknown flag: --bogus"},
		{"unknown subcommand", []string{"regenrate"}, `unknown command "regenrate" (did you mean "regenerate"?)`},
		{"no subcommand", nil, "a subcommand is required"},
		{"argument", f.args("prune", "extra"), `prune: takes no arguments, got "extra"`},
		{"missing --table", []string{"regenerate", "--dsn", f.dsn, "--column", "image", "--sizes", f.sizes}, "regenerate: --table is required"},
		{"missing --dsn", []string{"list", "--table", "foods", "--column", "image", "--id", "1"}, "list: --dsn is required"},
		{"missing --size", f.args("delete"), "delete: --size is required"},
		{"missing --id", f.args("list"), "list: --id is required"},
		{"bad --workers", f.args("regenerate", "--workers", "-1"), "--workers must be 0"},
		{"not a number", f.args("regenerate", "--workers", "many"), `invalid argument "many" for "--workers"`},
		{"empty id", f.args("regenerate", "--ids", "1,,2"), "empty primary key"},
		{"bad --min-age", f.args("prune", "--min-age", "soon"), `invalid argument "soon" for "--min-age"`},
		{"bad --also", f.args("prune", "--also", "users"), `--also "users": want TABLE.COLUMN`},
		{"migrate without --redis", []string{"migrate-metadata", "--dsn", f.dsn, "--from", "database", "--to", "redis"}, "--redis is required"},
		{"migrate to itself", []string{"migrate-metadata", "--dsn", f.dsn, "--redis", "127.0.0.1:1", "--from", "redis", "--to", "redis"}, "--from and --to are both redis"},
		{"migrate to elsewhere", []string{"migrate-metadata", "--dsn", f.dsn, "--redis", "127.0.0.1:1", "--from", "database", "--to", "s3"}, `got "s3"`},
		{"size not in the YAML", f.args("regenerate", "--size", "huge"), `regenerate: --size "huge" is not in`},
		// an unset shell variable: not every size
		{"empty --size", f.args("regenerate", "--size", ""), `regenerate: --size names no size: name one of ` + f.sizes + `, or leave --size out`},
		{"empty --size beside another", f.args("regenerate", "--size", "small", "--size", ""), `regenerate: --size names no size`},
		{"empty name in --size", f.args("regenerate", "--size", "small,"), `regenerate: --size names no size`},
		{"empty --size, delete", f.args("delete", "--size", ""), "delete: --size is required"},
		{"--background not a colour", f.args("regenerate", "--background", "blue"), `regenerate: --background "blue": want #rrggbb, #rrggbbaa, white, black or transparent`},
		{"--dir outside the storage", f.args("regenerate", "--dir", "../x"), `regenerate: --dir "../x": want a relative folder`},
		{"hidden --base-dir", f.args("prune", "--base-dir", "thumbs/.cache"), `prune: --base-dir "thumbs/.cache"`},
		{"bad --redis URL", f.args("list", "--id", "1", "--redis", "redis://127.0.0.1/abc"), `list: --redis redis://127.0.0.1/abc: redis: invalid database number`},
		{"--redis user info without a scheme", f.args("list", "--id", "1", "--redis", "app:pw@127.0.0.1:6379"), `list: --redis "xxxxx@127.0.0.1:6379": want host:port or a redis:// URL`},
		{"--redis not an address", f.args("list", "--id", "1", "--redis", "localhost"), `list: --redis "localhost": want host:port`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, runCmd(t, tc.args...), exitUsage, tc.want)
		})
	}
}

// TestRuntimeErrors: a command line that is right but cannot be carried out
// exits 1 with one line on stderr.
func TestRuntimeErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testdbFile(t), sizesYAML)
	f.createFoods(t, 2)
	db := f.open(t, "")
	if err := db.Create(&Food{}).Error; err != nil { // row 3: no image
		t.Fatal(err)
	}
	closeDB(t, db)
	missing := f
	missing.dsn = filepath.Join(t.TempDir(), "no", "such.db")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"missing database", missing.args("regenerate", "--table", "nope"), "open database: stat "},
		{"no such table", f.args("regenerate", "--table", "nope"), "no such table: nope"},
		{"no such column", f.args("delete", "--size", "small", "--column", "nope"), `--column "nope": foods has no such column`},
		{"sizes file missing", f.args("regenerate", "--sizes", filepath.Join(t.TempDir(), "none.yaml")), "--sizes: "},
		{"no such row", f.args("list", "--id", "99"), "list: foods has no row with id = 99"},
		{"row without image", f.args("list", "--id", "3"), "list: the row of foods with id = 3 has no image in image"},
		{"redis down", f.args("list", "--id", "1", "--redis", "127.0.0.1:1"), "redis at 127.0.0.1:1: "},
		// a column the table lacks, whether or not keys are given to parse
		{"no such --pk", f.args("regenerate", "--pk", "nosuch"), `--pk "nosuch": foods has no such column`},
		{"no such --pk, with --ids", f.args("regenerate", "--pk", "nosuch", "--ids", "1"), `--pk "nosuch": foods has no such column`},
		{"no such --pk, with --after", f.args("regenerate", "--pk", "nosuch", "--after", "1"), `--pk "nosuch": foods has no such column`},
		{"no such --pk, list", f.args("list", "--pk", "nosuch", "--id", "1"), `--pk "nosuch": foods has no such column`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCmd(t, tc.args...)
			wantError(t, r, exitFailure, tc.want)
			if r.stdout != "" { // no summary of a run that handled nothing
				t.Errorf("stdout: %q", r.stdout)
			}
		})
	}
	if _, err := os.Stat(filepath.Dir(missing.dsn)); !os.IsNotExist(err) {
		t.Errorf("a database was created for a missing --dsn: %v", err)
	}
}

// TestRefusalsCreateNothing: a run refused before its work begins, for its
// command line (exit 2), for a --storage-root that does not exist, or for
// a --table (or prune's --also table) the database lacks or a --column,
// --pk (regenerate and delete), --focus (regenerate) or --also column the
// table lacks, or a --pk that is neither its primary key nor unique
// (exit 1), leaves a database the plugin has never used
// without the plugin's tables.
func TestRefusalsCreateNothing(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "none")
	for _, tc := range []struct {
		name string
		args []string // after the global flags
		code int
		want string
	}{
		{"regenerate, missing --storage-root", []string{"regenerate", "--storage-root", missing}, exitFailure, "--storage-root"},
		{"delete, missing --storage-root", []string{"delete", "--size", "small", "--storage-root", missing}, exitFailure, "--storage-root"},
		{"prune, missing --storage-root", []string{"prune", "--storage-root", missing}, exitFailure, "--storage-root"},
		{"regenerate, size not in the YAML", []string{"regenerate", "--size", "huge"}, exitUsage, `regenerate: --size "huge" is not in`},
		{"regenerate, --ids not integers", []string{"regenerate", "--ids", "1,abc"}, exitUsage, `primary key "abc": foods.id is an integer column`},
		{"regenerate, --after not an integer", []string{"regenerate", "--after", "abc"}, exitUsage, `primary key "abc": foods.id is an integer column`},
		{"regenerate, no such --pk, with --ids", []string{"regenerate", "--pk", "nosuch", "--ids", "1"}, exitFailure, `--pk "nosuch": foods has no such column`},
		{"regenerate, no such --pk", []string{"regenerate", "--pk", "nosuch"}, exitFailure, `--pk "nosuch": foods has no such column`},
		{"regenerate, no such --column", []string{"regenerate", "--column", "nosuch"}, exitFailure, `--column "nosuch": foods has no such column`},
		{"regenerate, no such --focus", []string{"regenerate", "--focus", "nosuch"}, exitFailure, `--focus "nosuch": foods has no such column`},
		{"regenerate, no such --table", []string{"regenerate", "--table", "nosuch"}, exitFailure, "no such table: nosuch"},
		{"delete, no such --table", []string{"delete", "--size", "small", "--table", "nosuch"}, exitFailure, "no such table: nosuch"},
		{"delete, no such --column", []string{"delete", "--size", "small", "--column", "nosuch"}, exitFailure, `--column "nosuch": foods has no such column`},
		{"delete, no such --pk", []string{"delete", "--size", "small", "--pk", "nosuch"}, exitFailure, `--pk "nosuch": foods has no such column`},
		{"regenerate, --pk not unique", []string{"regenerate", "--pk", "image"}, exitFailure, `--pk "image": foods.image is neither the primary key of foods nor unique`},
		{"regenerate, dry run, --pk not unique", []string{"regenerate", "--dry-run", "--pk", "image"}, exitFailure, `--pk "image": foods.image is neither the primary key of foods nor unique`},
		{"delete, --pk not unique", []string{"delete", "--size", "small", "--pk", "image"}, exitFailure, `--pk "image": foods.image is neither the primary key of foods nor unique`},
		{"delete, dry run, no such --column", []string{"delete", "--size", "small", "--dry-run", "--column", "nosuch"}, exitFailure, `--column "nosuch": foods has no such column`},
		{"prune, no such --table", []string{"prune", "--table", "nosuch"}, exitFailure, "no such table: nosuch"},
		{"prune, no such --column", []string{"prune", "--column", "nosuch"}, exitFailure, `--column "nosuch": foods has no such column`},
		{"prune, dry run, no such --column", []string{"prune", "--dry-run", "--column", "nosuch"}, exitFailure, `--column "nosuch": foods has no such column`},
		{"prune, forced, no such --column", []string{"prune", "--force", "--column", "nosuch"}, exitFailure, `--column "nosuch": foods has no such column`},
		{"prune, no such --also table", []string{"prune", "--also", "users.avatar"}, exitFailure, `--also "users.avatar": read the columns of users`},
		{"prune, no such --also column", []string{"prune", "--also", "foods.nosuch"}, exitFailure, `--also "foods.nosuch": foods has no such column`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, testdbFile(t), sizesYAML)
			db := f.plainFoods(t)
			wantError(t, runCmd(t, append(f.args(tc.args[0]), tc.args[1:]...)...), tc.code, tc.want)
			tables, err := db.Migrator().GetTables()
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(tables) != "[foods]" {
				t.Errorf("the refused run left the tables %v", tables)
			}
		})
	}
}

// TestHelp: every subcommand's help has examples.
func TestHelp(t *testing.T) {
	t.Parallel()
	r := mustRun(t, "--help")
	for _, sub := range []string{"regenerate", "delete", "prune", "migrate-metadata", "list"} {
		if !strings.Contains(r.stdout, "\n  "+sub+" ") {
			t.Errorf("--help does not list %s:\n%s", sub, r.stdout)
		}
		if h := mustRun(t, sub, "--help"); !strings.Contains(h.stdout, "Examples:\n  ") && !strings.Contains(h.stdout, "Example") {
			t.Errorf("%s --help has no example:\n%s", sub, h.stdout)
		}
	}
}

// testdbFile returns the path of an empty SQLite database file of the test.
func testdbFile(t *testing.T) string {
	t.Helper()
	p := writeFile(t, t.TempDir(), "test.db", "")
	return p
}

// TestErrorsHidePasswords: a DSN or Redis URL that cannot be used is not
// printed whole in the error: its password stays out of terminals and logs.
func TestErrorsHidePasswords(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testdbFile(t), sizesYAML)
	const secret = "Hunter2SecretPw"
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"--redis URL with a bad escape", f.args("list", "--id", "1", "--redis", "redis://:"+secret+"%zz@127.0.0.1:6379/0")},
		{"--redis URL with a bad database", f.args("list", "--id", "1", "--redis", "redis://:"+secret+"@127.0.0.1:6379/abc")},
		{"SQLite DSN with a bad escape", append(f.args("list", "--id", "1"), "--dsn", f.dsn+"?_auth_pass="+secret+"%zz")},
		{"keyword PostgreSQL DSN", append(f.args("list", "--id", "1"), "--dsn", "host=127.0.0.1 user=postgres password="+secret+" dbname=test")},
		{"PostgreSQL URL with a typo in its scheme", append(f.args("list", "--id", "1"), "--dsn", "postgress://app:"+secret+"@127.0.0.1:5432/test")},
		{"PostgreSQL URL with a space first", append(f.args("list", "--id", "1"), "--dsn", " postgres://app:"+secret+"@127.0.0.1:5432/test")},
		{"--redis URL with a password in its query", f.args("list", "--id", "1", "--redis", "redis://127.0.0.1:6379/0?password="+secret+"&bogus=1")},
		{"--redis URL with a password in its query and a bad host", f.args("list", "--id", "1", "--redis", "redis://[::1/0?password="+secret)},
		{"--redis user and password without a scheme", f.args("list", "--id", "1", "--redis", "default:"+secret+"@127.0.0.1:6379")},
		{"--redis password without a scheme", f.args("list", "--id", "1", "--redis", secret+"@127.0.0.1:6379")},
		{"--redis URL of a Redis that does not answer", f.args("list", "--id", "1", "--redis", "redis://default:"+secret+"@127.0.0.1:1/0")},
		{"PostgreSQL URL with a typo and a bad query", append(f.args("list", "--id", "1"), "--dsn", "postgress://app:"+secret+"@127.0.0.1:5432/test?sslmode=%zz")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCmd(t, tc.args...)
			if r.code == 0 || strings.Contains(r.stderr+r.stdout, secret) {
				t.Errorf("exit %d, output shows the password:\n%s", r.code, r)
			}
		})
	}
}

// TestPasswordShapesHidden: a --redis or PostgreSQL --dsn URL whose
// password holds a character URLs reserve ("?", "#", "/", "@", "%", ":"),
// unescaped, shows no part of it (no 3 characters in a row) on stdout or
// stderr, and exits as documented: 2 where the URL's parser would not read
// the password as it was meant, or not at all (go-redis reads a "/", "?",
// "#" or bad "%" escape as the end of the user info, pgx a "/" or "@"), 1
// where it reads it and the server does not answer. A password that starts
// with digits makes the part before the character a valid port.
func TestPasswordShapesHidden(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testdbFile(t), sizesYAML)
	const down = "127.0.0.1:1" // nothing listens there
	type shape struct {
		name     string
		args     []string
		password string
		code     int
	}
	var shapes []shape
	for _, c := range []string{"?", "#", "/", "@", "%", ":"} {
		redisCode, pgCode := exitFailure, exitFailure
		if strings.Contains("?#/%", c) {
			redisCode = exitUsage
		}
		if strings.Contains("/@", c) {
			pgCode = exitUsage
		}
		for _, pw := range []string{"Qz7" + c + "Wv9Kx", "4711" + c + "Wv9Kx"} {
			for _, user := range []string{"app", ""} {
				shapes = append(shapes, shape{
					"--redis redis://" + user + ":" + pw + "@", f.args("list", "--id", "1", "--redis", "redis://"+user+":"+pw+"@"+down+"/0"), pw, redisCode,
				})
			}
			shapes = append(shapes, shape{
				"--dsn postgres://app:" + pw + "@", append(f.args("list", "--id", "1"), "--dsn", "postgres://app:"+pw+"@"+down+"/test"), pw, pgCode,
			})
		}
	}
	for _, tc := range shapes {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := runCmd(t, tc.args...)
			for i := 0; i+3 <= len(tc.password); i++ {
				if part := tc.password[i : i+3]; strings.Contains(r.stdout+r.stderr, part) {
					t.Errorf("the output shows %q of the password %q:\n%s", part, tc.password, r)
					break
				}
			}
			if r.code != tc.code {
				t.Errorf("exit status %d, want %d:\n%s", r.code, tc.code, r)
			}
		})
	}
}

// TestQueryAtIsNoUserInfo: an "@" in the value of a query parameter of a
// --redis or PostgreSQL --dsn URL (client_name=ops@host,
// application_name=ops@host, an Azure-style user=admin@server) is no part
// of its user info: the URL is not refused as one whose password holds an
// unescaped character, it goes to go-redis or pgx (exit 1 here, as nothing
// listens there), and a message that prints it prints it as given, with
// its password alone hidden.
func TestQueryAtIsNoUserInfo(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testdbFile(t), sizesYAML)
	const (
		down   = "127.0.0.1:1" // nothing listens there
		secret = "Hunter2SecretPw"
	)
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"--redis client_name", f.args("list", "--id", "1", "--redis", "redis://"+down+"/0?client_name=ops@host"), exitFailure, ""},
		{"--redis password and client_name", f.args("list", "--id", "1", "--redis", "redis://app:"+secret+"@"+down+"/0?client_name=ops@host"), exitFailure, ""},
		{"--redis bad database, client_name", f.args("list", "--id", "1", "--redis", "redis://"+down+"/abc?client_name=ops@host"), exitUsage,
			"--redis redis://" + down + "/abc?client_name=ops@host: redis: invalid database number"},
		{"--redis bad database, password and client_name", f.args("list", "--id", "1", "--redis", "redis://app:"+secret+"@"+down+"/abc?client_name=ops@host"), exitUsage,
			"--redis redis://app:xxxxx@" + down + "/abc?client_name=ops@host: redis: invalid database number"},
		{"--dsn application_name", append(f.args("list", "--id", "1"), "--dsn", "postgres://"+down+"/test?sslmode=disable&user=postgres&application_name=ops@host"), exitFailure, ""},
		{"--dsn Azure-style user", append(f.args("list", "--id", "1"), "--dsn", "postgres://"+down+"/test?sslmode=disable&user=admin@server"), exitFailure, ""},
		{"--dsn socket and application_name", append(f.args("list", "--id", "1"), "--dsn", "postgres:///test?host=/nonexistent&application_name=a@b"), exitFailure, ""},
		{"--dsn password and application_name", append(f.args("list", "--id", "1"), "--dsn", "postgres://app:"+secret+"@"+down+"/test?application_name=ops@host"), exitFailure, ""},
		{"--dsn typo in its scheme, application_name", append(f.args("list", "--id", "1"), "--dsn", "postgress://app:"+secret+"@"+down+"/test?application_name=ops@host"), exitUsage,
			"--dsn postgress://app:xxxxx@" + down + "/test?application_name=ops@host: want a postgres:// URL"},
		{"--dsn typo in its scheme, socket and application_name", append(f.args("list", "--id", "1"), "--dsn", "postgress:///test?host=/nonexistent&application_name=a@b"), exitUsage,
			"--dsn postgress:///test?host=/nonexistent&application_name=a@b: want a postgres:// URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := runCmd(t, tc.args...)
			wantError(t, r, tc.code, tc.want)
			if strings.Contains(r.stdout+r.stderr, secret) || strings.Contains(r.stderr, "percent-encode") {
				t.Errorf("the output shows the password or refuses the user info:\n%s", r)
			}
		})
	}
}

// TestColumnNamesInTheDatabasesCase: SQLite takes a column's name in any
// case, and so do the commands; on PostgreSQL, where gorm quotes names and
// "Image" is not image, a --column, --pk or --also column in another case
// is refused before anything is created.
func TestColumnNamesInTheDatabasesCase(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn, sizesYAML)
		db := f.plainFoods(t)
		for _, args := range [][]string{
			{"delete", "--size", "small", "--column", "IMAGE"},
			{"delete", "--size", "small", "--pk", "ID"},
			{"prune", "--also", "foods.Image"},
			{"regenerate", "--column", "Image"},
		} {
			r := runCmd(t, append(f.args(args[0]), args[1:]...)...)
			if strings.HasPrefix(dsn, "postgres") {
				wantError(t, r, exitFailure, "has no such column")
				continue
			}
			if r.code != 0 {
				t.Errorf("%v on SQLite: exit %d, %s", args, r.code, r.stderr)
			}
		}
		if strings.HasPrefix(dsn, "postgres") {
			tables, err := db.Migrator().GetTables()
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(tables) != "[foods]" {
				t.Errorf("the refused runs left the tables %v", tables)
			}
		}
	})
}

// TestKeyNamesOneRow: a --pk column must name one row: the table's primary
// key (of that column alone), or a column with a unique constraint or a
// unique index of its own (neither partial nor on several columns). Any
// other is refused by regenerate, delete and list before anything is
// done (exit 1, as for a --pk the table lacks): rows that share a value
// would be skipped by the --after an interrupted run prints, and list --id
// would pick one of them. A unique column that is NULL in a row with an
// image is refused by regenerate and delete too: no --after or --ids can
// name that row. (TestRefusalsCreateNothing checks that a refused --pk
// creates nothing.)
func TestKeyNamesOneRow(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn, sizesYAML)
		db := f.plainFoods(t)
		for _, q := range []string{
			`CREATE TABLE items (id integer PRIMARY KEY, image text, name text, code text UNIQUE, ref text, free text,
				slug text NOT NULL, part text, title text, a integer, b integer,
				CONSTRAINT items_ref UNIQUE (ref), UNIQUE (free), UNIQUE (a, b))`,
			"CREATE UNIQUE INDEX items_slug ON items (slug)",
			"CREATE UNIQUE INDEX items_part ON items (part) WHERE part <> 'p'",
			"CREATE UNIQUE INDEX items_lower_title ON items (lower(title))",
			"INSERT INTO items VALUES (1, 'items/1.jpg', 'dup', 'c1', 'r1', 'f1', 's1', 'p', 't1', 1, 1), (2, 'items/2.jpg', 'dup', 'c2', 'r2', 'f2', 's2', 'p', 't2', 1, 2)",
			"CREATE TABLE pairs (a integer, b integer, image text, PRIMARY KEY (a, b))",
			"INSERT INTO pairs VALUES (1, 1, 'pairs/1.jpg'), (1, 2, 'pairs/2.jpg')",
			"CREATE TABLE coded (code text, image text, PRIMARY KEY (code))",
			"INSERT INTO coded VALUES ('x', 'coded/x.jpg')",
			"CREATE VIEW shown AS SELECT id, image FROM items", // no keys to tell: taken at the operator's word
		} {
			if err := db.Exec(q).Error; err != nil {
				t.Fatal(err)
			}
		}
		mustRun(t, f.args("delete", "--size", "small")...) // the plugin's tables, for list
		for _, tc := range []struct{ table, pk, rows string }{
			{"items", "id", "2 rows"},
			{"items", "code", "2 rows"}, // UNIQUE
			{"items", "ref", "2 rows"},  // CONSTRAINT ... UNIQUE
			{"items", "free", "2 rows"}, // UNIQUE (free)
			{"items", "slug", "2 rows"}, // CREATE UNIQUE INDEX
			{"items", "name", ""},       // "dup" twice
			{"items", "title", ""},      // unique only as lower(title)
			{"items", "part", ""},       // unique only where part <> 'p'
			{"items", "a", ""},          // unique only with b
			{"pairs", "a", ""},          // primary key only with b
			{"coded", "code", "1 row"},  // PRIMARY KEY (code)
			{"shown", "id", "2 rows"},   // a view
		} {
			t.Run(tc.table+"."+tc.pk, func(t *testing.T) {
				runs := [][]string{{"regenerate", "--dry-run"}, {"delete", "--size", "small", "--dry-run"}}
				if tc.rows == "" { // refused, dry run or not
					runs = append(runs, []string{"regenerate"}, []string{"delete", "--size", "small"})
				}
				for _, args := range runs {
					r := runCmd(t, append(append(f.args(args[0]), args[1:]...), "--table", tc.table, "--pk", tc.pk)...)
					switch {
					case tc.rows == "":
						wantError(t, r, exitFailure, fmt.Sprintf(`--pk %q: %s.%s is neither the primary key of %s nor unique`, tc.pk, tc.table, tc.pk, tc.table))
					case args[0] == "regenerate" && !strings.Contains(r.stdout, "would regenerate "+tc.rows+", 0 skipped, 0 failed"),
						r.code != 0:
						t.Errorf("%v: %s", args, r)
					}
				}
				id := map[string]string{"id": "1", "code": "c1", "ref": "r1", "free": "f1", "slug": "s1", "name": "dup", "title": "t1", "part": "p", "a": "1"}[tc.pk]
				if tc.table == "coded" {
					id = "x"
				}
				r := runCmd(t, append(f.args("list", "--id", id), "--table", tc.table, "--pk", tc.pk)...)
				if tc.rows == "" {
					wantError(t, r, exitFailure, "is neither the primary key")
				} else if r.code != 0 || !strings.Contains(r.stderr, "no thumbnails recorded for") {
					t.Errorf("list: %s", r)
				}
			})
		}

		// a unique column without a value in a row with an image
		if err := db.Exec("UPDATE items SET code = NULL WHERE id = 2").Error; err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{{"regenerate", "--dry-run"}, {"delete", "--size", "small"}} {
			r := runCmd(t, append(append(f.args(args[0]), args[1:]...), "--table", "items", "--pk", "code")...)
			wantError(t, r, exitFailure, `--pk "code": 1 row of items with an image has no value in code (NULL)`)
		}
		mustRun(t, append(f.args("list", "--id", "c1"), "--table", "items", "--pk", "code")...)
	})
}
