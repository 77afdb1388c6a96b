package thumbnails

import (
	"context"
	"database/sql/driver"
	"hash/maphash"
	"reflect"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm/schema"
)

// code is a key type written through its driver.Valuer.
type code struct{ a, b int }

func (c code) Value() (driver.Value, error) { return int64(c.a*1000 + c.b), nil }

// TestHashKey: the owner's hash tells apart the keys of different rows
// that the column values alone could confuse, and gives one row the same
// hash each time.
func TestHashKey(t *testing.T) {
	sum := func(parts ...any) (uint64, bool) {
		var h maphash.Hash
		h.SetSeed(keySeed)
		for _, p := range parts {
			if !hashKey(&h, reflect.ValueOf(p), true) {
				return 0, false
			}
		}
		return h.Sum64(), true
	}
	utc := time.Date(2026, 12, 2, 10, 0, 0, 5, time.UTC)
	for _, c := range []struct {
		name string
		a, b []any
		same bool
	}{
		{"strings cut elsewhere", []any{"ab", "c"}, []any{"a", "bc"}, false},
		{"int and uint", []any{int64(1)}, []any{uint64(1)}, false},
		{"string and bytes", []any{"ab"}, []any{[]byte("ab")}, false},
		{"uuid", []any{[16]byte{1}}, []any{[16]byte{2}}, false},
		{"same uuid", []any{[16]byte{1, 2}}, []any{[16]byte{1, 2}}, true},
		{"an instant in two zones", []any{utc}, []any{utc.In(time.FixedZone("x", 3600))}, true},
		{"two instants", []any{utc}, []any{utc.Add(time.Nanosecond)}, false},
		{"valuer", []any{code{1, 2}}, []any{code{1, 3}}, false},
		{"same valuer value", []any{code{1, 2}}, []any{code{0, 1002}}, true},
	} {
		ha, oka := sum(c.a...)
		hb, okb := sum(c.b...)
		if !oka || !okb {
			t.Errorf("%s: not hashed (%v, %v)", c.name, oka, okb)
			continue
		}
		if (ha == hb) != c.same {
			t.Errorf("%s: %v and %v: same hash %v, want %v", c.name, c.a, c.b, ha == hb, c.same)
		}
	}
	if _, ok := sum(struct{ x []int }{}); ok {
		t.Error("a struct with no Valuer was hashed")
	}
}

// TestOwnerOfUnsetKeys: a row whose key is not set, as gorm's Save judges
// it, has no owner; a pointer to 0 is set.
func TestOwnerOfUnsetKeys(t *testing.T) {
	type pair struct {
		A string `gorm:"primaryKey"`
		B *int   `gorm:"primaryKey"`
	}
	s, err := schema.Parse(&pair{}, &sync.Map{}, schema.NamingStrategy{})
	if err != nil {
		t.Fatal(err)
	}
	col := &column{field: s.PrimaryFields[0], id: 1}
	zero := 0
	for _, c := range []struct {
		row   pair
		keyed bool
	}{
		{pair{"a", &zero}, true},
		{pair{"a", nil}, false},
		{pair{"", &zero}, false},
	} {
		o := col.owner(context.Background(), reflect.ValueOf(&c.row).Elem(), tableRef{})
		if o.Keyed() != c.keyed {
			t.Errorf("%+v: keyed %v, want %v", c.row, o.Keyed(), c.keyed)
		}
	}
}
