package main

import (
	"reflect"
	"testing"
)

func TestPrimaryKeys(t *testing.T) {
	got, err := primaryKeys("1, 2,abc-9")
	if want := []any{int64(1), int64(2), "abc-9"}; err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("primaryKeys: %#v, %v; want %#v", got, err, want)
	}
	if _, err := primaryKeys("1,,2"); err == nil {
		t.Error("an empty key is not an error")
	}
}

func TestShellWord(t *testing.T) {
	for in, want := range map[string]string{
		"17":                                   "17",
		"0b6f2a1c-5d7e-4f7a-9a51-2c1e0f3d9b10": "0b6f2a1c-5d7e-4f7a-9a51-2c1e0f3d9b10",
		"two words":                            "'two words'",
		"it's":                                 `'it'\''s'`,
		"":                                     "''",
	} {
		if got := shellWord(in); got != want {
			t.Errorf("shellWord(%q) = %s, want %s", in, got, want)
		}
	}
}
