package thumbnails_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorm-thumbnails/thumbnails"
)

// BenchmarkHandler measures the handler on a cached thumbnail (a 100x100
// PNG that exists; the path a browser hits once the page is made): in
// process through ServeHTTP, and over loopback HTTP/1.1 with keep-alive and
// four clients per core, as a load tool would. It reports requests per
// second.
func BenchmarkHandler(b *testing.B) {
	db := openSQLite(b)
	setup(b, db, &Food{})
	food := newFood(b, "pizza", pizzaJPG)
	if err := db.Create(&food).Error; err != nil {
		b.Fatal(err)
	}
	small, err := food.Image.Thumbnail(context.Background(), "small")
	if err != nil {
		b.Fatal(err)
	}
	h := newHandler(b, db, thumbnails.HandlerOptions{})

	b.Run("in-process", func(b *testing.B) {
		req := httptest.NewRequest(http.MethodGet, small.URL, nil)
		b.ReportAllocs()
		n, start := 0, time.Now()
		for b.Loop() {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				b.Fatalf("status %d", w.Code)
			}
			n++
		}
		b.ReportMetric(float64(n)/time.Since(start).Seconds(), "req/s")
	})

	b.Run("loopback", func(b *testing.B) {
		srv := httptest.NewServer(h)
		defer srv.Close()
		client := srv.Client()
		client.Transport.(*http.Transport).MaxIdleConnsPerHost = 64
		url := srv.URL + small.URL
		b.SetParallelism(4)
		b.ReportAllocs()
		var n atomic.Int64
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				resp, err := client.Get(url)
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Errorf("status %d", resp.StatusCode)
					return
				}
				n.Add(1)
			}
		})
		b.ReportMetric(float64(n.Load())/time.Since(start).Seconds(), "req/s")
	})
}
