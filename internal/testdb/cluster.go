package testdb

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// clusterNodes is how many masters the test Redis Cluster has.
const clusterNodes = 3

// cluster is the Redis Cluster of a test binary, started on first use.
var cluster struct {
	once  sync.Once
	addrs []string
	procs []*exec.Cmd
	dir   string
	err   error
}

// RedisCluster returns a client of a real Redis Cluster of three masters,
// which the test binary starts with redis-server and redis-cli on its first
// call, on free local ports; StopRedisCluster (from TestMain) stops it. It
// skips when RedisAddrEnv is unset (the Redis tests are not wanted) or when
// redis-server is not installed.
func RedisCluster(t testing.TB) *redis.ClusterClient {
	t.Helper()
	if os.Getenv(RedisAddrEnv) == "" {
		t.Skip(RedisAddrEnv + " is not set: skipping the Redis Cluster run")
	}
	for _, bin := range []string{"redis-server", "redis-cli"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s is not installed: skipping the Redis Cluster run", bin)
		}
	}
	cluster.once.Do(startCluster)
	if cluster.err != nil {
		t.Fatalf("redis cluster: %v", cluster.err)
	}
	client := redis.NewClusterClient(&redis.ClusterOptions{Addrs: cluster.addrs})
	t.Cleanup(func() { _ = client.Close() })
	return client
}

// StopRedisCluster stops the cluster RedisCluster started, if any.
func StopRedisCluster() {
	for _, p := range cluster.procs {
		_ = p.Process.Kill()
		_ = p.Wait()
	}
	if cluster.dir != "" {
		_ = os.RemoveAll(cluster.dir)
	}
}

func startCluster() {
	cluster.err = func() error {
		dir, err := os.MkdirTemp("", "thumbnails-redis-cluster-")
		if err != nil {
			return err
		}
		cluster.dir = dir
		for _, port := range freeClusterPorts(clusterNodes) {
			p := strconv.Itoa(port)
			cmd := exec.Command("redis-server", "--port", p, "--bind", "127.0.0.1",
				"--cluster-enabled", "yes", "--cluster-config-file", filepath.Join(dir, "nodes-"+p+".conf"),
				"--dir", dir, "--save", "", "--appendonly", "no")
			if err := cmd.Start(); err != nil {
				return err
			}
			cluster.procs = append(cluster.procs, cmd)
			cluster.addrs = append(cluster.addrs, "127.0.0.1:"+p)
		}
		ctx := context.Background()
		for _, addr := range cluster.addrs {
			if err := waitFor(func() bool {
				c := redis.NewClient(&redis.Options{Addr: addr})
				defer c.Close()
				return c.Ping(ctx).Err() == nil
			}); err != nil {
				return fmt.Errorf("node %s did not start", addr)
			}
		}
		args := append([]string{"--cluster", "create"}, cluster.addrs...)
		args = append(args, "--cluster-replicas", "0", "--cluster-yes")
		if out, err := exec.Command("redis-cli", args...).CombinedOutput(); err != nil {
			return fmt.Errorf("redis-cli --cluster create: %v: %s", err, out)
		}
		return waitFor(func() bool {
			for _, addr := range cluster.addrs {
				c := redis.NewClient(&redis.Options{Addr: addr})
				info, err := c.ClusterInfo(ctx).Result()
				c.Close()
				if err != nil || !strings.Contains(info, "cluster_state:ok") {
					return false
				}
			}
			return true
		})
	}()
}

// freeClusterPorts returns n ports free on 127.0.0.1, each with its
// cluster bus port (the port plus 10,000) free too.
func freeClusterPorts(n int) []int {
	var ports []int
	for len(ports) < n {
		port := 20000 + rand.IntN(10000)
		if !slices.Contains(ports, port) && free(port) && free(port+10000) {
			ports = append(ports, port)
		}
	}
	return ports
}

func free(port int) bool {
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}

// waitFor polls ok for up to 20 seconds.
func waitFor(ok func() bool) error {
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if ok() {
			return nil
		}
	}
	return fmt.Errorf("timed out")
}
