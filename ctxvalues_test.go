package thumbnails_test

import (
	"context"
	"net"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"
	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails"
	"github.com/gorm-thumbnails/thumbnails/backends"
	"github.com/gorm-thumbnails/thumbnails/internal/testdb"
)

type traceKey struct{}

// unmarkedHook records the Redis commands whose context lacks traceKey.
type unmarkedHook struct {
	mu       sync.Mutex
	unmarked []string
}

func (h *unmarkedHook) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) { return next(ctx, network, addr) }
}

func (h *unmarkedHook) note(ctx context.Context, cmds ...redis.Cmder) {
	if ctx.Value(traceKey{}) != nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range cmds {
		if !connectionSetup(c) {
			h.unmarked = append(h.unmarked, c.Name())
		}
	}
}

func (h *unmarkedHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { h.note(ctx, cmd); return next(ctx, cmd) }
}

func (h *unmarkedHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error { h.note(ctx, cmds...); return next(ctx, cmds) }
}

// TestCallersContextReachesRedis checks that every Redis command the
// plugin sends for a save, a replace, a delete and a rolled-back
// transaction carries the caller's context values (a trace), the cleanups
// after the commit or the rollback included.
func TestCallersContextReachesRedis(t *testing.T) {
	client := testdb.Redis(t)
	hook := &unmarkedHook{}
	client.AddHook(hook)
	db := openSQLite(t)
	cfg := thumbnails.Config{Sizes: testSizes(), Metadata: backends.NewRedisMetadata(client, testdb.RedisPrefix(t, client))}
	cfg.Storage, _ = newStorage(t, db)
	usePlugin(t, db, cfg, &Food{})
	ctx := context.WithValue(context.Background(), traceKey{}, "trace-1")
	traced := db.WithContext(ctx)
	food := newFood(t, "a", pizzaJPG)
	if err := traced.Create(&food).Error; err != nil {
		t.Fatal(err)
	}
	food.Image = newFood(t, "b", pastaJPG).Image
	if err := traced.Save(&food).Error; err != nil { // replace: a cleanup after the commit
		t.Fatal(err)
	}
	_ = traced.Transaction(func(tx *gorm.DB) error { // a discard at the rollback
		other := newFood(t, "c", soupJPG)
		if err := tx.Create(&other).Error; err != nil {
			return err
		}
		return context.Canceled
	})
	if err := traced.Delete(&food).Error; err != nil {
		t.Fatal(err)
	}
	hook.mu.Lock()
	defer hook.mu.Unlock()
	if len(hook.unmarked) != 0 {
		t.Errorf("commands without the caller's context: %v", hook.unmarked)
	}
}
