// Package testdb opens the databases the module's tests run on, each one of
// the test's own and removed when the test ends: a fresh SQLite file, the
// test PostgreSQL in a schema of its own, and the test Redis under a key
// prefix of its own. PostgreSQL and Redis are reached through the variables
// named by PostgresDSNEnv and RedisAddrEnv; a test that needs one of them is
// skipped when its variable is unset.
//
// The package is internal: only the module's tests import it.
package testdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

const (
	// PostgresDSNEnv names the variable holding the DSN of the test
	// PostgreSQL, for example
	// postgres://postgres@127.0.0.1:5432/test?sslmode=disable.
	PostgresDSNEnv = "THUMBNAILS_TEST_POSTGRES_DSN"
	// RedisAddrEnv names the variable holding the address of the test
	// Redis, for example 127.0.0.1:6379.
	RedisAddrEnv = "THUMBNAILS_TEST_REDIS_ADDR"
)

// GormConfig returns a new gorm configuration with a silent logger, the one
// the databases of this package are opened with.
func GormConfig() *gorm.Config {
	return &gorm.Config{Logger: logger.Default.LogMode(logger.Silent)}
}

// Open opens d with GormConfig and closes it at the end of the test.
func Open(t testing.TB, d gorm.Dialector) *gorm.DB {
	t.Helper()
	return OpenWith(t, d, GormConfig())
}

// OpenWith opens d with cfg and closes it at the end of the test.
func OpenWith(t testing.TB, d gorm.Dialector, cfg *gorm.Config) *gorm.DB {
	t.Helper()
	db, err := gorm.Open(d, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if sqlDB, err := db.DB(); err == nil {
			_ = sqlDB.Close()
		}
	})
	return db
}

// SQLiteDSN returns the DSN of a fresh SQLite database file under the test's
// temp dir, with a busy timeout of 5s. params is appended to the DSN's query
// string as it is, so it starts with "&": "&_foreign_keys=1", or "" for none.
func SQLiteDSN(t testing.TB, params string) string {
	return filepath.Join(t.TempDir(), "test.db") + "?_busy_timeout=5000" + params
}

// SQLite opens a fresh SQLite database file under the test's temp dir, closed
// at the end of the test; params is as for SQLiteDSN.
func SQLite(t testing.TB, params string) *gorm.DB {
	t.Helper()
	return Open(t, sqlite.Open(SQLiteDSN(t, params)))
}

// PostgresDSN creates a schema of the test's own in the test PostgreSQL and
// returns the DSN that uses it (through search_path). The schema is dropped,
// with all it holds, at the end of the test, after the connections the test
// opened later are closed. It skips the test when PostgresDSNEnv is unset.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(PostgresDSNEnv)
	if dsn == "" {
		t.Skip(PostgresDSNEnv + " is not set: skipping the PostgreSQL run")
	}
	schema := "t_" + randomHex()
	admin, err := gorm.Open(postgres.Open(dsn), GormConfig())
	if err != nil {
		t.Fatal(err)
	}
	if err := admin.Exec("CREATE SCHEMA " + schema).Error; err != nil {
		t.Fatal(err)
	}
	// Registered before the test's own connections are opened, so that it
	// runs after they are closed.
	t.Cleanup(func() {
		if err := admin.Exec("DROP SCHEMA " + schema + " CASCADE").Error; err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
		if sqlDB, err := admin.DB(); err == nil {
			_ = sqlDB.Close()
		}
	})
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "search_path=" + schema
}

// Postgres opens the test PostgreSQL in a schema of the test's own (see
// PostgresDSN), closed and dropped at the end of the test; it skips the test
// when PostgresDSNEnv is unset.
func Postgres(t testing.TB) *gorm.DB {
	t.Helper()
	return Open(t, postgres.Open(PostgresDSN(t)))
}

// Redis connects to the test Redis and checks that it answers a PING; the
// client is closed at the end of the test. It skips the test when
// RedisAddrEnv is unset, and fails it when Redis does not answer.
func Redis(t testing.TB) *redis.Client {
	t.Helper()
	addr := os.Getenv(RedisAddrEnv)
	if addr == "" {
		t.Skip(RedisAddrEnv + " is not set: skipping the Redis run")
	}
	client := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { _ = client.Close() })
	if err := client.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("redis at %s: %v", addr, err)
	}
	return client
}

// RedisRing returns a Ring client of two shards on the test Redis, each
// its own database (0 and 1) of the one server, so that a test sees what
// a Ring spreads over its shards; the client is closed at the end of the
// test. It skips the test when RedisAddrEnv is unset.
func RedisRing(t testing.TB) *redis.Ring {
	t.Helper()
	addr := os.Getenv(RedisAddrEnv)
	if addr == "" {
		t.Skip(RedisAddrEnv + " is not set: skipping the Redis Ring run")
	}
	dbs := map[string]int{"shard-a": 0, "shard-b": 1}
	ring := redis.NewRing(&redis.RingOptions{
		Addrs: map[string]string{"a": "shard-a", "b": "shard-b"},
		NewClient: func(opt *redis.Options) *redis.Client {
			opt.DB = dbs[opt.Addr]
			opt.Dialer = func(ctx context.Context, network, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, network, addr)
			}
			return redis.NewClient(opt)
		},
	})
	t.Cleanup(func() { _ = ring.Close() })
	if err := ring.ForEachShard(context.Background(), func(ctx context.Context, c *redis.Client) error {
		return c.Ping(ctx).Err()
	}); err != nil {
		t.Fatalf("redis ring at %s: %v", addr, err)
	}
	return ring
}

// RedisPrefix returns a random key prefix of the test's own; c's keys under
// it (prefix + ":*") are deleted at the end of the test, before c is closed
// when c came from Redis earlier in the same test.
func RedisPrefix(t testing.TB, c redis.UniversalClient) string {
	prefix := "thumbnails-test-" + randomHex()
	t.Cleanup(func() {
		ctx := context.Background()
		clean := func(ctx context.Context, c redis.Cmdable) error {
			iter := c.Scan(ctx, 0, prefix+":*", 1000).Iterator()
			for iter.Next(ctx) {
				c.Del(ctx, iter.Val())
			}
			return iter.Err()
		}
		if cc, ok := c.(*redis.ClusterClient); ok {
			_ = cc.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error { return clean(ctx, node) })
			return
		}
		if ring, ok := c.(*redis.Ring); ok {
			_ = ring.ForEachShard(ctx, func(ctx context.Context, shard *redis.Client) error { return clean(ctx, shard) })
			return
		}
		_ = clean(ctx, c)
	})
	return prefix
}

// randomHex returns 12 random hex digits.
func randomHex() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
