package thumbnails_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/gorm-thumbnails/thumbnails/backends"
	"github.com/gorm-thumbnails/thumbnails/field"
)

// TestRedisOutage injects a Redis outage (miniredis answers every command
// with an error, which a real server cannot be made to do on demand) and
// checks that nothing is lost: saves fail with the Redis error and leave the
// committed state as it was, reads fail rather than regenerate, and a
// delete's cleanup waits for Redis to come back.
func TestRedisOutage(t *testing.T) {
	mr := miniredis.RunT(t)
	client := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { _ = client.Close() })
	db := openSQLite(t)
	redisMetadata.Store(db, backends.NewRedisMetadata(client, "outage"))
	t.Cleanup(func() { redisMetadata.Delete(db) })
	e := setup(t, db, &Food{})
	ctx := context.Background()

	food := newFood(t, "pizza", pizzaJPG)
	if err := db.Create(&food).Error; err != nil {
		t.Fatal(err)
	}
	files := filesOf(t, &food)
	other := newFood(t, "pasta", pastaJPG)
	if err := db.Create(&other).Error; err != nil {
		t.Fatal(err)
	}
	otherFiles := filesOf(t, &other)
	stored := len(e.files(t))

	mr.SetError("simulated outage")
	requireOutage := func(step string, err error) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), "simulated outage") {
			t.Fatalf("%s: err = %v, want the Redis error", step, err)
		}
		if got := len(e.files(t)); got != stored {
			t.Fatalf("%s: %d files stored, want %d", step, got, stored)
		}
	}

	requireOutage("create", db.Create(&Food{Name: "new", Image: field.NewImage("a.jpg", reader(photo(t, pizzaJPG)))}).Error)
	if n := count(t, db, "foods"); n != 2 {
		t.Fatalf("rows after a failed create: %d", n)
	}

	replaced := food
	replaced.Image = field.NewImage("b.jpg", reader(photo(t, pastaJPG)))
	requireOutage("replace", db.Save(&replaced).Error)
	var got Food
	if err := db.First(&got, food.ID).Error; err != nil || got.Image.Name() != files[0] {
		t.Fatalf("row after a failed replace: %q, %v", got.Image.Name(), err)
	}

	saves := e.storage.saves.Load()
	_, err := got.Image.Thumbnail(ctx, "small")
	requireOutage("read", err)
	if e.storage.saves.Load() != saves {
		t.Fatal("a read during the outage regenerated the thumbnail")
	}

	// the delete commits; its cleanup cannot read the metadata and waits
	if err := db.Delete(&other).Error; err != nil {
		t.Fatal(err)
	}
	for _, f := range otherFiles {
		if !e.exists(t, f) {
			t.Fatalf("%s deleted while its metadata could not be read", f)
		}
	}
	if n := count(t, db, "thumbnails_outbox"); n != 1 {
		t.Fatalf("outbox rows = %d, want the pending delete", n)
	}

	// Redis is back: the next committed change drains the whole outbox
	mr.SetError("")
	if err := db.Delete(&got).Error; err != nil {
		t.Fatal(err)
	}
	if left := e.files(t); len(left) != 0 {
		t.Fatalf("files after recovery: %v", left)
	}
	if n := count(t, db, "thumbnails_outbox"); n != 0 {
		t.Fatalf("outbox rows after recovery: %d", n)
	}
	if keys := mr.Keys(); len(keys) != 0 {
		t.Fatalf("redis keys after recovery: %v", keys)
	}
}

// TestRedisTransientRepliesAreUnavailable: the error replies of a server
// that cannot answer for now (loading its data, a read-only replica after
// a failover, a cluster without a master) wrap backends.ErrUnavailable, as
// a dropped connection does, so that a caller retries them; other replies
// do not. miniredis gives them on demand, which a real server cannot.
func TestRedisTransientRepliesAreUnavailable(t *testing.T) {
	mr := miniredis.RunT(t)
	client := redis.NewClient(&redis.Options{Addr: mr.Addr(), MaxRetries: -1})
	t.Cleanup(func() { _ = client.Close() })
	meta := backends.NewRedisMetadata(client, "transient")
	ctx := context.Background()
	for _, tc := range []struct {
		reply       string
		unavailable bool
	}{
		{"LOADING Redis is loading the dataset in memory", true},
		{"READONLY You can't write against a read only replica.", true},
		{"MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.", true},
		{"CLUSTERDOWN The cluster is down", true},
		{"TRYAGAIN Multiple keys request during rehashing of slot", true},
		{"BUSY Redis is busy running a script.", true},
		{"ERR unknown command", false},
		{"NOPERM this user has no permissions to run the 'evalsha' command", false},
	} {
		mr.SetError(tc.reply)
		put := meta.Put(ctx, "foods/a.jpg", backends.Thumbnail{Size: "small", Name: "thumbnails/foods/a_small.png", Width: 1, Height: 1})
		_, read := meta.Thumbnails(ctx, "foods/a.jpg")
		for op, err := range map[string]error{"Put": put, "Thumbnails": read} {
			if err == nil || !strings.Contains(err.Error(), tc.reply) {
				t.Errorf("%s with %q: %v; want the reply", op, tc.reply, err)
			} else if got := errors.Is(err, backends.ErrUnavailable); got != tc.unavailable {
				t.Errorf("%s with %q: errors.Is(err, ErrUnavailable) = %v, want %v", op, tc.reply, got, tc.unavailable)
			}
		}
	}
	mr.SetError("")
}
