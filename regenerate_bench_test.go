package thumbnails_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/gorm-thumbnails/thumbnails"
	"github.com/gorm-thumbnails/thumbnails/field"
)

// cpuTime returns the process's user + system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkRegenerate1000 regenerates small and medium for 1,000 rows of
// 600x400 photos on SQLite with local files, and reports rows per second
// and how busy the cores were (CPU time / wall time; 2.0 = both cores).
func BenchmarkRegenerate1000(b *testing.B) {
	db := openSQLite(b)
	setup(b, db, &Food{})
	data := photo(b, pizzaJPG)
	rows := make([]Food, 1000)
	for i := range rows {
		rows[i] = Food{Name: "food", Image: field.NewImage("p.jpg", reader(data))}
	}
	if err := db.CreateInBatches(&rows, 100).Error; err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	var cores float64
	for b.Loop() {
		start, cpu := time.Now(), cpuTime()
		c, err := thumbnails.Regenerate(context.Background(), db, &Food{}, thumbnails.RegenerateOptions{Sizes: []string{"small", "medium"}})
		if err != nil || c.Done != 1000 {
			b.Fatalf("%+v, %v", c, err)
		}
		cores = float64(cpuTime()-cpu) / float64(time.Since(start))
	}
	b.ReportMetric(float64(1000*b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(cores, "cores-busy")
}
