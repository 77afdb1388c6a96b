package fakes3_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"gocloud.dev/blob"

	"github.com/gorm-thumbnails/thumbnails/internal/fakes3"
)

// TestAge checks that Age dates an object in the past as a listing reports
// it, keeps its content and type, and leaves the clock as it was.
func TestAge(t *testing.T) {
	s := fakes3.New(t)
	ctx := context.Background()
	for _, key := range []string{"a/old.png", "a/new.png"} {
		if err := s.Bucket.WriteAll(ctx, key, []byte(key), &blob.WriterOptions{ContentType: "image/png"}); err != nil {
			t.Fatal(err)
		}
	}
	s.Age(t, "a/old.png", 2*time.Hour)
	if err := s.Bucket.WriteAll(ctx, "b/later.png", []byte("x"), nil); err != nil {
		t.Fatal(err)
	}

	mod := map[string]time.Time{}
	it := s.Bucket.List(nil)
	for {
		obj, err := it.Next(ctx)
		if err != nil {
			break
		}
		mod[obj.Key] = obj.ModTime
	}
	now := time.Now()
	if d := now.Sub(mod["a/old.png"]); d < 2*time.Hour-time.Minute || d > 2*time.Hour+time.Minute {
		t.Errorf("aged object listed as modified %v ago, want 2h", d)
	}
	for _, key := range []string{"a/new.png", "b/later.png"} {
		if d := now.Sub(mod[key]); d < -time.Minute || d > time.Minute {
			t.Errorf("%s listed as modified %v ago, want now", key, d)
		}
	}
	if b, err := s.Bucket.ReadAll(ctx, "a/old.png"); err != nil || string(b) != "a/old.png" {
		t.Errorf("aged content = %q, %v", b, err)
	}
	if a, err := s.Bucket.Attributes(ctx, "a/old.png"); err != nil || a.ContentType != "image/png" {
		t.Errorf("aged attributes = %+v, %v", a, err)
	}
	if keys := s.Keys(t); !slices.Equal(keys, []string{"a/new.png", "a/old.png", "b/later.png"}) {
		t.Errorf("Keys = %q", keys)
	}
}
