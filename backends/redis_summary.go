package backends

import (
	"context"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"
)

// A source's summary is a string key next to its hash holding every field
// and value of the hash, each as "<length>:<bytes>" (so any byte may appear
// in them), field then value. It exists so that a batch read on a single
// node is one MGET of summaries, not one HGETALL a source: go-redis pays
// about a microsecond and nine allocations for each command of a pipeline,
// more than a GORM Find pays for a row.
//
// The summary is written by the same Lua script that changes the hash, so
// the two never disagree. Its key, "<prefix>:summaries:{<hash key>}", has
// the hash key as its hash tag: both keys live in the same Cluster slot,
// which a script touching both needs, while sources still spread over the
// slots. A hash key that holds a brace has a hash tag of its own, so its
// source has no summary and is read by HGETALL.

// summarizeLua rewrites the summary KEYS[2] from the hash KEYS[1], deleting
// it when the hash is gone, and returns the number of fields.
const summarizeLua = `
local function summarize(hash, summary)
  local all = redis.call('HGETALL', hash)
  if #all == 0 then
    redis.call('DEL', summary)
    return 0
  end
  local parts = {}
  for i = 1, #all do
    parts[i] = #all[i] .. ':' .. all[i]
  end
  redis.call('SET', summary, table.concat(parts))
  return #all / 2
end
`

// keepSourceLua deletes the field ARGV[1] of the hash KEYS[1], if it
// exists, leaving its source field.
const keepSourceLua = `
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], '', '')
  redis.call('HDEL', KEYS[1], ARGV[1])
end
`

var (
	// putScript sets the fields ARGV (size, record pairs) of the hash
	// KEYS[1] and rewrites its summary KEYS[2]. It sets them 500 pairs
	// at a time: Lua's unpack takes at most about 8,000 values.
	putScript = redis.NewScript(summarizeLua + `
for i = 1, #ARGV, 1000 do
  redis.call('HSET', KEYS[1], unpack(ARGV, i, math.min(i + 999, #ARGV)))
end
return summarize(KEYS[1], KEYS[2])
`)
	// deleteSizeScript deletes the field ARGV[1] of the hash KEYS[1] and
	// rewrites its summary KEYS[2]. The hash keeps its source field (see
	// sourceField), which one written by an earlier version may lack: the
	// source stays recorded without its last size.
	deleteSizeScript = redis.NewScript(summarizeLua + keepSourceLua + `
return summarize(KEYS[1], KEYS[2])
`)
	// deleteSizeHashScript is deleteSizeScript for a hash without summary.
	deleteSizeHashScript = redis.NewScript(keepSourceLua + `
return 0
`)
)

// summaryChunk is the most keys an MGET or EXISTS of summariesIn holds.
const summaryChunk = 1000

// summaryKey returns the key of source's summary, and false when source has
// none because its hash key holds a brace.
func (m *redisMetadata) summaryKey(source string) (string, bool) {
	key := m.key(source)
	if strings.ContainsAny(key, "{}") {
		return "", false
	}
	return m.summaryOpen() + key + "}", true
}

// summaryOpen is what a summary key holds before its hash key, which is
// followed by "}"; summariesIn cuts its keys from these parts too.
func (m *redisMetadata) summaryOpen() string { return m.prefix + ":summaries:{" }

// summariesIn reads the records of sources from a single node in one
// pipeline: an MGET of their summaries and an EXISTS of their hashes for
// every summaryChunk sources, and an HGETALL for each source that has no
// summary key. A hash without a summary (written
// by an earlier version, or by hand) shows as an EXISTS count above the
// summaries found, and only then are those sources read again, by HGETALL.
func (m *redisMetadata) summariesIn(ctx context.Context, c *redis.Client, sources []string) ([][]Thumbnail, error) {
	out := make([][]Thumbnail, len(sources))
	var (
		summarized []int // indexes of the sources read by summary
		others     []int // indexes of the sources read by HGETALL
	)
	// Every summary key holds its hash key, and all are cut from one
	// buffer; each goes to go-redis as a pointer into one slice of
	// redisArgs, so that a batch allocates once for its keys, not three
	// times a source (the key, and each command's boxing of it).
	hashPrefix := m.key("")
	open := m.summaryOpen()
	braced := strings.ContainsAny(hashPrefix, "{}")
	size := 0
	for _, s := range sources {
		size += len(open) + len(hashPrefix) + len(s) + 1
	}
	buf := make([]byte, 0, size)
	for i, s := range sources {
		if braced || strings.ContainsAny(s, "{}") {
			others = append(others, i)
			continue
		}
		summarized = append(summarized, i)
		buf = append(buf, open...)
		buf = append(buf, hashPrefix...)
		buf = append(buf, s...)
		buf = append(buf, '}')
	}
	// keys holds the summary key then the hash key of each summarized
	// source.
	keys := make([]redisArg, 2*len(summarized))
	at := 0
	for j, i := range summarized {
		n := len(open) + len(hashPrefix) + len(sources[i]) + 1
		keys[2*j] = redisArg(buf[at : at+n : at+n])
		keys[2*j+1] = redisArg(buf[at+len(open) : at+n-1 : at+n-1])
		at += n
	}
	var (
		values []*redis.StringSliceCmd
		counts []*redis.IntCmd
		cmds   []*redis.MapStringStringCmd
	)
	// The arguments of every command, "mget" or "exists" then its keys.
	args := make([]any, 0, 2*len(summarized)+2*((len(summarized)+summaryChunk-1)/summaryChunk))
	// command returns the arguments of the command name on the summarized
	// sources [from, end): their summary keys (kind 0) or hash keys (1).
	command := func(name string, from, end, kind int) []any {
		start := len(args)
		args = append(args, name)
		for j := from; j < end; j++ {
			args = append(args, &keys[2*j+kind])
		}
		return args[start:len(args):len(args)]
	}
	_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
		// Commands of at most summaryChunk keys keep each one short for
		// the server, which serves other clients between them.
		for from := 0; from < len(summarized); from += summaryChunk {
			end := min(from+summaryChunk, len(summarized))
			mget := redis.NewStringSliceCmd(ctx, command("mget", from, end, 0)...)
			exists := redis.NewIntCmd(ctx, command("exists", from, end, 1)...)
			if err := p.Process(ctx, mget); err != nil {
				return err
			}
			if err := p.Process(ctx, exists); err != nil {
				return err
			}
			values = append(values, mget)
			counts = append(counts, exists)
		}
		cmds = m.queueHashes(ctx, p, sources, others)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("backends: redis: read thumbnails of %d sources: %w", len(sources), redisError(ctx, err))
	}
	if err := decodeHashes(sources, others, cmds, out); err != nil {
		return nil, err
	}
	if len(summarized) == 0 {
		return out, nil
	}
	var missing []int // summarized sources whose summary was not found
	recs := make([]Thumbnail, 0, 2*len(summarized))
	var hashCount int64
	for k, cmd := range values {
		hashCount += counts[k].Val()
		for j, s := range cmd.Val() {
			i := summarized[k*summaryChunk+j]
			if s == "" { // no summary: MGET's nil (a summary is never empty)
				missing = append(missing, i)
				continue
			}
			start := len(recs)
			if recs, err = appendSummary(recs, sources[i], s); err != nil {
				return nil, err
			}
			out[i] = recs[start:len(recs):len(recs)]
		}
	}
	if hashCount > int64(len(summarized)-len(missing)) {
		if err := m.hashesInto(ctx, sources, missing, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// appendSummary appends the records of source's summary s to recs.
func appendSummary(recs []Thumbnail, source, s string) ([]Thumbnail, error) {
	for rest := s; rest != ""; {
		size, after, ok1 := cutCounted(rest)
		v, after, ok2 := cutCounted(after)
		if !ok1 || !ok2 {
			return recs, fmt.Errorf("backends: redis: malformed summary of %q: %q", source, s)
		}
		rest = after
		if size == sourceField {
			continue
		}
		t, err := parseRedisRecord(source, size, v)
		if err != nil {
			return recs, err
		}
		recs = append(recs, t)
	}
	return recs, nil
}

// cutCounted cuts the "<length>:<bytes>" that s starts with, returning the
// bytes and the rest.
func cutCounted(s string) (field, rest string, ok bool) {
	n, rest, ok := cutNumber(s, ':')
	if !ok || n > int64(len(rest)) {
		return "", "", false
	}
	return rest[:n], rest[n:], true
}

// redisArg is a key of a batch, given to go-redis by pointer: boxing a
// pointer allocates nothing, where boxing a string allocates its header.
// go-redis writes it through MarshalBinary, and prints it (in a hook, a
// tracer or an error) through String.
type redisArg []byte

// MarshalBinary returns the key's bytes, which go-redis copies as it
// writes them.
func (a *redisArg) MarshalBinary() ([]byte, error) { return *a, nil }

// String returns the key.
func (a *redisArg) String() string { return string(*a) }
