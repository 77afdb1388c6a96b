package backends

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisMetadata keeps metadata in Redis, one hash per source.
type redisMetadata struct {
	client redis.UniversalClient
	prefix string
}

// formatRedisRecord returns the value of one size's field in a source's
// hash: "<width> <height> <unix seconds created> <name>", the name last so
// that it may hold any byte. Plain text keeps Preload's decoding cheap (a
// JSON decoder cost more than the round trip) and stays readable in
// redis-cli.
func formatRedisRecord(t Thumbnail, created time.Time) string {
	return strconv.Itoa(t.Width) + " " + strconv.Itoa(t.Height) + " " + strconv.FormatInt(created.Unix(), 10) + " " + t.Name
}

// parseRedisRecord parses a value made by formatRedisRecord. It reads the
// numbers by hand (a Preload of 10,000 rows parses 20,000 records).
func parseRedisRecord(source, size, v string) (Thumbnail, error) {
	w, rest, ok1 := cutNumber(v, ' ')
	h, rest, ok2 := cutNumber(rest, ' ')
	neg := strings.HasPrefix(rest, "-")
	if neg {
		rest = rest[1:]
	}
	c, name, ok3 := cutNumber(rest, ' ')
	if !ok1 || !ok2 || !ok3 || name == "" || w > math.MaxInt32 || h > math.MaxInt32 {
		return Thumbnail{}, fmt.Errorf("backends: redis: malformed record %q of %q: %q", size, source, v)
	}
	if neg {
		c = -c
	}
	return Thumbnail{Source: source, Size: size, Name: name, Width: int(w), Height: int(h), CreatedAt: time.Unix(c, 0).UTC()}, nil
}

// cutNumber cuts the decimal number (1 to 18 digits) that s starts with and
// the byte sep after it, returning the rest.
func cutNumber(s string, sep byte) (n int64, rest string, ok bool) {
	i := 0
	for ; i < len(s) && i < 19 && s[i] >= '0' && s[i] <= '9'; i++ {
		n = n*10 + int64(s[i]-'0')
	}
	if i == 0 || i > 18 || i >= len(s) || s[i] != sep {
		return 0, "", false
	}
	return n, s[i+1:], true
}

// NewRedisMetadata returns the Metadata that keeps its records in Redis
// through client: a single node, Sentinel, Cluster or Ring client.
//
// Each source is one hash, "<prefix>:thumbnails:<source name>", whose
// fields are size names and whose values are
// "<width> <height> <unix seconds created> <name>". Next to it, the string
// "<prefix>:summaries:{<hash key>}" repeats the hash: every field and
// value, each as "<length>:<bytes>", field then value. Its hash tag puts
// it in its hash's Cluster slot, and sources spread over the slots. Writes are Lua scripts that change both keys of one source.
// Batches (ThumbnailsOf) are one pipeline: an MGET of summaries on a
// *redis.Client, HGETALLs on a Cluster or Ring client, which splits them by
// node.
//
// Redis does not take part in the database transaction: the records
// written for a save that rolls back are deleted with its files at the
// rollback, and if Redis is down then, they stay for a source that no row
// references (an orphan for Prune, never a row pointing at a missing file).
//
// Each (and so Prune, MigrateMetadata and the command) walks every master
// of a Cluster client and every shard of a Ring client; it fails when a
// shard of the Ring is down (fewer live shards than RingOptions.Addrs
// names), rather than miss the records it holds. The Ring does not tell
// how many shards SetAddrs gave it: after SetAddrs the count is still that
// of RingOptions.Addrs. A Ring sends the keys of a shard that is down to
// another one: records written meanwhile are not seen once it is back;
// keep metadata on a single node, Sentinel or Cluster when that matters.
//
// Two stores on one Redis need prefixes that do not nest: with "app" and
// "app:thumbnails", the keys of the second are under those of the first,
// whose Each (and Prune) would take them for its own. Distinct prefixes
// ("shop", "blog") or separate databases keep them apart.
func NewRedisMetadata(client redis.UniversalClient, prefix string) Metadata {
	return &redisMetadata{client: client, prefix: prefix}
}

func (m *redisMetadata) key(source string) string {
	return m.prefix + ":thumbnails:" + source
}

func (m *redisMetadata) Thumbnails(ctx context.Context, source string) (map[string]Thumbnail, error) {
	fields, err := m.client.HGetAll(ctx, m.key(source)).Result()
	if err != nil {
		return nil, fmt.Errorf("backends: redis: read thumbnails of %q: %w", source, redisError(ctx, err))
	}
	return decodeRedisHash(source, fields)
}

func (m *redisMetadata) ThumbnailsOf(ctx context.Context, sources []string) (map[string][]Thumbnail, error) {
	recs, err := m.ThumbnailsIn(ctx, sources)
	if err != nil {
		return nil, err
	}
	return byIndex(sources, recs), nil
}

// ThumbnailsIn implements AlignedMetadata in one pipeline: of summaries on
// a single node (summariesIn), of HGETALLs on a Cluster or Ring client, whose
// MGET could not span slots.
func (m *redisMetadata) ThumbnailsIn(ctx context.Context, sources []string) ([][]Thumbnail, error) {
	if len(sources) == 0 {
		return [][]Thumbnail{}, nil
	}
	if c, ok := m.client.(*redis.Client); ok {
		return m.summariesIn(ctx, c, sources)
	}
	out := make([][]Thumbnail, len(sources))
	all := make([]int, len(sources))
	for i := range all {
		all[i] = i
	}
	if err := m.hashesInto(ctx, sources, all, out); err != nil {
		return nil, err
	}
	return out, nil
}

// hashesInto reads the hashes of the sources at indexes in one pipeline of
// HGETALLs, setting their records in out.
func (m *redisMetadata) hashesInto(ctx context.Context, sources []string, indexes []int, out [][]Thumbnail) error {
	if len(indexes) == 0 {
		return nil // no round trip
	}
	var cmds []*redis.MapStringStringCmd
	_, err := m.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		cmds = m.queueHashes(ctx, p, sources, indexes)
		return nil
	})
	if err != nil {
		return fmt.Errorf("backends: redis: read thumbnails of %d sources: %w", len(indexes), redisError(ctx, err))
	}
	return decodeHashes(sources, indexes, cmds, out)
}

// queueHashes queues on p an HGETALL of the hash of each source at indexes.
// The keys are cut from one string: a batch makes one allocation for them,
// not one a source.
func (m *redisMetadata) queueHashes(ctx context.Context, p redis.Pipeliner, sources []string, indexes []int) []*redis.MapStringStringCmd {
	if len(indexes) == 0 {
		return nil
	}
	prefix := m.key("")
	var keys strings.Builder
	size := len(indexes) * len(prefix)
	for _, i := range indexes {
		size += len(sources[i])
	}
	keys.Grow(size)
	for _, i := range indexes {
		keys.WriteString(prefix)
		keys.WriteString(sources[i])
	}
	all, at := keys.String(), 0
	cmds := make([]*redis.MapStringStringCmd, len(indexes))
	for j, i := range indexes {
		n := len(prefix) + len(sources[i])
		cmds[j] = p.HGetAll(ctx, all[at:at+n])
		at += n
	}
	return cmds
}

// decodeHashes sets in out the records of the hashes cmds read for the
// sources at indexes. One backing array holds every record; each source's
// slice is capped, so that a caller appending to it copies.
func decodeHashes(sources []string, indexes []int, cmds []*redis.MapStringStringCmd, out [][]Thumbnail) error {
	n := 0
	for _, c := range cmds {
		n += len(c.Val())
	}
	recs := make([]Thumbnail, 0, n)
	for j, i := range indexes {
		fields := cmds[j].Val()
		if len(fields) == 0 {
			continue
		}
		start := len(recs)
		for size, v := range fields {
			if size == sourceField {
				continue
			}
			t, err := parseRedisRecord(sources[i], size, v)
			if err != nil {
				return err
			}
			recs = append(recs, t)
		}
		out[i] = recs[start:len(recs):len(recs)]
	}
	return nil
}

func decodeRedisHash(source string, fields map[string]string) (map[string]Thumbnail, error) {
	out := make(map[string]Thumbnail, len(fields))
	for size, v := range fields {
		if size == sourceField {
			continue
		}
		t, err := parseRedisRecord(source, size, v)
		if err != nil {
			return nil, err
		}
		out[size] = t
	}
	return out, nil
}

// redisError returns err, from the client, wrapping ErrUnavailable as well
// when the server could not be reached or did not answer (a refused or
// broken connection, a timeout, a closed client, a full pool), so that
// callers can tell an outage from the server's own errors (a WRONGTYPE
// reply, a script error) and from their context's end, which are returned
// as they are. The replies of a server that cannot answer for now (see
// transientReply) wrap ErrUnavailable too. A timeout once ctx has ended is
// ctx's end: a client that honours deadlines (ContextTimeoutEnabled)
// reports it as a read timeout.
func redisError(ctx context.Context, err error) error {
	var reply redis.Error
	if errors.As(err, &reply) {
		if transientReply(reply.Error()) {
			return fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("%w: %v", ctxErr, err)
	}
	// The client's read deadline is the context's: its timeout may come
	// an instant before the context's own timer marks it done.
	if deadline, ok := ctx.Deadline(); ok && !time.Now().Before(deadline) {
		return fmt.Errorf("%w: %v", context.DeadlineExceeded, err)
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

// transientReplies are the prefixes of the error replies of a server that
// cannot answer for now: loading its data, a replica (read-only after a
// failover, or cut from its master), a cluster without a master for a
// slot or moving one, a script running past its time.
var transientReplies = []string{"LOADING ", "READONLY ", "MASTERDOWN ", "CLUSTERDOWN ", "TRYAGAIN ", "BUSY "}

// transientReply reports whether msg, an error reply, is one of a server
// that cannot answer for now.
func transientReply(msg string) bool {
	for _, p := range transientReplies {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// sourceField is the field of a source's hash that records the source
// itself, with an empty value: no size has the empty name. It keeps a
// source recorded while it has no thumbnails (an upload whose sizes are all
// lazy, or whose last size was deleted), as the database backend's sources
// table does, so that Prune sees its file as referenced.
const sourceField = ""

func (m *redisMetadata) Put(ctx context.Context, source string, thumbs ...Thumbnail) error {
	values := make([]any, 0, 2*len(thumbs)+2)
	values = append(values, sourceField, "")
	now := time.Now().UTC()
	for _, t := range thumbs {
		values = append(values, t.Size, formatRedisRecord(t, t.createdAt(now)))
	}
	var err error
	if summary, ok := m.summaryKey(source); ok {
		err = putScript.Run(ctx, m.client, []string{m.key(source), summary}, values...).Err()
	} else {
		err = m.client.HSet(ctx, m.key(source), values...).Err()
	}
	if err != nil {
		return fmt.Errorf("backends: redis: record thumbnails of %q: %w", source, redisError(ctx, err))
	}
	return nil
}

func (m *redisMetadata) Delete(ctx context.Context, source string) error {
	keys := []string{m.key(source)}
	if summary, ok := m.summaryKey(source); ok {
		keys = append(keys, summary) // the same slot: one command
	}
	if err := m.client.Del(ctx, keys...).Err(); err != nil {
		return fmt.Errorf("backends: redis: delete %q: %w", source, redisError(ctx, err))
	}
	return nil
}

func (m *redisMetadata) DeleteSize(ctx context.Context, source, size string) error {
	var err error
	if summary, ok := m.summaryKey(source); ok {
		err = deleteSizeScript.Run(ctx, m.client, []string{m.key(source), summary}, size).Err()
	} else {
		err = deleteSizeHashScript.Run(ctx, m.client, []string{m.key(source)}, size).Err()
	}
	if err != nil {
		return fmt.Errorf("backends: redis: delete size %q of %q: %w", size, source, redisError(ctx, err))
	}
	return nil
}

// Each scans the keys of the prefix (on every master of a Cluster client,
// every shard of a Ring client) and reads them a batch (one pipeline) at a
// time.
func (m *redisMetadata) Each(ctx context.Context, fn func(source string, thumbs []Thumbnail) error) error {
	keyPrefix := m.key("")
	pattern := globEscape(keyPrefix) + "*"
	scan := func(ctx context.Context, c redis.Cmdable) error {
		var cursor uint64
		for {
			keys, next, err := c.Scan(ctx, cursor, pattern, eachBatch).Result()
			if err != nil {
				return fmt.Errorf("backends: redis: scan %q: %w", pattern, redisError(ctx, err))
			}
			if len(keys) > 0 {
				sources := make([]string, len(keys))
				for i, k := range keys {
					sources[i] = strings.TrimPrefix(k, keyPrefix)
				}
				thumbs, err := m.ThumbnailsIn(ctx, sources)
				if err != nil {
					return err
				}
				for i, s := range sources {
					// A key deleted since the scan is skipped (nil); a
					// source recorded without thumbnails is not (empty).
					if thumbs[i] != nil {
						if err := fn(s, thumbs[i]); err != nil {
							return err
						}
					}
				}
			}
			if cursor = next; cursor == 0 {
				return nil
			}
		}
	}
	// A Cluster or Ring client sends SCAN to one node: each is scanned in
	// turn, one after the other, so that fn is called from one goroutine
	// and its error stops the walk.
	var nodes []*redis.Client
	switch c := m.client.(type) {
	case *redis.Ring:
		// A shard that is down would hide its records, and a walk that
		// misses records makes Prune delete files rows still use. The Ring
		// lists its live shards only; the count of those it was made with
		// tells that some are down.
		shards, all := c.GetShardClients(), len(c.Options().Addrs)
		if len(shards) < all {
			return fmt.Errorf("backends: redis: %d of the ring's %d shards are down: %w", all-len(shards), all, ErrUnavailable)
		}
		nodes = shards
	case *redis.ClusterClient:
		// ForEachMaster calls its function on every master at once: the
		// masters are only listed there.
		var mu sync.Mutex
		err := c.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
			mu.Lock()
			defer mu.Unlock()
			nodes = append(nodes, node)
			return nil
		})
		if err != nil {
			return fmt.Errorf("backends: redis: list the cluster's masters: %w", redisError(ctx, err))
		}
	default:
		return scan(ctx, m.client)
	}
	for _, node := range nodes {
		if err := scan(ctx, node); err != nil {
			return err
		}
	}
	return nil
}

// globEscape escapes the characters that SCAN's MATCH pattern treats specially.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
