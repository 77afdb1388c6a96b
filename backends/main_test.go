package backends_test

import (
	"os"
	"testing"

	"github.com/gorm-thumbnails/thumbnails/internal/testdb"
)

// TestMain stops the Redis Cluster that the tests may have started.
func TestMain(m *testing.M) {
	code := m.Run()
	testdb.StopRedisCluster()
	os.Exit(code)
}
