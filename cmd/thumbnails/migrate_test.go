package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"gorm.io/driver/sqlite"
	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails/backends"
	"github.com/gorm-thumbnails/thumbnails/internal/testdb"
)

// TestMigrateMetadataToRedis copies the database's records to Redis, under
// a prefix of the test's own, and lists a row from there.
func TestMigrateMetadataToRedis(t *testing.T) {
	if os.Getenv(testdb.RedisAddrEnv) == "" {
		t.Skip(testdb.RedisAddrEnv + " is not set: skipping the Redis run")
	}
	forEachDB(t, func(t *testing.T, dsn string) {
		client := testdb.Redis(t)
		prefix := testdb.RedisPrefix(t, client)
		addr := os.Getenv(testdb.RedisAddrEnv)
		f := newFixture(t, dsn, sizesYAML)
		f.createFoods(t, 5)
		inRedis := []string{"--redis", addr, "--redis-prefix", prefix}

		r := mustRun(t, append(f.args("migrate-metadata", "--from", "database", "--to", "redis", "--dry-run"), inRedis...)...)
		if !strings.HasPrefix(r.stdout, "would copy 5 sources from database to redis, 0 failed in ") {
			t.Errorf("dry run: %s", r)
		}
		keys, err := client.Keys(context.Background(), prefix+":*").Result()
		if err != nil || len(keys) != 0 {
			t.Fatalf("the dry run wrote keys %q (%v)", keys, err)
		}

		r = mustRun(t, append(f.args("migrate-metadata", "--from", "database", "--to", "redis"), inRedis...)...)
		if !strings.HasPrefix(r.stdout, "copied 5 sources from database to redis, 0 failed in ") {
			t.Errorf("migrate: %s", r)
		}
		keys, err = client.Keys(context.Background(), prefix+":thumbnails:*").Result()
		if err != nil || len(keys) != 5 {
			t.Fatalf("keys %q (%v), want 5", keys, err)
		}

		fromDB := mustRun(t, f.args("list", "--id", "1")...)
		fromRedis := mustRun(t, append(f.args("list", "--id", "1"), inRedis...)...)
		if fromRedis.stdout != fromDB.stdout || strings.Count(fromDB.stdout, "\n") != 2 {
			t.Errorf("list from Redis:\n%s\nfrom the database:\n%s", fromRedis.stdout, fromDB.stdout)
		}

		// the plugin works on the Redis records: the database's stay as they are
		mustRun(t, append(f.args("delete", "--size", "small"), inRedis...)...)
		if r := mustRun(t, append(f.args("list", "--id", "1"), inRedis...)...); !strings.HasPrefix(r.stdout, "medium ") || strings.Count(r.stdout, "\n") != 1 {
			t.Errorf("list from Redis after delete: %s", r)
		}
		if r := mustRun(t, f.args("list", "--id", "1")...); r.stdout != fromDB.stdout {
			t.Errorf("list from the database after delete in Redis: %s", r)
		}
		r = mustRun(t, append(f.args("regenerate", "--only-missing"), inRedis...)...)
		if m := summaryLine.FindStringSubmatch(r.stdout); m == nil || m[1] != "5" {
			t.Errorf("regenerate in Redis: %s", r)
		}
		if r := mustRun(t, append(f.args("list", "--id", "1"), inRedis...)...); strings.Count(r.stdout, "\n") != 2 {
			t.Errorf("list from Redis after regenerate: %s", r)
		}

		r = mustRun(t, append(f.args("migrate-metadata", "--from", "redis", "--to", "database"), inRedis...)...)
		if !strings.HasPrefix(r.stdout, "copied 5 sources from redis to database, 0 failed in ") {
			t.Errorf("migrate back: %s", r)
		}
	})
}

// TestMigrateMetadataDryRunWritesNothing checks that a dry run creates no
// metadata tables in a database that has none, in either direction.
func TestMigrateMetadataDryRunWritesNothing(t *testing.T) {
	if os.Getenv(testdb.RedisAddrEnv) == "" {
		t.Skip(testdb.RedisAddrEnv + " is not set: skipping the Redis run")
	}
	client := testdb.Redis(t)
	prefix := testdb.RedisPrefix(t, client)
	dsn := filepath.Join(t.TempDir(), "fresh.db")
	db, err := gorm.Open(sqlite.Open(dsn), &gorm.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if sqlDB, err := db.DB(); err == nil {
		defer sqlDB.Close()
	}
	if err := db.Exec("CREATE TABLE foods (id integer primary key, image text)").Error; err != nil {
		t.Fatal(err)
	}
	redisFlags := []string{"--dsn", dsn, "--redis", os.Getenv(testdb.RedisAddrEnv), "--redis-prefix", prefix, "--dry-run"}
	for _, dir := range [][]string{{"--from", "redis", "--to", "database"}, {"--from", "database", "--to", "redis"}} {
		r := mustRun(t, append(append([]string{"migrate-metadata"}, dir...), redisFlags...)...)
		if !strings.HasPrefix(r.stdout, "would copy 0 sources") {
			t.Errorf("dry run %v: %s", dir, r)
		}
		if dir[1] == "redis" && !strings.Contains(r.stderr, "no thumbnails are recorded in Redis under prefix "+strconv.Quote(prefix)) {
			t.Errorf("dry run %v of an empty prefix: no note on stderr: %s", dir, r)
		}
	}
	if db.Migrator().HasTable(backends.SourcesTable) {
		t.Error("a dry run created the metadata tables")
	}
}
