package backends_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/gorm-thumbnails/thumbnails/backends"
	"github.com/gorm-thumbnails/thumbnails/internal/testdb"
)

// pipelineCounter counts go-redis pipelines (round trips of a batch), not
// counting the setup of a new connection.
type pipelineCounter struct{ n atomic.Int64 }

func (c *pipelineCounter) DialHook(next redis.DialHook) redis.DialHook { return next }
func (c *pipelineCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return next
}
func (c *pipelineCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if name := cmds[0].Name(); name != "hello" && name != "client" { // not a new connection's setup
			c.n.Add(1)
		}
		return next(ctx, cmds)
	}
}

// wrapped hides the *redis.Client type, as a Cluster or Ring client does:
// its batches are read by HGETALL.
type wrapped struct{ *redis.Client }

// summaryKey is the documented key of source's summary.
func summaryKey(prefix, source string) string {
	return prefix + ":summaries:{" + prefix + ":thumbnails:" + source + "}"
}

// sorted returns the records of a batch sorted by size, times cleared.
func sorted(recs []backends.Thumbnail) []backends.Thumbnail {
	out := make([]backends.Thumbnail, len(recs))
	copy(out, recs)
	for i := range out {
		out[i].CreatedAt = out[i].CreatedAt.UTC()
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Size < out[j].Size })
	return out
}

// countedRedis returns the test Redis, a key prefix of the test's own, the
// counter of the client's pipelines, and a metadata store on them.
func countedRedis(t *testing.T) (*redis.Client, string, *pipelineCounter, backends.AlignedMetadata) {
	client := testdb.Redis(t)
	prefix := testdb.RedisPrefix(t, client)
	counter := &pipelineCounter{}
	client.AddHook(counter)
	return client, prefix, counter, backends.NewRedisMetadata(client, prefix).(backends.AlignedMetadata)
}

// TestRedisSummaries checks that each write keeps a source's summary equal
// to its hash, that a batch on a single node reads summaries in one
// pipeline and gives what HGETALL gives, and that the summary goes with
// the hash.
func TestRedisSummaries(t *testing.T) {
	ctx := context.Background()
	client, prefix, counter, m := countedRedis(t)
	byHash := backends.NewRedisMetadata(wrapped{client}, prefix).(backends.AlignedMetadata)

	a, b, c := "foods/a.jpg", "foods/b:with 1:colons.jpg", "foods/c.jpg"
	steps := []struct {
		name string
		do   func() error
	}{
		{"put a", func() error { return m.Put(ctx, a, thumb(a, "small", 10, 10), thumb(a, "medium", 40, 27)) }},
		{"put b", func() error { return m.Put(ctx, b, thumb(b, "small", 11, 11)) }},
		{"add a size", func() error { return m.Put(ctx, a, thumb(a, "large", 120, 80)) }},
		{"replace a size", func() error { return m.Put(ctx, a, thumb(a, "small", 12, 12)) }},
		{"delete a size", func() error { return m.DeleteSize(ctx, a, "medium") }},
		{"delete b's last size", func() error { return m.DeleteSize(ctx, b, "small") }},
		{"put c", func() error { return m.Put(ctx, c, thumb(c, "small", 13, 13)) }},
		{"delete c", func() error { return m.Delete(ctx, c) }},
	}
	sources := []string{a, b, c, "foods/none.jpg"}
	for _, step := range steps {
		if err := step.do(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		before := counter.n.Load()
		got, err := m.ThumbnailsIn(ctx, sources)
		if err != nil {
			t.Fatalf("%s: ThumbnailsIn: %v", step.name, err)
		}
		if n := counter.n.Load() - before; n != 1 {
			t.Errorf("%s: %d pipelines, want 1", step.name, n)
		}
		want, err := byHash.ThumbnailsIn(ctx, sources)
		if err != nil {
			t.Fatal(err)
		}
		for i, s := range sources {
			if !reflect.DeepEqual(sorted(got[i]), sorted(want[i])) {
				t.Errorf("%s: %s by summary %+v, by hash %+v", step.name, s, got[i], want[i])
			}
			hash := client.Exists(ctx, prefix+":thumbnails:"+s).Val()
			summary := client.Exists(ctx, summaryKey(prefix, s)).Val()
			if hash != summary {
				t.Errorf("%s: %s: hash exists %d, summary exists %d", step.name, s, hash, summary)
			}
		}
	}
	got, err := m.ThumbnailsIn(ctx, []string{a})
	if err != nil || len(got[0]) != 2 {
		t.Fatalf("a at the end: %+v, %v; want small and large", got, err)
	}
	for _, r := range got[0] {
		if r.Size == "small" && r.Width != 12 {
			t.Errorf("a's small is %+v, want the replaced 12x12", r)
		}
	}
}

// TestRedisHashWithoutSummary reads hashes that have no summary — written
// by an earlier version or by hand, or whose key holds a brace — among
// sources that have one: the records are all there, and only a hash
// written without its summary costs a second pipeline.
func TestRedisHashWithoutSummary(t *testing.T) {
	ctx := context.Background()
	client, prefix, counter, m := countedRedis(t)

	summarized, braced, legacy := "foods/new.jpg", "foods/{tagged}.jpg", "foods/old.jpg"
	if err := m.Put(ctx, summarized, thumb(summarized, "small", 10, 10)); err != nil {
		t.Fatal(err)
	}
	if err := m.Put(ctx, braced, thumb(braced, "small", 20, 20), thumb(braced, "medium", 40, 40)); err != nil {
		t.Fatal(err)
	}
	if n := client.Exists(ctx, summaryKey(prefix, braced)).Val(); n != 0 {
		t.Errorf("a source whose key holds a brace has a summary")
	}
	sources := []string{summarized, braced, "foods/none.jpg"}
	before := counter.n.Load()
	got, err := m.ThumbnailsIn(ctx, sources)
	if err != nil || len(got[0]) != 1 || len(got[1]) != 2 || got[2] != nil {
		t.Fatalf("ThumbnailsIn = %+v, %v", got, err)
	}
	if n := counter.n.Load() - before; n != 1 {
		t.Errorf("with a braced source: %d pipelines, want 1", n)
	}

	// the record format, written straight into the hash
	client.HSet(ctx, prefix+":thumbnails:"+legacy, "small", "30 20 1764633600 thumbnails/old_small.jpg")
	before = counter.n.Load()
	got, err = m.ThumbnailsIn(ctx, append(sources, legacy))
	if err != nil {
		t.Fatal(err)
	}
	want := backends.Thumbnail{Source: legacy, Size: "small", Name: "thumbnails/old_small.jpg", Width: 30, Height: 20}
	if len(got[3]) != 1 || got[3][0].Name != want.Name || got[3][0].Width != 30 || got[3][0].Height != 20 {
		t.Errorf("the hash without a summary: %+v, want %+v", got[3], want)
	}
	if len(got[0]) != 1 || len(got[1]) != 2 {
		t.Errorf("the others: %+v", got)
	}
	if n := counter.n.Load() - before; n != 2 {
		t.Errorf("with a hash without a summary: %d pipelines, want 2", n)
	}
	// writing through the backend gives it its summary
	if err := m.Put(ctx, legacy, thumb(legacy, "medium", 60, 40)); err != nil {
		t.Fatal(err)
	}
	before = counter.n.Load()
	if got, err = m.ThumbnailsIn(ctx, []string{legacy}); err != nil || len(got[0]) != 2 {
		t.Errorf("after a write: %+v, %v; want small and medium", got, err)
	}
	if n := counter.n.Load() - before; n != 1 {
		t.Errorf("after a write: %d pipelines, want 1", n)
	}

	// a record that is not ours is an error on the batch path too
	client.HSet(ctx, prefix+":thumbnails:foods/json.jpg", "small", `{"name":"json from another tool"}`)
	if _, err := m.ThumbnailsIn(ctx, []string{"foods/json.jpg"}); err == nil {
		t.Error("a malformed hand-written record: no error")
	}
	client.Set(ctx, summaryKey(prefix, summarized), "5:small9:not a record", 0)
	if _, err := m.ThumbnailsIn(ctx, []string{summarized}); err == nil {
		t.Error("a malformed summary: no error")
	}
}

// commandRecorder records the text of every command of each pipeline, as
// a logging or tracing hook prints it.
type commandRecorder struct{ lines []string }

func (r *commandRecorder) DialHook(next redis.DialHook) redis.DialHook { return next }
func (r *commandRecorder) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return next
}
func (r *commandRecorder) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		for _, c := range cmds {
			if name := c.Name(); name != "hello" && name != "client" { // not a new connection's setup
				r.lines = append(r.lines, c.String())
			}
		}
		return err
	}
}

// TestRedisBatchCommandsReadable checks that a hook sees a batch's keys as
// keys (the batch hands go-redis pointers to them, to spare allocations),
// and that a summary emptied by hand is read from its hash.
func TestRedisBatchCommandsReadable(t *testing.T) {
	ctx := context.Background()
	client, prefix, _, m := countedRedis(t)
	rec := &commandRecorder{}
	client.AddHook(rec)
	a, b := "foods/a.jpg", "foods/b.jpg"
	if err := m.Put(ctx, a, thumb(a, "small", 10, 10)); err != nil {
		t.Fatal(err)
	}
	if err := m.Put(ctx, b, thumb(b, "small", 11, 11)); err != nil {
		t.Fatal(err)
	}
	rec.lines = nil
	got, err := m.ThumbnailsIn(ctx, []string{a, b})
	if err != nil || len(got[0]) != 1 || len(got[1]) != 1 {
		t.Fatalf("ThumbnailsIn = %+v, %v", got, err)
	}
	want := []string{
		"mget " + summaryKey(prefix, a) + " " + summaryKey(prefix, b) + ": [",
		"exists " + prefix + ":thumbnails:" + a + " " + prefix + ":thumbnails:" + b + ": 2",
	}
	if len(rec.lines) != len(want) {
		t.Fatalf("the batch's commands: %q, want %d", rec.lines, len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(rec.lines[i], w) {
			t.Errorf("command %d: %q, want it to start with %q", i, rec.lines[i], w)
		}
	}

	client.Set(ctx, summaryKey(prefix, b), "", 0)
	got, err = m.ThumbnailsIn(ctx, []string{a, b})
	if err != nil || len(got[1]) != 1 || got[1][0].Width != 11 {
		t.Errorf("an empty summary: %+v, %v; want b's small from its hash", got, err)
	}
}

// BenchmarkRedisThumbnailsIn reads 1,000 sources of two records each in
// one batch, by summaries (a single-node client) and by hashes (a client
// that is not a *redis.Client, as a Cluster or Ring one is not).
func BenchmarkRedisThumbnailsIn(b *testing.B) {
	ctx := context.Background()
	client := testdb.Redis(b)
	prefix := testdb.RedisPrefix(b, client)
	sources := make([]string, 1000)
	seed := backends.NewRedisMetadata(client, prefix)
	for i := range sources {
		sources[i] = fmt.Sprintf("foods/%032d.jpg", i)
		err := seed.Put(ctx, sources[i],
			thumb(sources[i], "small", 100, 100), thumb(sources[i], "medium", 400, 267))
		if err != nil {
			b.Fatal(err)
		}
	}
	for _, c := range []struct {
		name   string
		client redis.UniversalClient
	}{{"summaries", client}, {"hashes", wrapped{client}}} {
		b.Run(c.name, func(b *testing.B) {
			m := backends.NewRedisMetadata(c.client, prefix).(backends.AlignedMetadata)
			b.ReportAllocs()
			for b.Loop() {
				got, err := m.ThumbnailsIn(ctx, sources)
				if err != nil || len(got[999]) != 2 {
					b.Fatalf("%d records, %v", len(got[999]), err)
				}
			}
		})
	}
}

// TestRedisClusterSlots checks on a real Redis Cluster that each source's
// summary lives in its hash's slot (the scripts that write both would fail
// otherwise), that sources still spread over the nodes, and that Each walks
// them all from one goroutine.
func TestRedisClusterSlots(t *testing.T) {
	ctx := context.Background()
	client := testdb.RedisCluster(t)
	prefix := testdb.RedisPrefix(t, client)
	m := backends.NewRedisMetadata(client, prefix)
	nodes := map[string]bool{}
	for i := range 20 {
		s := fmt.Sprintf("foods/%02d.jpg", i)
		if err := m.Put(ctx, s, thumb(s, "small", 10, 10)); err != nil {
			t.Fatal(err)
		}
		hash, summary := prefix+":thumbnails:"+s, summaryKey(prefix, s)
		hs, err1 := client.ClusterKeySlot(ctx, hash).Result()
		ss, err2 := client.ClusterKeySlot(ctx, summary).Result()
		if err1 != nil || err2 != nil || hs != ss {
			t.Fatalf("%s: hash slot %d, summary slot %d (%v, %v)", s, hs, ss, err1, err2)
		}
		if n := client.Exists(ctx, summary).Val(); n != 1 {
			t.Errorf("%s has no summary", s)
		}
		node, err := client.MasterForKey(ctx, hash)
		if err != nil {
			t.Fatal(err)
		}
		nodes[node.Options().Addr] = true
	}
	if len(nodes) < 2 {
		t.Errorf("20 sources on %d node(s): they do not spread", len(nodes))
	}
	// Each walks the masters one after the other: fn is never called twice
	// at once, and its error stops the walk on every node
	stop := errors.New("stop")
	calls := 0
	if err := m.Each(ctx, func(string, []backends.Thumbnail) error { calls++; return stop }); !errors.Is(err, stop) || calls != 1 {
		t.Errorf("Each with a failing fn: %v after %d calls, want stop after 1", err, calls)
	}
	walked := map[string]bool{}
	if err := m.Each(ctx, func(s string, _ []backends.Thumbnail) error { walked[s] = true; return nil }); err != nil || len(walked) != 20 {
		t.Errorf("Each walked %d sources, %v; want 20", len(walked), err)
	}
	if err := m.Delete(ctx, "foods/00.jpg"); err != nil {
		t.Fatal(err)
	}
	if n := client.Exists(ctx, summaryKey(prefix, "foods/00.jpg")).Val(); n != 0 {
		t.Error("the summary outlived its hash")
	}
}
