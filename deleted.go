package thumbnails

import "sync"

// deletedLog remembers the sources that the drains of this process deleted,
// each with the number of the drain, so that a statement copying sources
// checks those, and only those, that a drain deleted since the statement
// began (see guardCopies): a name copied from a row, which a drain deleted
// meanwhile, would otherwise be written into a row with its files gone.
// It keeps at most deletedLogCap names; when full it forgets them all, and
// a statement that began before then checks every source it copies.
type deletedLog struct {
	mu    sync.Mutex
	count uint64            // the drains that deleted sources
	floor uint64            // the drains up to this one are forgotten
	names map[string]uint64 // source -> the drain that deleted it
}

// deletedLogCap bounds the names a deletedLog keeps (about 1 MiB).
const deletedLogCap = 1 << 14

// now returns the number of the last drain that deleted sources: a
// statement reads it as it begins.
func (l *deletedLog) now() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.count
}

// add records the sources one drain deleted, before the drain lets go of
// its locks.
func (l *deletedLog) add(sources []string) {
	if len(sources) == 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.names == nil || len(l.names)+len(sources) > deletedLogCap {
		l.names, l.floor = make(map[string]uint64, len(sources)), l.count
	}
	l.count++
	for _, s := range sources {
		l.names[s] = l.count
	}
}

// since returns those of names that a drain deleted after the one numbered
// since: every name when the log has forgotten drains after it.
func (l *deletedLog) since(since uint64, names []string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.count == since {
		return nil
	}
	if since < l.floor {
		return names
	}
	var out []string
	for _, n := range names {
		if d, ok := l.names[n]; ok && d > since {
			out = append(out, n)
		}
	}
	return out
}

// ever returns those of names that a drain deleted, as far as the log
// remembers: an Image read before its row was deleted, copied into a row
// since, names a file that is gone.
func (l *deletedLog) ever(names []string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, n := range names {
		if _, ok := l.names[n]; ok {
			out = append(out, n)
		}
	}
	return out
}
