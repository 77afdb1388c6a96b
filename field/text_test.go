package field_test

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/gorm-thumbnails/thumbnails/field"
)

type row struct {
	ID    uint
	Image field.Image
}

func TestImageJSON(t *testing.T) {
	var stored field.Image
	if err := stored.Scan("foods/abc.jpg"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		img  field.Image
		want string
	}{
		{stored, `{"ID":1,"Image":"foods/abc.jpg"}`},
		{field.Image{}, `{"ID":1,"Image":""}`},
	} {
		b, err := json.Marshal(row{ID: 1, Image: tc.img})
		if err != nil || string(b) != tc.want {
			t.Errorf("Marshal = %s, %v; want %s", b, err, tc.want)
			continue
		}
		var back row
		if err := json.Unmarshal(b, &back); err != nil || back.Image.Name() != tc.img.Name() || back.Image.IsEmpty() != tc.img.IsEmpty() {
			t.Errorf("Unmarshal(%s) = %+v, %v", b, back, err)
		}
	}
	_, err := json.Marshal(row{Image: field.NewImage("a.jpg", strings.NewReader("x"))})
	if !errors.Is(err, field.ErrNotStored) {
		t.Errorf("Marshal of an upload not stored: %v; want ErrNotStored", err)
	}
}

func TestImageGob(t *testing.T) {
	var img field.Image
	if err := img.Scan("foods/abc.jpg"); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(row{ID: 2, Image: img}); err != nil {
		t.Fatal(err)
	}
	var back row
	if err := gob.NewDecoder(&buf).Decode(&back); err != nil || back.ID != 2 || back.Image.Name() != "foods/abc.jpg" {
		t.Fatalf("gob round trip: %+v, %v", back, err)
	}
}

func TestImageGoStringAndDiscarded(t *testing.T) {
	var stored field.Image
	if err := stored.Scan("foods/abc.jpg"); err != nil {
		t.Fatal(err)
	}
	for img, want := range map[*field.Image]string{
		&stored:          `field.Image{name: "foods/abc.jpg"}`,
		new(field.Image): `field.Image{name: ""}`,
	} {
		if got := fmt.Sprintf("%#v", *img); got != want {
			t.Errorf("%%#v = %s; want %s", got, want)
		}
	}
	up := field.NewImage("pizza.jpg", strings.NewReader("x"))
	if got := fmt.Sprintf("%#v", up); got != `field.Image{upload: "pizza.jpg"}` {
		t.Errorf("%%#v of an upload = %s", got)
	}
	if !errors.Is(field.ErrDiscarded, field.ErrNotStored) || strings.Contains(field.ErrDiscarded.Error(), "registered") {
		t.Errorf("ErrDiscarded = %q: want an ErrNotStored that does not ask whether the plugin is registered", field.ErrDiscarded)
	}
}
