package backends_test

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails/backends"
	"github.com/gorm-thumbnails/thumbnails/internal/testdb"
	"github.com/gorm-thumbnails/thumbnails/migrations"
)

// metadataStores are the Metadata implementations every contract test runs on.
var metadataStores = []struct {
	name string
	open func(t *testing.T) backends.Metadata
}{
	{"sqlite", func(t *testing.T) backends.Metadata { return openDatabaseMetadata(t, testdb.SQLite(t, "")) }},
	{"postgres", func(t *testing.T) backends.Metadata { return openDatabaseMetadata(t, testdb.Postgres(t)) }},
	{"redis", openRedisMetadata},
	{"redis-ring", func(t *testing.T) backends.Metadata {
		client := testdb.RedisRing(t)
		return backends.NewRedisMetadata(client, testdb.RedisPrefix(t, client))
	}},
	{"redis-cluster", func(t *testing.T) backends.Metadata {
		client := testdb.RedisCluster(t)
		return backends.NewRedisMetadata(client, testdb.RedisPrefix(t, client))
	}},
}

func openDatabaseMetadata(t *testing.T, db *gorm.DB) backends.Metadata {
	t.Helper()
	if err := migrations.Apply(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	return backends.NewDatabaseMetadata(db)
}

// openRedisMetadata returns a Redis metadata store under a key prefix of the
// test's own, removed at the end, or skips without THUMBNAILS_TEST_REDIS_ADDR.
func openRedisMetadata(t *testing.T) backends.Metadata {
	t.Helper()
	client := testdb.Redis(t)
	return backends.NewRedisMetadata(client, testdb.RedisPrefix(t, client))
}

func forEachMetadata(t *testing.T, fn func(t *testing.T, m backends.Metadata)) {
	for _, s := range metadataStores {
		t.Run(s.name, func(t *testing.T) { fn(t, s.open(t)) })
	}
}

func thumb(source, size string, w, h int) backends.Thumbnail {
	stem := strings.TrimSuffix(source, ".jpg")
	return backends.Thumbnail{Source: source, Size: size, Name: "thumbnails/" + stem + "_" + size + ".jpg", Width: w, Height: h}
}

func TestMetadataContract(t *testing.T) {
	forEachMetadata(t, func(t *testing.T, m backends.Metadata) {
		ctx := context.Background()
		a, b := "foods/a b é.jpg", "foods/b.jpg"
		if err := m.Put(ctx, a, thumb(a, "small", 100, 100), thumb(a, "large", 1200, 800)); err != nil {
			t.Fatal(err)
		}
		if err := m.Put(ctx, b, thumb(b, "small", 100, 100)); err != nil {
			t.Fatal(err)
		}
		checkThumbs(t, thumbs(t, m, a), map[string]backends.Thumbnail{"small": thumb(a, "small", 100, 100), "large": thumb(a, "large", 1200, 800)})

		// putting again replaces, and is not an error
		if err := m.Put(ctx, a, thumb(a, "large", 1000, 600)); err != nil {
			t.Fatal(err)
		}
		if got := thumbs(t, m, a)["large"]; got.Width != 1000 || got.Height != 600 {
			t.Fatalf("large after a second Put = %+v", got)
		}
		// one size twice in one Put: the last one wins (PostgreSQL failed
		// it: ON CONFLICT DO UPDATE cannot affect a row twice)
		if err := m.Put(ctx, a, thumb(a, "large", 900, 500), thumb(a, "large", 800, 400)); err != nil {
			t.Fatalf("Put of one size twice: %v", err)
		}
		if got := thumbs(t, m, a); got["large"].Width != 800 || got["large"].Height != 400 || len(got) != 2 {
			t.Fatalf("after a Put of one size twice: %+v; want the last large, 800x400", got)
		}

		// a batch: every source once, missing ones absent
		many, err := m.ThumbnailsOf(ctx, []string{a, "foods/missing.jpg", b})
		if err != nil {
			t.Fatal(err)
		}
		if len(many) != 2 || len(many[a]) != 2 || len(many[b]) != 1 {
			t.Fatalf("ThumbnailsOf = %+v", many)
		}
		sizes := []string{many[a][0].Size, many[a][1].Size}
		sort.Strings(sizes)
		if sizes[0] != "large" || sizes[1] != "small" || many[b][0] != thumbWithoutTime(many[b][0], thumb(b, "small", 100, 100)) {
			t.Fatalf("ThumbnailsOf records = %+v", many)
		}
		if empty, err := m.ThumbnailsOf(ctx, nil); err != nil || len(empty) != 0 {
			t.Fatalf("ThumbnailsOf(nil) = %v, %v", empty, err)
		}

		if err := m.Delete(ctx, a); err != nil {
			t.Fatal(err)
		}
		if got := thumbs(t, m, a); len(got) != 0 {
			t.Fatalf("after Delete: %+v", got)
		}
		if err := m.Delete(ctx, "foods/never.jpg"); err != nil {
			t.Fatalf("Delete of an unknown source: %v", err)
		}
	})
}

// thumbWithoutTime returns want with got's CreatedAt, so the two compare equal
// when all else is.
func thumbWithoutTime(got, want backends.Thumbnail) backends.Thumbnail {
	want.CreatedAt = got.CreatedAt
	return want
}

// TestMetadataThumbnailsOfMany reads a batch larger than one SQLite
// statement could bind parameters for (chunked on PostgreSQL, one JSON
// parameter on SQLite).
func TestMetadataThumbnailsOfMany(t *testing.T) {
	forEachMetadata(t, func(t *testing.T, m backends.Metadata) {
		ctx := context.Background()
		const n = 70000 // over PostgreSQL's 65535 parameters: two chunks
		sources := make([]string, n)
		for i := range sources {
			sources[i] = fmt.Sprintf("foods/%06d.jpg", i)
		}
		for _, i := range []int{0, 1, n / 2, n - 1} {
			if err := m.Put(ctx, sources[i], thumb(sources[i], "small", i%1000+1, 7)); err != nil {
				t.Fatal(err)
			}
		}
		got, err := m.ThumbnailsOf(ctx, sources)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 4 || got[sources[n-1]][0].Width != (n-1)%1000+1 {
			t.Fatalf("ThumbnailsOf(%d sources) = %d sources: %+v", n, len(got), got[sources[n-1]])
		}
	})
}

// TestRedisDeadlineOfTheCaller asks a server that never answers, through a
// client that honours context deadlines: the caller's deadline is what
// the error says, not an outage, though go-redis reports a read timeout.
func TestRedisDeadlineOfTheCaller(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { // accepts, reads, never answers
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = io.Copy(io.Discard, conn) }()
		}
	}()
	client := redis.NewClient(&redis.Options{Addr: ln.Addr().String(), ContextTimeoutEnabled: true, MaxRetries: -1, Protocol: 2, DisableIdentity: true})
	defer client.Close()
	m := backends.NewRedisMetadata(client, "x")
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = m.Thumbnails(ctx, "a.jpg")
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, backends.ErrUnavailable) {
		t.Errorf("Thumbnails past the caller's deadline: %v; want context.DeadlineExceeded, not ErrUnavailable", err)
	}
}

// TestRedisMetadataErrors checks that Redis failures are returned, wrapped,
// and that a record that is not ours is an error rather than a zero value.
func TestRedisMetadataErrors(t *testing.T) {
	ctx := context.Background()
	down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	defer down.Close()
	m := backends.NewRedisMetadata(down, "x")
	// Every call fails with an error that says the server is unavailable,
	// and still carries the client's.
	calls := map[string]func() error{
		"Thumbnails":   func() error { _, err := m.Thumbnails(ctx, "a.jpg"); return err },
		"ThumbnailsOf": func() error { _, err := m.ThumbnailsOf(ctx, []string{"a.jpg", "{b}.jpg"}); return err },
		"Put":          func() error { return m.Put(ctx, "a.jpg", thumb("a.jpg", "small", 1, 1)) },
		"Delete":       func() error { return m.Delete(ctx, "a.jpg") },
		"DeleteSize":   func() error { return m.DeleteSize(ctx, "a.jpg", "small") },
		"Each":         func() error { return m.Each(ctx, func(string, []backends.Thumbnail) error { return nil }) },
	}
	for name, call := range calls {
		err := call()
		var op *net.OpError
		if !errors.Is(err, backends.ErrUnavailable) || !errors.As(err, &op) || !strings.Contains(err.Error(), "backends: redis") {
			t.Errorf("%s with Redis down: %v; want ErrUnavailable wrapping the *net.OpError", name, err)
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := m.Thumbnails(cancelled, "a.jpg"); !errors.Is(err, context.Canceled) || errors.Is(err, backends.ErrUnavailable) {
		t.Errorf("Thumbnails with a cancelled context: %v; want context.Canceled alone", err)
	}

	addr := os.Getenv(testdb.RedisAddrEnv)
	if addr == "" {
		t.Skip(testdb.RedisAddrEnv + " is not set: skipping the malformed-record check")
	}
	client := redis.NewClient(&redis.Options{Addr: addr})
	defer client.Close()
	prefix := "thumbnails-test-malformed-" + hex.EncodeToString([]byte(t.Name()))[:8]
	key := prefix + ":thumbnails:a.jpg"
	defer client.Del(ctx, key)
	client.HSet(ctx, key, "small", `{"name":"json from another tool"}`)
	if _, err := backends.NewRedisMetadata(client, prefix).Thumbnails(ctx, "a.jpg"); err == nil || !strings.Contains(err.Error(), "malformed") {
		t.Errorf("malformed record: %v", err)
	}
}

// TestMetadataThumbnailsOfDuplicates lists a source twice: its records come
// once.
func TestMetadataThumbnailsOfDuplicates(t *testing.T) {
	forEachMetadata(t, func(t *testing.T, m backends.Metadata) {
		ctx := context.Background()
		a := "foods/twice.jpg"
		if err := m.Put(ctx, a, thumb(a, "small", 10, 10), thumb(a, "medium", 40, 40)); err != nil {
			t.Fatal(err)
		}
		got, err := m.ThumbnailsOf(ctx, []string{a, "foods/none.jpg", a})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || len(got[a]) != 2 {
			t.Fatalf("ThumbnailsOf(a, none, a) = %+v, want a's two records once", got)
		}
	})
}

// TestMetadataThumbnailsIn reads a batch aligned with its input: the
// records of sources[i] at [i], nil for a source without any, a source
// listed twice at both places; and ThumbnailsOf is the same batch by source.
func TestMetadataThumbnailsIn(t *testing.T) {
	forEachMetadata(t, func(t *testing.T, m backends.Metadata) {
		ctx := context.Background()
		a, b := "foods/in-a.jpg", "foods/in-b.jpg"
		if err := m.Put(ctx, a, thumb(a, "small", 10, 10), thumb(a, "medium", 40, 40)); err != nil {
			t.Fatal(err)
		}
		if err := m.Put(ctx, b, thumb(b, "small", 11, 11)); err != nil {
			t.Fatal(err)
		}
		sources := []string{b, "foods/none.jpg", a, b}
		got, err := m.(backends.AlignedMetadata).ThumbnailsIn(ctx, sources)
		if err != nil {
			t.Fatal(err)
		}
		want := []int{1, 0, 2, 1}
		if len(got) != len(sources) {
			t.Fatalf("ThumbnailsIn gave %d lists for %d sources", len(got), len(sources))
		}
		for i, n := range want {
			if len(got[i]) != n {
				t.Errorf("[%d] %s: %d records %+v, want %d", i, sources[i], len(got[i]), got[i], n)
			}
			for _, r := range got[i] {
				if r.Source != sources[i] {
					t.Errorf("[%d] %s: a record of %s", i, sources[i], r.Source)
				}
			}
		}
		if got[3][0].Width != 11 {
			t.Errorf("b's record = %+v", got[3][0])
		}
		if empty, err := m.(backends.AlignedMetadata).ThumbnailsIn(ctx, nil); err != nil || len(empty) != 0 {
			t.Errorf("ThumbnailsIn(nil) = %v, %v", empty, err)
		}
	})
}

// TestMetadataEachWalksAll walks every source exactly once, with its
// records, on every store: on a Cluster or Ring client the sources spread
// over the nodes, and a walk that saw one node only would have Prune
// delete the files of the others.
func TestMetadataEachWalksAll(t *testing.T) {
	forEachMetadata(t, func(t *testing.T, m backends.Metadata) {
		ctx := context.Background()
		want := map[string]bool{}
		for i := range 40 {
			s := fmt.Sprintf("foods/each-%02d.jpg", i)
			if err := m.Put(ctx, s, thumb(s, "small", 10, 10)); err != nil {
				t.Fatal(err)
			}
			want[s] = true
		}
		seen := map[string]int{}
		err := m.Each(ctx, func(source string, list []backends.Thumbnail) error {
			seen[source]++
			if len(list) != 1 || list[0].Size != "small" {
				t.Errorf("%s: %+v", source, list)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for s := range want {
			if seen[s] != 1 {
				t.Errorf("%s walked %d times, want once", s, seen[s])
			}
		}
		if len(seen) != len(want) {
			t.Errorf("walked %d sources, want %d", len(seen), len(want))
		}
	})
}

// TestRedisRingShardDown refuses to walk a Ring one of whose shards is
// down: the records on it would be missing from the walk, and Prune would
// take their files for orphans.
func TestRedisRingShardDown(t *testing.T) {
	up := testdb.Redis(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := l.Addr().String()
	_ = l.Close() // nothing listens there any more
	ring := redis.NewRing(&redis.RingOptions{
		Addrs:              map[string]string{"up": up.Options().Addr, "down": down},
		HeartbeatFrequency: 10 * time.Millisecond,
	})
	defer ring.Close()
	m := backends.NewRedisMetadata(ring, testdb.RedisPrefix(t, up))
	ctx := context.Background()
	deadline := time.Now().Add(10 * time.Second)
	for len(ring.GetShardClients()) > 1 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond) // until the heartbeat marks the shard down
	}
	if n := len(ring.GetShardClients()); n != 1 {
		t.Fatalf("%d live shards, want 1", n)
	}
	err = m.Each(ctx, func(string, []backends.Thumbnail) error { return nil })
	if !errors.Is(err, backends.ErrUnavailable) {
		t.Fatalf("Each with a shard down: %v, want ErrUnavailable", err)
	}
}

// TestMetadataKeepsCreatedAt: a record put with its CreatedAt (a copy, as
// MigrateMetadata makes) keeps it, read alone and walked by Each (whose
// records a copy takes); one without gets the Put's time.
func TestMetadataKeepsCreatedAt(t *testing.T) {
	forEachMetadata(t, func(t *testing.T, m backends.Metadata) {
		ctx := context.Background()
		s := "foods/created.jpg"
		then := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
		old := thumb(s, "small", 10, 10)
		old.CreatedAt = then
		before := time.Now().Add(-time.Second)
		if err := m.Put(ctx, s, old, thumb(s, "medium", 40, 40)); err != nil {
			t.Fatal(err)
		}
		got, err := m.Thumbnails(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		if c := got["small"].CreatedAt; !c.Equal(then) {
			t.Errorf("small: CreatedAt %v, want %v", c, then)
		}
		if c := got["medium"].CreatedAt; c.Before(before) || c.After(time.Now().Add(time.Second)) {
			t.Errorf("medium: CreatedAt %v, want the time of the Put", c)
		}
		walked := map[string]time.Time{}
		err = m.Each(ctx, func(source string, list []backends.Thumbnail) error {
			for _, r := range list {
				walked[r.Size] = r.CreatedAt
			}
			return nil
		})
		if err != nil || !walked["small"].Equal(then) || !walked["medium"].Equal(got["medium"].CreatedAt) {
			t.Errorf("Each: %v, %v; want small at %v, medium at %v", walked, err, then, got["medium"].CreatedAt)
		}
	})
}

// TestMetadataRecordsSourceWithoutThumbnails: Put with no thumbnails
// records the source (an upload whose sizes are all lazy), and deleting a
// source's last size keeps it recorded: Each walks both, with no
// thumbnails, until Delete. A walk that missed them would have Prune take
// their files for orphans.
func TestMetadataRecordsSourceWithoutThumbnails(t *testing.T) {
	forEachMetadata(t, func(t *testing.T, m backends.Metadata) {
		ctx := context.Background()
		lazy, braced, emptied := "foods/lazy.jpg", "foods/{lazy}.jpg", "foods/emptied.jpg"
		for _, s := range []string{lazy, braced} {
			if err := m.Put(ctx, s); err != nil {
				t.Fatal(err)
			}
		}
		if err := m.Put(ctx, emptied, thumb(emptied, "small", 10, 10)); err != nil {
			t.Fatal(err)
		}
		if err := m.DeleteSize(ctx, emptied, "small"); err != nil {
			t.Fatal(err)
		}
		walk := func() map[string]int {
			seen := map[string]int{}
			err := m.Each(ctx, func(source string, list []backends.Thumbnail) error {
				seen[source] += 1 + len(list)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			return seen
		}
		if got, want := walk(), map[string]int{lazy: 1, braced: 1, emptied: 1}; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("Each walked %v; want %v (each source once, no thumbnails)", got, want)
		}
		for _, s := range []string{lazy, braced, emptied} {
			if got := thumbs(t, m, s); len(got) != 0 {
				t.Errorf("Thumbnails(%q) = %+v; want none", s, got)
			}
		}
		many, err := m.ThumbnailsOf(ctx, []string{lazy, braced, emptied})
		if err != nil || len(many) != 0 {
			t.Errorf("ThumbnailsOf = %+v, %v; want no thumbnails", many, err)
		}
		if err := m.Put(ctx, lazy, thumb(lazy, "large", 1200, 800)); err != nil {
			t.Fatal(err)
		}
		if got := thumbs(t, m, lazy); len(got) != 1 || got["large"].Width != 1200 {
			t.Errorf("after a lazy size's Put: %+v", got)
		}
		for _, s := range []string{lazy, braced, emptied} {
			if err := m.Delete(ctx, s); err != nil {
				t.Fatal(err)
			}
		}
		if got := walk(); len(got) != 0 {
			t.Errorf("after Delete, Each walked %v", got)
		}
	})
}

// TestRedisOldHashKeepsItsSource: a hash written before sources had their
// own field (without it) keeps its source recorded when DeleteSize deletes
// its last size, with a summary and without one (a braced name).
func TestRedisOldHashKeepsItsSource(t *testing.T) {
	ctx := context.Background()
	client := testdb.Redis(t)
	prefix := testdb.RedisPrefix(t, client)
	m := backends.NewRedisMetadata(client, prefix)
	for _, source := range []string{"foods/old.jpg", "foods/{old}.jpg"} {
		if err := m.Put(ctx, source, thumb(source, "small", 10, 10)); err != nil {
			t.Fatal(err)
		}
		if err := client.HDel(ctx, prefix+":thumbnails:"+source, "").Err(); err != nil { // as written before
			t.Fatal(err)
		}
		if err := m.DeleteSize(ctx, source, "small"); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]int{}
	err := m.Each(ctx, func(source string, thumbs []backends.Thumbnail) error {
		seen[source] = len(thumbs)
		return nil
	})
	if err != nil || len(seen) != 2 || seen["foods/old.jpg"] != 0 || seen["foods/{old}.jpg"] != 0 {
		t.Errorf("Each after the last size's DeleteSize: %v, %v; want both sources, without thumbnails", seen, err)
	}
	// DeleteSize of a source never recorded records nothing
	if err := m.DeleteSize(ctx, "foods/never.jpg", "small"); err != nil {
		t.Fatal(err)
	}
	if n, err := client.Exists(ctx, prefix+":thumbnails:foods/never.jpg").Result(); err != nil || n != 0 {
		t.Errorf("DeleteSize of an unknown source made its hash: %d, %v", n, err)
	}
}
