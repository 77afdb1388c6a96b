package backends

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisMetadata keeps metadata in Redis, one hash per source.
type redisMetadata struct {
	client redis.UniversalClient
	prefix string
}

// redisRecord is the value of one size's field in a source's hash.
type redisRecord struct {
	Name      string    `json:"name"`
	Width     int       `json:"width"`
	Height    int       `json:"height"`
	CreatedAt time.Time `json:"created_at"`
}

// NewRedisMetadata returns the Metadata that keeps its records in Redis
// through client: a single node, Sentinel or Cluster client.
//
// Each source is one hash, "<prefix>:thumbnails:<source name>", whose
// fields are size names and whose values are JSON objects
// {"name", "width", "height", "created_at"}. Batches (ThumbnailsOf) are one
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

func (m *redisMetadata) ThumbnailsOf(ctx context.Context, sources []string) (map[string]map[string]Thumbnail, error) {
	out := make(map[string]map[string]Thumbnail, len(sources))
	if len(sources) == 0 {
		return out, nil
	}
	cmds := make([]*redis.MapStringStringCmd, len(sources))
	_, err := m.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, s := range sources {
			cmds[i] = p.HGetAll(ctx, m.key(s))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("backends: redis: read thumbnails of %d sources: %w", len(sources), err)
	}
	for i, s := range sources {
		fields := cmds[i].Val()
		if len(fields) == 0 {
			continue
		}
		thumbs, err := decodeRedisHash(s, fields)
		if err != nil {
			return nil, err
		}
		out[s] = thumbs
	}
	return out, nil
}

func decodeRedisHash(source string, fields map[string]string) (map[string]Thumbnail, error) {
	out := make(map[string]Thumbnail, len(fields))
	for size, v := range fields {
		var r redisRecord
		if err := json.Unmarshal([]byte(v), &r); err != nil {
			return nil, fmt.Errorf("backends: redis: record %q of %q: %w", size, source, err)
		}
		out[size] = Thumbnail{Source: source, Size: size, Name: r.Name, Width: r.Width, Height: r.Height, CreatedAt: r.CreatedAt}
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
		b, err := json.Marshal(redisRecord{Name: t.Name, Width: t.Width, Height: t.Height, CreatedAt: now})
		if err != nil {
			return err
		}
		values = append(values, t.Size, b)
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
