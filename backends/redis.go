package backends

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
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
	w, rest, ok1 := cutNumber(v)
	h, rest, ok2 := cutNumber(rest)
	neg := strings.HasPrefix(rest, "-")
	if neg {
		rest = rest[1:]
	}
	c, name, ok3 := cutNumber(rest)
	if !ok1 || !ok2 || !ok3 || name == "" || w > math.MaxInt32 || h > math.MaxInt32 {
		return Thumbnail{}, fmt.Errorf("backends: redis: malformed record %q of %q: %q", size, source, v)
	}
	if neg {
		c = -c
	}
	return Thumbnail{Source: source, Size: size, Name: name, Width: int(w), Height: int(h), CreatedAt: time.Unix(c, 0).UTC()}, nil
}

// cutNumber cuts the decimal number (1 to 18 digits) that s starts with and
// the space after it, returning the rest.
func cutNumber(s string) (n int64, rest string, ok bool) {
	i := 0
	for ; i < len(s) && i < 19 && s[i] >= '0' && s[i] <= '9'; i++ {
		n = n*10 + int64(s[i]-'0')
	}
	if i == 0 || i > 18 || i >= len(s) || s[i] != ' ' {
		return 0, "", false
	}
	return n, s[i+1:], true
}

// NewRedisMetadata returns the Metadata that keeps its records in Redis
// through client: a single node, Sentinel or Cluster client.
//
// Each source is one hash, "<prefix>:thumbnails:<source name>", whose
// fields are size names and whose values are
// "<width> <height> <unix seconds created> <name>". Batches (ThumbnailsOf) are one
// pipeline of HGETALLs, which a Cluster client splits by node: no command
// touches two keys, so no hash tags are needed and sources spread over the
// cluster's slots.
//
// Redis does not take part in the database transaction: records written
// for a save that rolls back stay behind, for a source that no row
// references (an orphan, never a row pointing at a missing file).
func NewRedisMetadata(client redis.UniversalClient, prefix string) Metadata {
	return &redisMetadata{client: client, prefix: prefix}
}

func (m *redisMetadata) key(source string) string {
	return m.prefix + ":thumbnails:" + source
}

func (m *redisMetadata) Thumbnails(ctx context.Context, source string) (map[string]Thumbnail, error) {
	fields, err := m.client.HGetAll(ctx, m.key(source)).Result()
	if err != nil {
		return nil, fmt.Errorf("backends: redis: read thumbnails of %q: %w", source, err)
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

// ThumbnailsIn implements AlignedMetadata: one pipeline of HGETALLs.
func (m *redisMetadata) ThumbnailsIn(ctx context.Context, sources []string) ([][]Thumbnail, error) {
	out := make([][]Thumbnail, len(sources))
	if len(sources) == 0 {
		return out, nil
	}
	// The keys are cut from one string: a batch makes one allocation for
	// them, not one a source.
	prefix := m.key("")
	var keys strings.Builder
	keys.Grow(len(sources)*len(prefix) + totalLen(sources))
	for _, s := range sources {
		keys.WriteString(prefix)
		keys.WriteString(s)
	}
	all := keys.String()
	cmds := make([]*redis.MapStringStringCmd, len(sources))
	_, err := m.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		at := 0
		for i, s := range sources {
			n := len(prefix) + len(s)
			cmds[i] = p.HGetAll(ctx, all[at:at+n])
			at += n
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("backends: redis: read thumbnails of %d sources: %w", len(sources), err)
	}
	// One backing array for every record; each source's slice is capped,
	// so that a caller appending to it copies.
	n := 0
	for _, c := range cmds {
		n += len(c.Val())
	}
	recs := make([]Thumbnail, 0, n)
	for i, s := range sources {
		fields := cmds[i].Val()
		if len(fields) == 0 {
			continue
		}
		start := len(recs)
		for size, v := range fields {
			t, err := parseRedisRecord(s, size, v)
			if err != nil {
				return nil, err
			}
			recs = append(recs, t)
		}
		out[i] = recs[start:len(recs):len(recs)]
	}
	return out, nil
}

// totalLen returns the sum of the lengths of ss.
func totalLen(ss []string) int {
	n := 0
	for _, s := range ss {
		n += len(s)
	}
	return n
}

func decodeRedisHash(source string, fields map[string]string) (map[string]Thumbnail, error) {
	out := make(map[string]Thumbnail, len(fields))
	for size, v := range fields {
		t, err := parseRedisRecord(source, size, v)
		if err != nil {
			return nil, err
		}
		out[size] = t
	}
	return out, nil
}

func (m *redisMetadata) Put(ctx context.Context, source string, thumbs ...Thumbnail) error {
	if len(thumbs) == 0 {
		return nil // a hash cannot be empty: a source is known by its thumbnails
	}
	values := make([]any, 0, 2*len(thumbs))
	now := time.Now().UTC()
	for _, t := range thumbs {
		values = append(values, t.Size, formatRedisRecord(t, now))
	}
	if err := m.client.HSet(ctx, m.key(source), values...).Err(); err != nil {
		return fmt.Errorf("backends: redis: record thumbnails of %q: %w", source, err)
	}
	return nil
}

func (m *redisMetadata) Delete(ctx context.Context, source string) error {
	if err := m.client.Del(ctx, m.key(source)).Err(); err != nil {
		return fmt.Errorf("backends: redis: delete %q: %w", source, err)
	}
	return nil
}

func (m *redisMetadata) DeleteSize(ctx context.Context, source, size string) error {
	if err := m.client.HDel(ctx, m.key(source), size).Err(); err != nil {
		return fmt.Errorf("backends: redis: delete size %q of %q: %w", size, source, err)
	}
	return nil
}

// Each scans the keys of the prefix (on every master of a Cluster client)
// and reads them a batch (one pipeline) at a time.
func (m *redisMetadata) Each(ctx context.Context, fn func(source string, thumbs []Thumbnail) error) error {
	keyPrefix := m.key("")
	pattern := globEscape(keyPrefix) + "*"
	scan := func(ctx context.Context, c redis.Cmdable) error {
		var cursor uint64
		for {
			keys, next, err := c.Scan(ctx, cursor, pattern, eachBatch).Result()
			if err != nil {
				return fmt.Errorf("backends: redis: scan %q: %w", pattern, err)
			}
			if len(keys) > 0 {
				sources := make([]string, len(keys))
				for i, k := range keys {
					sources[i] = strings.TrimPrefix(k, keyPrefix)
				}
				thumbs, err := m.ThumbnailsOf(ctx, sources)
				if err != nil {
					return err
				}
				for _, s := range sources {
					if list, ok := thumbs[s]; ok { // a key deleted since the scan is skipped
						if err := fn(s, list); err != nil {
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
	if cc, ok := m.client.(*redis.ClusterClient); ok {
		return cc.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error { return scan(ctx, node) })
	}
	return scan(ctx, m.client)
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
